"""The bus's exceptions: one shallow tree, so callers can catch ``BusError`` or a precise case."""

from __future__ import annotations

__all__ = [
    "ActorStopped",
    "BusClosed",
    "BusError",
    "BusUnavailable",
    "DecodeError",
    "EncodeError",
    "FrameTooLarge",
    "NoResponders",
    "Reconnected",
    "RegistryError",
    "RequestFailed",
    "RequestTimeout",
]


class BusError(Exception):
    """Raised when the bus cannot do what was asked; the base of every bus exception."""


class RegistryError(BusError, TypeError):
    """Raised when a class cannot be registered as a message (not frozen, slotted, or bad field)."""


class EncodeError(BusError, ValueError):
    """Raised when a message cannot be encoded (unregistered type, bad value, frame too large)."""


class DecodeError(BusError, ValueError):
    """Raised when a frame does not decode: bad msgpack, unknown tag, wrong field count or type."""


class FrameTooLarge(EncodeError, DecodeError):
    """Raised when a frame is larger than the bus's ``max_frame_size``, on either side of a hop."""


class NoResponders(BusError, LookupError):
    """Raised at once when a request is sent to a topic that no subscriber listens to."""


class RequestTimeout(BusError, TimeoutError):
    """Raised when a request gets no reply within its timeout."""


class Reconnected(BusError, ConnectionError):
    """Raised when NATS reconnected while a request asked to be told waited for its reply: the
    request or its reply may have gone with the old connection, so it may be sent again."""


class RequestFailed(BusError):
    """Raised when the responder answered a request with an error instead of a reply."""


class ActorStopped(RequestFailed):
    """Raised when a request was pending on an actor that stopped or crashed before replying."""


class BusClosed(BusError):
    """Raised when publishing or requesting on a bus that has been closed."""


class BusUnavailable(BusError, ConnectionError):
    """Raised when a bus URL names no server that answers (or is not a bus URL at all)."""
