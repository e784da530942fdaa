"""Messages the runtime itself publishes."""

from __future__ import annotations

from bus import message

__all__ = ["ActorFailed"]


@message("actor.failed")
class ActorFailed:
    """An actor raised: who, what, how often so far, and what the supervisor did about it."""

    actor: str
    error_type: str
    error: str
    traceback: str
    restarts: int
    action: str
