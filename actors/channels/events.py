"""Registers the event records (``fom.events.records``, defined once, without the bus) as bus
messages published on ``event.<type>``; the EventLog writes them as the event stream.

Each record's bus tag is its event ``type`` (its ``TYPE``). ``actor.failed``
(``fom.events.ActorFailed``) is registered by ``actors.messages``, next to the runtime that
publishes it; ``bus.dead_letter`` is the bus's own message, whose stream form decodes to
``fom.events.DeadLetterEvent``.
"""

from __future__ import annotations

from bus import register
from fom.events.records import (
    EpisodeFinished,
    LatencySummary,
    LevelInfo,
    PatternMerged,
    PatternRejected,
    PatternSummary,
    PlanDone,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
)

__all__ = [
    "EpisodeFinished",
    "LatencySummary",
    "LevelInfo",
    "PatternMerged",
    "PatternRejected",
    "PatternSummary",
    "PlanDone",
    "RunFinished",
    "RunStarted",
    "RunSummary",
    "TickEvent",
    "TipFinished",
    "TipShot",
    "TipStarted",
]

# Nested records first: a record's fields must be registered before the record itself.
for _cls in (
    LevelInfo,
    LatencySummary,
    PatternSummary,
    RunSummary,
    RunStarted,
    TickEvent,
    EpisodeFinished,
    TipStarted,
    TipShot,
    TipFinished,
    PatternMerged,
    PatternRejected,
    PlanDone,
    RunFinished,
):
    register(_cls.TYPE, _cls)
