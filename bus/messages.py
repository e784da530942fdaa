"""The bus's own messages: dead letters and error replies."""

from __future__ import annotations

from bus.registry import message

__all__ = ["DeadLetter", "ErrorReply"]


@message("bus.dead_letter")
class DeadLetter:
    """A frame that could not be decoded for a subscriber, with why."""

    topic: str
    subscriber: str
    reason: str
    size: int
    sample: bytes


@message("bus.error_reply")
class ErrorReply:
    """A responder's answer when handling a request failed."""

    error_type: str
    error: str
