"""Fold FOM events, one at a time, into what the dashboard shows: pure, synchronous, bounded."""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

__all__ = [
    "Curve",
    "DashboardState",
    "EngagedEnemy",
    "LevelView",
    "PatternStats",
    "PlannedPath",
    "weapon_of",
]

DEFAULT_MAX_CURVE_POINTS = 1000
DEFAULT_KEEP_PATHS = 6
MAX_ENGAGED = 256
LATENCY_WINDOW = 2048
CURVE_PARAMS = ("aim_offset", "flank_bias")


def weapon_of(signature: str) -> str:
    """Weapon name of a `combat/<weapon>` signature (the signature itself for other kinds)."""
    _, sep, rest = signature.partition("/")
    return rest if sep and rest else signature


def _int(value: object) -> int | None:
    """An int from an event field, or None when absent or of the wrong type."""
    t = type(value)
    if t is int:
        return value  # type: ignore[return-value]
    if value is None or t is str:
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f) and f.is_integer():
            return int(f)
    return None


def _float(value: object) -> float | None:
    """A finite float from an event field, or None when absent, non-finite or of the wrong type."""
    t = type(value)
    if t is float or t is int:
        f = float(value)  # type: ignore[arg-type]
        return f if math.isfinite(f) else None
    if value is None or t is str:
        return None
    if isinstance(value, numbers.Real):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _str(value: object) -> str | None:
    """A string from an event field, or None."""
    return value if isinstance(value, str) else None


def _bool(value: object) -> bool | None:
    """A bool from an event field (also 0/1), or None."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    return None


def _params(value: object) -> dict[str, float]:
    """The finite numeric entries of a {name: value} mapping."""
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, float] = {}
    for name, raw in value.items():
        f = _float(raw)
        if isinstance(name, str) and f is not None:
            out[name] = f
    return out


def _path(value: object) -> tuple[int, ...] | None:
    """The valid node indices of a `path` field, or None when it is not a list."""
    if not isinstance(value, list | tuple):
        return None
    return tuple(n for n in (_int(x) for x in value) if n is not None)


def _finite(value: float | None) -> TypeGuard[float]:
    """Whether `value` is a finite number (not None, NaN or infinite)."""
    return value is not None and math.isfinite(value)


@dataclass(frozen=True, slots=True, eq=False)
class LevelView:
    """The canonical level as announced by `run.started`: node positions, cover and edges."""

    positions: np.ndarray  # (n, 3) float64
    cover: np.ndarray  # (n,) float64 in [0, 1]
    edges: np.ndarray  # (m, 2) int64, valid node indices only
    floor_height: float

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.positions.shape[0])

    def has_node(self, node: int | None) -> bool:
        """Whether `node` is a valid index into this level."""
        return node is not None and 0 <= node < self.n

    @classmethod
    def from_event(cls, data: object) -> LevelView | None:
        """Parse the `level` field of `run.started`; None when it is missing or unusable."""
        if not isinstance(data, Mapping):
            return None
        try:
            positions = np.asarray(data.get("positions"), dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if positions.ndim != 2 or positions.shape[0] == 0 or positions.shape[1] < 2:
            return None
        if positions.shape[1] == 2:
            positions = np.column_stack([positions, np.zeros(len(positions))])
        positions = np.nan_to_num(positions[:, :3].copy())
        n = positions.shape[0]
        cover = np.full(n, 0.5)
        raw_cover = data.get("cover")
        if isinstance(raw_cover, list | tuple) and len(raw_cover) == n:
            for i, c in enumerate(raw_cover):
                f = _float(c)
                if f is not None:
                    cover[i] = min(max(f, 0.0), 1.0)
        edges = []
        raw_edges = data.get("edges")
        if isinstance(raw_edges, list | tuple):
            for edge in raw_edges:
                if isinstance(edge, list | tuple) and len(edge) == 2:
                    a, b = _int(edge[0]), _int(edge[1])
                    if a is not None and b is not None and 0 <= a < n and 0 <= b < n:
                        edges.append((a, b))
        edge_arr = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        height = _float(data.get("floor_height")) or 0.0
        for arr in (positions, cover, edge_arr):
            arr.setflags(write=False)
        return cls(positions, cover, edge_arr, height)


class Curve:
    """Learning curve of one pattern: (tick, aim_offset, flank_bias), decimated to at most a cap.

    Samples are kept at a uniform stride over merges; when the cap is exceeded every other kept
    sample is dropped and the stride doubles, so memory stays bounded and the whole run stays
    visible. The latest sample is always available, so the curve ends at the current value.
    """

    __slots__ = ("_count", "_last", "_stride", "aim_offset", "flank_bias", "max_points", "ticks")

    def __init__(self, max_points: int = DEFAULT_MAX_CURVE_POINTS) -> None:
        """Create an empty curve holding at most `max_points` (>= 2) decimated samples."""
        self.max_points = max(2, int(max_points))
        self.ticks: list[float] = []
        self.aim_offset: list[float] = []
        self.flank_bias: list[float] = []
        self._stride = 1
        self._count = 0
        self._last: tuple[float, float, float] | None = None

    def add(self, tick: float, aim_offset: float, flank_bias: float) -> None:
        """Record one sample (NaN marks a parameter the event did not carry)."""
        sample = (float(tick), float(aim_offset), float(flank_bias))
        self._last = sample
        if self._count % self._stride == 0:
            self.ticks.append(sample[0])
            self.aim_offset.append(sample[1])
            self.flank_bias.append(sample[2])
            if len(self.ticks) > self.max_points:
                self.ticks = self.ticks[::2]
                self.aim_offset = self.aim_offset[::2]
                self.flank_bias = self.flank_bias[::2]
                self._stride *= 2
        self._count += 1

    def __len__(self) -> int:
        """Number of stored samples (not counting a pending latest one)."""
        return len(self.ticks)

    @property
    def latest(self) -> tuple[float, float, float] | None:
        """The most recent (tick, aim_offset, flank_bias), decimated away or not."""
        return self._last

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ticks, aim_offset, flank_bias) arrays ending with the latest sample."""
        ticks, aim, flank = list(self.ticks), list(self.aim_offset), list(self.flank_bias)
        last = self._last
        if last is not None and (not ticks or (ticks[-1], aim[-1], flank[-1]) != last):
            ticks.append(last[0])
            aim.append(last[1])
            flank.append(last[2])
        return np.asarray(ticks), np.asarray(aim), np.asarray(flank)


@dataclass(slots=True)
class PatternStats:
    """Per-pattern counters and the latest parameters."""

    shots: int = 0
    hits: int = 0
    encounters: int = 0
    version: int = 0
    params: dict[str, float] = field(default_factory=dict)

    @property
    def accuracy(self) -> float | None:
        """hits / shots, or None before the first shot."""
        return self.hits / self.shots if self.shots else None


@dataclass(slots=True)
class EngagedEnemy:
    """An enemy currently engaged by a TIP, as last reported."""

    encounter: int | None
    tip: str | None
    weapon: str
    signature: str
    node: int | None
    floor: int | None
    since: int


@dataclass(frozen=True, slots=True)
class PlannedPath:
    """One planned path from a `tip.shot` event."""

    tick: int
    encounter: int | None
    weapon: str
    nodes: tuple[int, ...]


class DashboardState:
    """Everything the dashboard draws, folded from events.

    Two ways in, one folding logic. `apply(event)` takes an event as a plain dict (a replayed
    JSONL/msgpack stream): it tracks the envelope (`seq`, `tick`, `time`), checks the fields
    (unknown event types and fields are ignored, missing or mistyped fields never raise) and
    hands them to the typed `fold_*` methods. A live feed whose values are already typed (the
    dashboard actor, from the decoded bus records) calls `at_tick`, the `fold_*` methods and
    `received` directly, without building a dict or checking each field again.

    Memory is bounded: curves are decimated, only the last `keep_paths` planned paths and at
    most `MAX_ENGAGED` engaged enemies are kept. The `run.finished` summary, when seen,
    overrides the derived totals.
    """

    def __init__(
        self,
        *,
        max_curve_points: int = DEFAULT_MAX_CURVE_POINTS,
        keep_paths: int = DEFAULT_KEEP_PATHS,
    ) -> None:
        """Create an empty state; `max_curve_points` caps each curve, `keep_paths` the paths."""
        self.max_curve_points = max_curve_points
        self.level: LevelView | None = None
        self.config: dict[str, Any] = {}
        self.tick: int | None = None
        self.events = 0
        self.unknown_events = 0
        self.last_seq: int | None = None
        self.lost_events = 0
        self.reordered_events = 0
        self.first_time: float | None = None
        self.time: float | None = None
        self.self_node: int | None = None
        self.self_health: float | None = None
        self.visible_opponents: int | None = None
        self.enemies: dict[object, EngagedEnemy] = {}
        # (tick, encounter, weapon, nodes): PlannedPath objects are made when `paths` is read
        self._paths: deque[tuple[int, int | None, str, Sequence[int]]] = deque(
            maxlen=max(0, keep_paths)
        )
        self.curves: dict[str, Curve] = {}
        self.patterns: dict[str, PatternStats] = {}
        self.weapons: list[str] = []
        self._weapon_of: dict[str, str] = {}
        self.shots = 0
        self.hits = 0
        self.encounters = 0
        self.damage_taken = 0.0
        self.active_tips = 0
        self._tips: dict[str, None] = {}
        self.max_active_tips = 0
        self.failures = 0
        self.dead_letters = 0
        self.rejected_deltas = 0
        self.plans = 0
        self.planned_requests = 0
        self._plan_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.summary: dict[str, Any] | None = None
        self._handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "run.started": self._on_run_started,
            "world.tick": self._on_world_tick,
            "tip.started": self._on_tip_started,
            "tip.shot": self._on_tip_shot,
            "tip.finished": self._on_tip_finished,
            "pattern.merged": self._on_pattern_merged,
            "pattern.rejected": self._on_pattern_rejected,
            "plan.done": self._on_plan_done,
            "actor.failed": self._on_actor_failed,
            "bus.dead_letter": self._on_dead_letter,
            "run.finished": self._on_run_finished,
        }

    @property
    def paths(self) -> tuple[PlannedPath, ...]:
        """The last `keep_paths` planned paths, oldest first."""
        return tuple(
            PlannedPath(tick, encounter, weapon, tuple(nodes))
            for tick, encounter, weapon, nodes in self._paths
        )

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
            tick = _int(event.get("tick"))
            current = tick if tick is not None else current
            if at_tick is not None and current is not None and current > at_tick:
                continue
            self.apply(event)
            applied += 1
        return applied

    def apply(self, event: Mapping[str, Any]) -> None:
        """Fold one event dict, envelope and fields; anything unknown or malformed is ignored."""
        if not isinstance(event, Mapping):
            return
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        self.events += 1
        self._sequence(_int(event.get("seq")))
        self.at_tick(_int(event.get("tick")))
        self.at_time(_float(event.get("time")))
        self.fold_fields(kind, event)

    def fold_fields(self, kind: str, event: Mapping[str, Any]) -> None:
        """Fold the fields of one event of type `kind`; its envelope keys are not looked at."""
        handler = self._handlers.get(kind)
        if handler is None:
            self.unknown_events += 1
            return
        handler(event)

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
        """Advance the current tick to `tick` (it never goes back); call before folding fields."""
        if tick is not None and (self.tick is None or tick > self.tick):
            self.tick = tick

    def at_time(self, time: float | None) -> None:
        """Widen the wall-clock span (seconds) of the events seen to include `time`."""
        if time is None:
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

    # ------------------------------------------------------------------ helpers

    def _now(self) -> int:
        """The current tick (0 before any tick was seen)."""
        return self.tick if self.tick is not None else 0

    def _weapon(self, weapon: str | None, signature: str | None) -> tuple[str, str]:
        """(weapon, signature) completed from each other, the weapon registered for colours."""
        if weapon is None:
            if signature is None:
                weapon = "unknown"
            else:
                weapon = self._weapon_of.get(signature)
                if weapon is None:
                    weapon = self._weapon_of[signature] = weapon_of(signature)
        if signature is None:
            signature = f"combat/{weapon}"
        if weapon not in self.weapons:
            self.weapons.append(weapon)
        return weapon, signature

    def _pattern(self, signature: str) -> PatternStats:
        """The stats of a pattern, created on first mention."""
        stats = self.patterns.get(signature)
        if stats is None:
            stats = self.patterns[signature] = PatternStats()
            self._weapon(None, signature)
        return stats

    def _curve_point(self, signature: str, params: Mapping[str, float]) -> None:
        """Append the pattern's current curve parameters at the current tick."""
        if not any(name in params for name in CURVE_PARAMS):
            return
        curve = self.curves.get(signature)
        if curve is None:
            curve = self.curves[signature] = Curve(self.max_curve_points)
        curve.add(self._now(), *(params.get(name, math.nan) for name in CURVE_PARAMS))

    def _set_active(self, count: int) -> None:
        """Record the number of active TIPs and its maximum."""
        self.active_tips = max(0, count)
        self.max_active_tips = max(self.max_active_tips, self.active_tips)

    # ------------------------------------------------------------------ folding
    #
    # The typed updates both ways in share. Arguments are of the annotated types (None for a
    # value the event did not carry); NaN or infinite numbers are ignored here.

    def fold_world_tick(
        self,
        self_node: int | None,
        self_health: float | None,
        opponents: int | None,
        active_tips: int | None,
    ) -> None:
        """`world.tick`: bot position and health, visible opponents, active TIPs."""
        if self_node is not None:
            self.self_node = self_node
        if _finite(self_health):
            self.self_health = self_health
        if opponents is not None:
            self.visible_opponents = opponents
        if active_tips is not None:
            self._set_active(active_tips)

    def fold_tip_started(
        self,
        tip: str | None,
        encounter: int | None,
        signature: str | None,
        weapon: str | None,
        self_node: int | None,
        enemy_node: int | None,
        floor: int | None,
    ) -> None:
        """`tip.started`: a new engaged enemy and active TIP."""
        weapon, signature = self._weapon(weapon, signature)
        self._pattern(signature)
        key = encounter if encounter is not None else tip
        if key is not None:
            enemies = self.enemies
            enemies.pop(key, None)
            enemies[key] = EngagedEnemy(
                encounter, tip, weapon, signature, enemy_node, floor, self._now()
            )
            while len(enemies) > MAX_ENGAGED:
                enemies.pop(next(iter(enemies)))
        if self_node is not None:
            self.self_node = self_node
        if tip is not None:
            tips = self._tips
            tips[tip] = None
            while len(tips) > MAX_ENGAGED:
                tips.pop(next(iter(tips)))
            self._set_active(len(tips))

    def fold_tip_shot(
        self,
        tip: str | None,
        encounter: int | None,
        signature: str | None,
        hit: bool | None,
        damage_taken: float | None,
        self_node: int | None,
        enemy_node: int | None,
        path: Sequence[int] | None,
        weapon: str | None = None,
    ) -> None:
        """`tip.shot`: shot counters, bot and enemy position, the planned path (node indices)."""
        weapon, signature = self._weapon(weapon, signature)
        stats = self._pattern(signature)
        self.shots += 1
        stats.shots += 1
        if hit:
            self.hits += 1
            stats.hits += 1
        if _finite(damage_taken):
            self.damage_taken += damage_taken
        if self_node is not None:
            self.self_node = self_node
        key = encounter if encounter is not None else tip
        if key is not None:
            enemy = self.enemies.get(key)
            if enemy is None and len(self.enemies) < MAX_ENGAGED:
                enemy = self.enemies[key] = EngagedEnemy(
                    encounter, tip, weapon, signature, enemy_node, None, self._now()
                )
            if enemy is not None and enemy_node is not None:
                enemy.node = enemy_node
        if path and self._paths.maxlen:
            self._paths.append((self._now(), encounter, weapon, path))

    def fold_tip_finished(
        self,
        tip: str | None,
        encounter: int | None,
        signature: str | None,
        weapon: str | None = None,
    ) -> None:
        """`tip.finished`: the enemy leaves the map, the TIP is no longer active."""
        _, signature = self._weapon(weapon, signature)
        self._pattern(signature).encounters += 1
        self.encounters += 1
        for key in (encounter, tip):
            if key is not None:
                self.enemies.pop(key, None)
        if tip is not None and tip in self._tips:
            del self._tips[tip]
            self._set_active(len(self._tips))

    def fold_pattern(
        self, signature: str, params: Mapping[str, object], version: int | None = None
    ) -> None:
        """A pattern's parameters (its starting ones, or after a merge): a learning-curve point.

        Entries of `params` that are not finite numbers are ignored.
        """
        stats = self._pattern(signature)
        if version is not None:
            stats.version = version
        clean = _params(params)
        stats.params.update(clean)
        self._curve_point(signature, clean)

    def fold_plan_done(self, requests: int | None, elapsed_ms: float | None) -> None:
        """`plan.done`: derived decision count and latency."""
        self.plans += 1
        self.planned_requests += requests if requests is not None and requests > 0 else 1
        if _finite(elapsed_ms) and elapsed_ms >= 0:
            self._plan_ms.append(elapsed_ms)

    def fold_pattern_rejected(self) -> None:
        """`pattern.rejected`: a rejected delta (counted)."""
        self.rejected_deltas += 1

    def fold_actor_failed(self) -> None:
        """`actor.failed`: an actor crash (counted)."""
        self.failures += 1

    def fold_dead_letter(self) -> None:
        """`bus.dead_letter`: a dead letter on the bus (counted)."""
        self.dead_letters += 1

    # ------------------------------------------------------- event-dict fields

    def _on_run_started(self, event: Mapping[str, Any]) -> None:
        """Level, config and initial pattern parameters."""
        level = LevelView.from_event(event.get("level"))
        if level is not None:
            self.level = level
        config = event.get("config")
        if isinstance(config, Mapping):
            self.config = {str(k): v for k, v in config.items()}
        patterns = event.get("patterns")
        if isinstance(patterns, Mapping):
            for signature, raw in patterns.items():
                if isinstance(signature, str):
                    self.fold_pattern(signature, raw if isinstance(raw, Mapping) else {})

    def _on_world_tick(self, event: Mapping[str, Any]) -> None:
        """`world.tick` fields, checked."""
        self.fold_world_tick(
            _int(event.get("self_node")),
            _float(event.get("self_health")),
            _int(event.get("opponents")),
            _int(event.get("active_tips")),
        )

    def _on_tip_started(self, event: Mapping[str, Any]) -> None:
        """`tip.started` fields, checked."""
        self.fold_tip_started(
            _str(event.get("tip")),
            _int(event.get("encounter")),
            _str(event.get("signature")),
            _str(event.get("weapon")),
            _int(event.get("self_node")),
            _int(event.get("enemy_node")),
            _int(event.get("floor")),
        )

    def _on_tip_shot(self, event: Mapping[str, Any]) -> None:
        """`tip.shot` fields, checked."""
        self.fold_tip_shot(
            _str(event.get("tip")),
            _int(event.get("encounter")),
            _str(event.get("signature")),
            _bool(event.get("hit")),
            _float(event.get("damage_taken")),
            _int(event.get("self_node")),
            _int(event.get("enemy_node")),
            _path(event.get("path")),
            weapon=_str(event.get("weapon")),
        )

    def _on_tip_finished(self, event: Mapping[str, Any]) -> None:
        """`tip.finished` fields, checked."""
        self.fold_tip_finished(
            _str(event.get("tip")),
            _int(event.get("encounter")),
            _str(event.get("signature")),
            weapon=_str(event.get("weapon")),
        )

    def _on_pattern_merged(self, event: Mapping[str, Any]) -> None:
        """`pattern.merged` fields, checked."""
        signature = _str(event.get("signature"))
        if signature is None:
            return
        params = event.get("params")
        self.fold_pattern(
            signature, params if isinstance(params, Mapping) else {}, _int(event.get("version"))
        )

    def _on_pattern_rejected(self, event: Mapping[str, Any]) -> None:
        """`pattern.rejected`."""
        self.fold_pattern_rejected()

    def _on_plan_done(self, event: Mapping[str, Any]) -> None:
        """`plan.done` fields, checked."""
        self.fold_plan_done(_int(event.get("requests")), _float(event.get("elapsed_ms")))

    def _on_actor_failed(self, event: Mapping[str, Any]) -> None:
        """`actor.failed`."""
        self.fold_actor_failed()

    def _on_dead_letter(self, event: Mapping[str, Any]) -> None:
        """`bus.dead_letter`."""
        self.fold_dead_letter()

    def _on_run_finished(self, event: Mapping[str, Any]) -> None:
        """The summary: authoritative totals, per-pattern counts and timings."""
        summary = event.get("summary")
        if not isinstance(summary, Mapping):
            self.summary = {}
            return
        self.summary = {str(k): v for k, v in summary.items()}
        for name in ("shots", "hits", "encounters", "max_active_tips"):
            value = _int(summary.get(name))
            if value is not None and value >= 0:
                setattr(self, name, value)
        damage = _float(summary.get("damage_taken"))
        if damage is not None:
            self.damage_taken = damage
        patterns = summary.get("patterns")
        if isinstance(patterns, Mapping):
            for signature, raw in patterns.items():
                if not isinstance(signature, str) or not isinstance(raw, Mapping):
                    continue
                stats = self._pattern(signature)
                for name in ("shots", "hits", "encounters"):
                    value = _int(raw.get(name))
                    if value is not None and value >= 0:
                        setattr(stats, name, value)
                stats.params.update(_params(raw.get("params")))
        self._tips.clear()
        self.active_tips = 0
        self.enemies.clear()

    # ------------------------------------------------------------------ derived

    @property
    def finished(self) -> bool:
        """Whether `run.finished` was seen."""
        return self.summary is not None

    @property
    def accuracy(self) -> float | None:
        """Overall hits / shots, or None before the first shot."""
        return self.hits / self.shots if self.shots else None

    @property
    def elapsed_s(self) -> float | None:
        """Wall-clock seconds between the first and the last event, when known."""
        if self.first_time is None or self.time is None:
            return None
        return self.time - self.first_time

    def _summary_float(self, *keys: str) -> float | None:
        """A finite number nested in the summary under `keys`, or None."""
        node: object = self.summary
        for key in keys:
            if not isinstance(node, Mapping):
                return None
            node = node.get(key)
        return _float(node)

    @property
    def decisions(self) -> int:
        """Decisions made so far: planned requests when plans were logged, else shots."""
        return self.planned_requests if self.plans else self.shots

    @property
    def decisions_per_s(self) -> float | None:
        """From the summary, else decisions over the elapsed wall-clock time (an estimate)."""
        value = self._summary_float("decisions_per_s")
        if value is not None:
            return value
        elapsed = self.elapsed_s
        if not elapsed or elapsed <= 0 or not self.decisions:
            return None
        return self.decisions / elapsed

    def _latency(self, key: str, q: float) -> float | None:
        """A latency percentile in ms: from the summary, else from logged plan times."""
        value = self._summary_float("latency_ms", key)
        if value is not None:
            return value
        if not self._plan_ms:
            return None
        return float(np.percentile(np.fromiter(self._plan_ms, dtype=np.float64), q))

    @property
    def latency_p50_ms(self) -> float | None:
        """Median decision latency (ms): the summary's, else the median logged plan time."""
        return self._latency("p50", 50.0)

    @property
    def latency_p99_ms(self) -> float | None:
        """99th-percentile decision latency (ms), like `latency_p50_ms`."""
        return self._latency("p99", 99.0)

    @property
    def timings_estimated(self) -> bool:
        """True while decisions/s and latency are derived from events, not from the summary."""
        return self._summary_float("decisions_per_s") is None
