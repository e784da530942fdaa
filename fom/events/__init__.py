"""The event stream: its typed records, writing and reading it, and the one statistics fold.

- ``records``: every event type as a frozen, slotted dataclass with its stable ``TYPE`` tag;
- ``codec``: a record to its event dict and back (``decode_event``; unknown or malformed
  events become a ``RawEvent``);
- ``writer`` / ``reader``: JSONL or msgpack files;
- ``stats``: ``MatchStats``, the fold behind the run summary, the dashboard and the experiments.
"""

from fom.events.codec import Header, decode_event, decode_record, event_dict, to_plain
from fom.events.order import TYPE_RANK, TickOrder, order_key
from fom.events.reader import (
    EventStreamError,
    EventStreamWarning,
    MalformedEventWarning,
    TruncatedStreamWarning,
    decode_events,
    detect_format,
    read_events,
    read_records,
)
from fom.events.records import (
    EVENT_TYPES,
    RECORD_TYPES,
    ActorFailed,
    DeadLetterEvent,
    EpisodeFinished,
    LatencySummary,
    LevelInfo,
    PatternMerged,
    PatternRejected,
    PatternSummary,
    PlanDone,
    RawEvent,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
)
from fom.events.stats import MatchStats, PatternStats
from fom.events.writer import WALLCLOCK_FIELDS, EventWriter, open_event_writer, strip_wallclock

__all__ = [
    "EVENT_TYPES",
    "RECORD_TYPES",
    "TYPE_RANK",
    "WALLCLOCK_FIELDS",
    "ActorFailed",
    "DeadLetterEvent",
    "EpisodeFinished",
    "EventStreamError",
    "EventStreamWarning",
    "EventWriter",
    "Header",
    "LatencySummary",
    "LevelInfo",
    "MalformedEventWarning",
    "MatchStats",
    "PatternMerged",
    "PatternRejected",
    "PatternStats",
    "PatternSummary",
    "PlanDone",
    "RawEvent",
    "RunFinished",
    "RunStarted",
    "RunSummary",
    "TickEvent",
    "TickOrder",
    "TipFinished",
    "TipShot",
    "TipStarted",
    "TruncatedStreamWarning",
    "decode_event",
    "decode_events",
    "decode_record",
    "detect_format",
    "event_dict",
    "open_event_writer",
    "order_key",
    "read_events",
    "read_records",
    "strip_wallclock",
    "to_plain",
]
