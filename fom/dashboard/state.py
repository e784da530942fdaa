"""Fold FOM event records, one at a time, into what the dashboard shows: pure, synchronous,
bounded.

The counters and per-pattern statistics are ``fom.events.MatchStats``, the fold behind the run
summary; this module adds what only the dashboard draws (level, bot, engaged enemies, planned
paths, learning curves). Live, the dashboard actor folds the records the bus decoded; on
replay, each event dict is decoded to the same records first, so both give the same state.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from fom.dashboard.views import (
    CURVE_PARAMS,
    DEFAULT_MAX_CURVE_POINTS,
    Curve,
    EngagedEnemy,
    LevelView,
    PlannedPath,
    finite_params,
    weapon_of,
)
from fom.events import (
    MatchStats,
    PatternMerged,
    PatternStats,
    PlanDone,
    RawEvent,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
    decode_event,
)

__all__ = [
    "Curve",
    "DashboardState",
    "EngagedEnemy",
    "LevelView",
    "PatternStats",
    "PlannedPath",
    "weapon_of",
]

DEFAULT_KEEP_PATHS = 6
MAX_ENGAGED = 256
LATENCY_WINDOW = 2048


class DashboardState:
    """Everything the dashboard draws, folded from event records.

    Two ways in, one fold. `apply(event)` takes an event dict (a replayed JSONL/msgpack stream):
    it decodes it to its record (`fom.events.decode_event`; unknown or malformed events are
    kept raw and ignored, counted in `unknown_events`), tracks the header (`seq`, `tick`,
    `time`), then folds the record. A live feed of records already decoded (the dashboard actor)
    calls `fold` for each and `received` for the envelope counts, with no dict in between.

    Memory is bounded: curves are decimated, only the last `keep_paths` planned paths and at
    most `MAX_ENGAGED` engaged enemies are kept. The `run.finished` summary, when seen, gives
    the timings (decisions/s and latency), which are wall-clock and not in the other records.
    """

    def __init__(
        self,
        *,
        max_curve_points: int = DEFAULT_MAX_CURVE_POINTS,
        keep_paths: int = DEFAULT_KEEP_PATHS,
    ) -> None:
        """Create an empty state; `max_curve_points` caps each curve, `keep_paths` the paths."""
        self.max_curve_points = max_curve_points
        self.stats = MatchStats()
        self.level: LevelView | None = None
        self.config: dict[str, Any] = {}
        self.tick: int | None = None
        self.events = 0
        self.last_seq: int | None = None
        self.lost_events = 0
        self.reordered_events = 0
        self.first_time: float | None = None
        self.time: float | None = None
        self.self_node: int | None = None
        self.self_health: float | None = None
        self.visible_opponents: int | None = None
        self.enemies: dict[int, EngagedEnemy] = {}
        # (tick, encounter, weapon, nodes): PlannedPath objects are made when `paths` is read
        self._paths: deque[tuple[int, int | None, str, Sequence[int]]] = deque(
            maxlen=max(0, keep_paths)
        )
        self.curves: dict[str, Curve] = {}
        self.weapons: list[str] = []
        self._weapon_of: dict[str, str] = {}
        self.active_tips = 0
        self._tips: dict[str, None] = {}
        self._plan_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.summary: RunSummary | None = None

    @property
    def paths(self) -> tuple[PlannedPath, ...]:
        """The last `keep_paths` planned paths, oldest first."""
        return tuple(
            PlannedPath(tick, encounter, weapon, tuple(nodes))
            for tick, encounter, weapon, nodes in self._paths
        )

    # ---------------------------------------------------- the statistics (MatchStats)

    @property
    def patterns(self) -> dict[str, PatternStats]:
        """Per-pattern statistics and latest parameters, by signature."""
        return self.stats.patterns

    @property
    def shots(self) -> int:
        """Shots fired."""
        return self.stats.shots

    @property
    def hits(self) -> int:
        """Shots that hit."""
        return self.stats.hits

    @property
    def encounters(self) -> int:
        """Encounters finished."""
        return self.stats.encounters

    @property
    def decisions(self) -> int:
        """Decisions made (one per `tip.shot`)."""
        return self.stats.decisions

    @property
    def kills(self) -> int:
        """Encounters that ended with the enemy killed."""
        return self.stats.kills

    @property
    def damage_dealt(self) -> float:
        """Damage dealt by every shot."""
        return self.stats.damage_dealt

    @property
    def damage_taken(self) -> float:
        """Damage taken in every encounter."""
        return self.stats.damage_taken

    @property
    def max_active_tips(self) -> int:
        """The most TIPs that acted in one tick."""
        return self.stats.max_active_tips

    @property
    def failures(self) -> int:
        """Actor crashes."""
        return self.stats.failures

    @property
    def dead_letters(self) -> int:
        """Dead letters on the bus."""
        return self.stats.dead_letters

    @property
    def rejected_deltas(self) -> int:
        """Deltas the ULP refused."""
        return self.stats.rejected_deltas

    @property
    def unknown_events(self) -> int:
        """Events of an unknown type, or malformed: kept raw and ignored."""
        return self.stats.raw_events

    # -------------------------------------------------------------- event dicts

    @classmethod
    def from_events(
        cls, events: Iterable[Mapping[str, Any]], at_tick: int | None = None, **kwargs: int
    ) -> DashboardState:
        """Fold `events` (only those at or before `at_tick`, when given) into a new state."""
        state = cls(**kwargs)
        state.apply_all(events, at_tick=at_tick)
        return state

    def apply_all(self, events: Iterable[Mapping[str, Any]], at_tick: int | None = None) -> int:
        """Apply events in order, skipping those after `at_tick`; return how many were applied."""
        applied = 0
        current: int | None = None
        for event in events:
            if not isinstance(event, Mapping):
                continue
            tick = event.get("tick")
            current = tick if type(tick) is int else current
            if at_tick is not None and current is not None and current > at_tick:
                continue
            self.apply(event)
            applied += 1
        return applied

    def apply(self, event: Mapping[str, Any]) -> None:
        """Decode one event dict and fold it, header and record; anything that is not an event
        map is ignored."""
        if not isinstance(event, Mapping):
            return
        record, header = decode_event(event)
        self.events += 1
        self._sequence(header.seq)
        self.at_tick(header.tick)
        self.at_time(header.time)
        self.fold(record)

    # ----------------------------------------------------------------- envelope

    def _sequence(self, seq: int | None) -> None:
        """Track the event sequence number: gaps are lost events, going back is reordering."""
        if seq is None:
            return
        if self.last_seq is None:
            self.lost_events += max(0, seq)
            self.last_seq = seq
        elif seq > self.last_seq:
            self.lost_events += seq - self.last_seq - 1
            self.last_seq = seq
        else:
            self.reordered_events += 1

    def at_tick(self, tick: int | None) -> None:
        """Advance the current tick to `tick` (it never goes back)."""
        if tick is not None and (self.tick is None or tick > self.tick):
            self.tick = tick

    def at_time(self, time: float | None) -> None:
        """Widen the wall-clock span (seconds) of the events seen to include `time`."""
        if time is None or not math.isfinite(time):
            return
        if self.first_time is None or time < self.first_time:
            self.first_time = time
        if self.time is None or time > self.time:
            self.time = time

    def received(self, count: int, time: float | None = None) -> None:
        """Count `count` more events of a gap-free live feed, the last seen at `time` (s)."""
        if count <= 0:
            return
        self.events += count
        self.last_seq = count - 1 if self.last_seq is None else self.last_seq + count
        self.at_time(time)

    # ------------------------------------------------------------------ folding

    def fold(self, record: Any) -> None:
        """Fold one record: the statistics (MatchStats), then what only the dashboard draws."""
        self.stats.fold(record)
        match record:  # the most frequent first
            case TipShot():
                self.at_tick(record.tick)
                self._tip_shot(record)
            case TickEvent():
                self.at_tick(record.tick)
                self.self_node = record.self_node
                if math.isfinite(record.self_health):
                    self.self_health = record.self_health
                self.visible_opponents = record.opponents
                self.active_tips = max(0, record.active_tips)
            case PlanDone(elapsed_ms=elapsed_ms):
                self.at_tick(record.tick)
                if math.isfinite(elapsed_ms) and elapsed_ms >= 0:
                    self._plan_ms.append(elapsed_ms)
            case TipStarted():
                self.at_tick(record.tick)
                self._tip_started(record)
            case TipFinished():
                self.at_tick(record.tick)
                self._weapon(record.signature)
                self.enemies.pop(record.encounter, None)
                if record.tip in self._tips:
                    del self._tips[record.tip]
                    self.active_tips = len(self._tips)
            case PatternMerged():
                self.at_tick(record.tick)
                self._weapon(record.signature)
                self._curve_point(record.signature, record.params)
            case RunStarted():
                self.at_tick(record.tick)
                self._run_started(record)
            case RunFinished():
                self.at_tick(record.tick)
                self.summary = record.summary
                self._tips.clear()
                self.active_tips = 0
                self.enemies.clear()
            case RawEvent():
                pass
            case _:  # pattern.rejected, actor.failed, ...: counted by the statistics
                tick = getattr(record, "tick", None)
                if type(tick) is int:
                    self.at_tick(tick)

    def _now(self) -> int:
        """The current tick (0 before any tick was seen)."""
        return self.tick if self.tick is not None else 0

    def _weapon(self, signature: str, weapon: str | None = None) -> str:
        """The weapon of a signature (or the one given), registered in order for colours."""
        if weapon is None:
            weapon = self._weapon_of.get(signature)
            if weapon is not None:
                return weapon
            weapon = self._weapon_of[signature] = weapon_of(signature)
        if weapon not in self.weapons:
            self.weapons.append(weapon)
        return weapon

    def _curve_point(self, signature: str, params: Mapping[str, float]) -> None:
        """Append the pattern's current curve parameters at the current tick."""
        clean = finite_params(params)
        if not any(name in clean for name in CURVE_PARAMS):
            return
        curve = self.curves.get(signature)
        if curve is None:
            curve = self.curves[signature] = Curve(self.max_curve_points)
        curve.add(self._now(), *(clean.get(name, math.nan) for name in CURVE_PARAMS))

    def _run_started(self, record: RunStarted) -> None:
        """Level, config and starting pattern parameters."""
        level = LevelView.from_info(record.level)
        if level is not None:
            self.level = level
        self.config = dict(record.config)
        for signature, params in record.patterns.items():
            self._weapon(signature)
            self._curve_point(signature, params)

    def _tip_started(self, record: TipStarted) -> None:
        """A new engaged enemy and active TIP."""
        weapon = self._weapon(record.signature, record.weapon)
        enemies = self.enemies
        enemies.pop(record.encounter, None)
        enemies[record.encounter] = EngagedEnemy(
            record.encounter, record.tip, weapon, record.signature, record.enemy_node,
            record.floor, self._now(),
        )
        while len(enemies) > MAX_ENGAGED:
            enemies.pop(next(iter(enemies)))
        self.self_node = record.self_node
        tips = self._tips
        tips[record.tip] = None
        while len(tips) > MAX_ENGAGED:
            tips.pop(next(iter(tips)))
        self.active_tips = len(tips)

    def _tip_shot(self, record: TipShot) -> None:
        """Bot and enemy position, the planned path (node indices)."""
        weapon = self._weapon_of.get(record.signature) or self._weapon(record.signature)
        self.self_node = record.self_node
        encounter = record.encounter
        enemy = self.enemies.get(encounter)
        if enemy is None and len(self.enemies) < MAX_ENGAGED:
            enemy = self.enemies[encounter] = EngagedEnemy(
                encounter, record.tip, weapon, record.signature, record.enemy_node, None,
                self._now(),
            )
        if enemy is not None:
            enemy.node = record.enemy_node
        path = record.path
        if path and self._paths.maxlen:
            self._paths.append((self._now(), encounter, weapon, path))

    # ------------------------------------------------------------------ derived

    @property
    def finished(self) -> bool:
        """Whether `run.finished` was seen."""
        return self.summary is not None

    @property
    def accuracy(self) -> float | None:
        """Overall hits / shots, or None before the first shot."""
        return self.stats.accuracy

    @property
    def elapsed_s(self) -> float | None:
        """Wall-clock seconds between the first and the last event, when known."""
        if self.first_time is None or self.time is None:
            return None
        return self.time - self.first_time

    @property
    def decisions_per_s(self) -> float | None:
        """From the summary, else decisions over the elapsed wall-clock time (an estimate)."""
        if self.summary is not None:
            return self.summary.decisions_per_s
        elapsed = self.elapsed_s
        if not elapsed or elapsed <= 0 or not self.decisions:
            return None
        return self.decisions / elapsed

    def _latency(self, q: float) -> float | None:
        """A latency percentile in ms: the summary's, else of the latest decisions' latencies,
        else of the logged plan times (recordings whose decisions carry no latency)."""
        if self.summary is not None:
            lat = self.summary.latency_ms
            return lat.p50 if q == 50.0 else lat.p99
        recent = self.stats.latencies_ms.values(LATENCY_WINDOW)
        if not recent.any():
            if not self._plan_ms:
                return None
            recent = np.fromiter(self._plan_ms, dtype=np.float64)
        return float(np.percentile(recent, q))

    @property
    def latency_p50_ms(self) -> float | None:
        """Median decision latency (ms): the summary's, else estimated from the events."""
        return self._latency(50.0)

    @property
    def latency_p99_ms(self) -> float | None:
        """99th-percentile decision latency (ms), like `latency_p50_ms`."""
        return self._latency(99.0)

    @property
    def timings_estimated(self) -> bool:
        """True while decisions/s and latency are derived from events, not from the summary."""
        return self.summary is None
