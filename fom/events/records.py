"""Every event of the stream as one typed record, defined once (no bus here).

Each record is a frozen, slotted dataclass whose ``TYPE`` is its stable tag: the event's
``type`` in a recording, and its tag on the bus (``actors.channels.events`` registers them).
Fields named in ``fom.events.WALLCLOCK_FIELDS`` depend on the machine's speed; everything else
is a function of the seed and the configuration. Fields added after a stream format was in
use have defaults, so older recordings still decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from fom.level import CanonicalLevel

__all__ = [
    "EVENT_TYPES",
    "RECORD_TYPES",
    "ActorFailed",
    "DeadLetterEvent",
    "EpisodeFinished",
    "LatencySummary",
    "LevelInfo",
    "PatternMerged",
    "PatternRejected",
    "PatternSummary",
    "PlanDone",
    "RawEvent",
    "RunFinished",
    "RunStarted",
    "RunSummary",
    "TickEvent",
    "TipFinished",
    "TipShot",
    "TipStarted",
]

_record = dataclass(frozen=True, slots=True)


@_record
class LevelInfo:
    """The canonical level as a consumer (the dashboard) draws it."""

    TYPE: ClassVar[str] = "run.level"
    positions: tuple[tuple[float, float, float], ...]
    cover: tuple[float, ...]
    edges: tuple[tuple[int, int], ...]
    floor_height: float
    lines: tuple[tuple[float, float, float, float], ...] = ()
    """A real map's lines (x1, y1, x2, y2, in the positions' units), for drawing; () if none."""

    @classmethod
    def of(cls, level: CanonicalLevel, lines: Any = ()) -> LevelInfo:
        """The record of ``level`` (and a real map's ``lines``, rows of x1, y1, x2, y2)."""
        return cls(
            positions=tuple(tuple(p) for p in level.positions.tolist()),
            cover=tuple(level.cover.tolist()),
            edges=tuple((int(a), int(b)) for a, b in level.edges),
            floor_height=float(level.floor_height),
            lines=tuple(tuple(line) for line in lines),
        )

    def to_level(self) -> CanonicalLevel:
        """The level this record describes."""
        from fom.level import CanonicalLevel

        return CanonicalLevel(
            np.array(self.positions, dtype=np.float64), np.array(self.cover, dtype=np.float64),
            self.edges, self.floor_height,
        )  # fmt: skip


@_record
class RunStarted:
    """The run's configuration, level and starting pattern parameters."""

    TYPE: ClassVar[str] = "run.started"
    tick: int
    config: dict[str, str | int | float | bool | None]
    level: LevelInfo
    patterns: dict[str, dict[str, float]]


@_record
class TickEvent:
    """One tick resolved: where the bot is, how many opponents are alive, how many TIPs acted."""

    TYPE: ClassVar[str] = "world.tick"
    tick: int
    self_node: int
    self_health: float
    opponents: int
    active_tips: int


@_record
class EpisodeFinished:
    """An episode of a real game (a floor's ViZDoom episode) ended; the next one starts."""

    TYPE: ClassVar[str] = "world.episode"
    tick: int
    floor: int
    episode: int
    reward: float
    """The game's own episode reward (ViZDoom's total reward)."""
    kills: int
    died: bool
    patterns: tuple[str, ...]
    """The patterns of the encounters fought in the episode."""
    shots: int = 0
    hits: int = 0
    damage_taken: float = 0.0
    """The bot's health lost in the episode (to monsters or anything else)."""


@_record
class TipStarted:
    """A TIP took on an encounter."""

    TYPE: ClassVar[str] = "tip.started"
    tick: int
    tip: str
    encounter: int
    signature: str
    weapon: str
    self_node: int
    enemy_node: int
    floor: int
    params: dict[str, float]


@_record
class TipShot:
    """One decision of an encounter: the planned path, the shot, what the tick cost, and the
    wall-clock latency of the decision (``latency_ms``)."""

    TYPE: ClassVar[str] = "tip.shot"
    tick: int
    tip: str
    encounter: int
    signature: str
    fired: bool
    hit: bool
    error: float
    damage: float
    aim_offset: float
    flank_bias: float
    self_node: int
    enemy_node: int
    path: tuple[int, ...]
    exposure: float
    damage_taken: float
    latency_ms: float = 0.0
    refire: bool = False
    """The shot went off with the trigger held since the decision before (Doom's refire)."""


@_record
class TipFinished:
    """An encounter ended; ``delta`` is what its TIP sent to the ULP."""

    TYPE: ClassVar[str] = "tip.finished"
    tick: int
    tip: str
    encounter: int
    signature: str
    reason: str
    shots: int
    hits: int
    damage_taken: float
    exposure: float
    ticks: int
    delta: dict[str, float]
    compute_flops: int = 0


@_record
class PatternMerged:
    """The ULP merged a delta into a pattern."""

    TYPE: ClassVar[str] = "pattern.merged"
    tick: int
    signature: str
    version: int
    merges: int
    params: dict[str, float]
    delta: dict[str, float]


@_record
class PatternRejected:
    """The ULP refused a delta (non-finite or wrongly shaped); the pattern is untouched."""

    TYPE: ClassVar[str] = "pattern.rejected"
    tick: int
    signature: str
    tip: str
    reason: str


@_record
class PlanDone:
    """The walker pool planned one request: published once per request, so ``requests`` is 1
    (``elapsed_ms`` is the request's share of the batch it was planned in)."""

    TYPE: ClassVar[str] = "plan.done"
    tick: int
    planner: str
    requests: int
    walkers: int
    samples: int
    depth: float
    elapsed_ms: float


@_record
class ActorFailed:
    """An actor raised: who, what, how often so far, and what the supervisor did about it."""

    TYPE: ClassVar[str] = "actor.failed"
    actor: str
    error_type: str
    error: str
    traceback: str
    restarts: int
    action: str


@_record
class DeadLetterEvent:
    """A bus frame that could not be decoded for a subscriber (``sample`` as hex text)."""

    TYPE: ClassVar[str] = "bus.dead_letter"
    topic: str
    subscriber: str
    reason: str
    size: int
    sample: str


@_record
class LatencySummary:
    """Decision latency percentiles in milliseconds (wall clock)."""

    TYPE: ClassVar[str] = "run.latency"
    p50: float
    p99: float


@_record
class PatternSummary:
    """One pattern's totals and its learned parameters."""

    TYPE: ClassVar[str] = "run.pattern_summary"
    encounters: int
    shots: int
    hits: int
    accuracy: float
    params: dict[str, float]
    kills: int = 0
    deaths: int = 0
    damage_dealt: float = 0.0
    damage_taken: float = 0.0
    episodes: int = 0
    """Episodes of a real game in which this pattern was fought (0 in simulated worlds)."""
    episode_reward: float = 0.0
    """The mean game reward of those episodes."""


@_record
class RunSummary:
    """What the console summary shows; the ``summary`` of ``run.finished``."""

    TYPE: ClassVar[str] = "run.summary"
    ticks: int
    encounters: int
    unfinished: int
    failed_tips: int
    shots: int
    hits: int
    accuracy: float
    damage_taken: float
    exposure: float
    deaths: int
    max_active_tips: int
    decisions: int
    decisions_per_s: float
    latency_ms: LatencySummary
    compute_flops: int
    wall_s: float
    patterns: dict[str, PatternSummary]
    kills: int = 0
    damage_dealt: float = 0.0
    timeouts: int = 0
    episodes: int = 0
    """Episodes of a real game that ended (0 in simulated worlds)."""
    episode_deaths: int = 0
    """Of those, the ones the bot died in."""
    episode_reward: float = 0.0
    """The game's mean reward per ended episode."""


@_record
class RunFinished:
    """The run is over (its last tick, or interrupted)."""

    TYPE: ClassVar[str] = "run.finished"
    tick: int
    interrupted: bool
    summary: RunSummary


@_record
class RawEvent:
    """An event that is not one of the records above (unknown type, or malformed): kept as it
    was read, with why; every fold ignores it (and counts it)."""

    TYPE: ClassVar[str] = "raw"
    type: str | None
    fields: dict[str, Any]
    reason: str


EVENT_TYPES: dict[str, type] = {
    cls.TYPE: cls
    for cls in (
        RunStarted,
        TickEvent,
        EpisodeFinished,
        TipStarted,
        TipShot,
        TipFinished,
        PatternMerged,
        PatternRejected,
        PlanDone,
        ActorFailed,
        DeadLetterEvent,
        RunFinished,
    )
}
"""The records that are events of the stream, by ``type``."""

RECORD_TYPES: dict[str, type] = {
    **EVENT_TYPES,
    **{cls.TYPE: cls for cls in (LevelInfo, LatencySummary, PatternSummary, RunSummary)},
}
"""Every record with a tag, nested ones (parts of an event) included."""
