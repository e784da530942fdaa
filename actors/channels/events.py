"""Telemetry records published on ``event.<type>``; the EventLog writes them as the event stream.

Each record's tag is its event ``type``. Fields named in ``WALLCLOCK_FIELDS`` depend on the
machine's speed; everything else is a function of the seed and the configuration.
"""

from __future__ import annotations

from bus import message

__all__ = [
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

@message("run.level")
class LevelInfo:
    """The canonical level as a consumer (the dashboard) draws it."""

    positions: tuple[tuple[float, float, float], ...]
    cover: tuple[float, ...]
    edges: tuple[tuple[int, int], ...]
    floor_height: float


@message("run.started")
class RunStarted:
    """The run's configuration, level and starting pattern parameters."""

    tick: int
    config: dict[str, str | int | float | bool | None]
    level: LevelInfo
    patterns: dict[str, dict[str, float]]


@message("world.tick")
class TickEvent:
    """One tick resolved: where the bot is, how many opponents are alive, how many TIPs acted."""

    tick: int
    self_node: int
    self_health: float
    opponents: int
    active_tips: int


@message("tip.started")
class TipStarted:
    """A TIP took on an encounter."""

    tick: int
    tip: str
    encounter: int
    signature: str
    weapon: str
    self_node: int
    enemy_node: int
    floor: int
    params: dict[str, float]


@message("tip.shot")
class TipShot:
    """One tick of an encounter: the planned path, the shot and what the tick cost."""

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


@message("tip.finished")
class TipFinished:
    """An encounter ended; ``delta`` is what its TIP sent to the ULP."""

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


@message("pattern.merged")
class PatternMerged:
    """The ULP merged a delta into a pattern."""

    tick: int
    signature: str
    version: int
    merges: int
    params: dict[str, float]
    delta: dict[str, float]


@message("pattern.rejected")
class PatternRejected:
    """The ULP refused a delta (non-finite or wrongly shaped); the pattern is untouched."""

    tick: int
    signature: str
    tip: str
    reason: str


@message("plan.done")
class PlanDone:
    """The walker pool answered a micro-batch of plan requests."""

    tick: int
    planner: str
    requests: int
    walkers: int
    samples: int
    depth: float
    elapsed_ms: float


@message("run.latency")
class LatencySummary:
    """Decision latency percentiles in milliseconds (wall clock)."""

    p50: float
    p99: float


@message("run.pattern_summary")
class PatternSummary:
    """One pattern's totals and its learned parameters."""

    encounters: int
    shots: int
    hits: int
    accuracy: float
    params: dict[str, float]


@message("run.summary")
class RunSummary:
    """What the console summary shows; the ``summary`` of ``run.finished``."""

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


@message("run.finished")
class RunFinished:
    """The run is over (its last tick, or interrupted)."""

    tick: int
    interrupted: bool
    summary: RunSummary
