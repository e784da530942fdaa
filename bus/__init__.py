"""FOM's message bus: typed messages, msgpack frames, topics with wildcards, mailboxes, requests.

It knows nothing of games or learning; ``actors`` and ``fom`` build on it.
"""

from bus.bus import DEAD_LETTER_TOPIC, Bus, BusStats, Subscription
from bus.codec import NDARRAY_EXT, Codec, Envelope, decode_ndarray, encode_ndarray
from bus.errors import (
    ActorStopped,
    BusClosed,
    BusError,
    BusUnavailable,
    DecodeError,
    EncodeError,
    FrameTooLarge,
    NoResponders,
    Reconnected,
    RegistryError,
    RequestFailed,
    RequestTimeout,
)
from bus.mailbox import Mailbox, Overflow
from bus.messages import DeadLetter, ErrorReply
from bus.registry import MessageSpec, Registry, default_registry, message, register
from bus.topics import TopicTrie, match, validate_pattern, validate_topic
from bus.transport import open_bus

__all__ = [
    "DEAD_LETTER_TOPIC",
    "NDARRAY_EXT",
    "ActorStopped",
    "Bus",
    "BusClosed",
    "BusError",
    "BusStats",
    "BusUnavailable",
    "Codec",
    "DeadLetter",
    "DecodeError",
    "EncodeError",
    "Envelope",
    "ErrorReply",
    "FrameTooLarge",
    "Mailbox",
    "MessageSpec",
    "NoResponders",
    "Overflow",
    "Reconnected",
    "Registry",
    "RegistryError",
    "RequestFailed",
    "RequestTimeout",
    "Subscription",
    "TopicTrie",
    "decode_ndarray",
    "default_registry",
    "encode_ndarray",
    "match",
    "message",
    "open_bus",
    "register",
    "validate_pattern",
    "validate_topic",
]
