"""The synchronous driver: a whole match played with plain function calls, no bus, no actors.

It drives the same match core as the actors (:mod:`fom.match`: ``pick_engagements``,
``Encounter``, ``resolve_tick``, ``merge_delta``) in the same order, so for the same seed and
settings it plays the same match as ``fom-run``: the same ``tip.finished`` records, in the same
order. ``SyncMatch`` plays tick by tick and hands every record it makes to a listener;
``run_encounters`` plays until a number of encounters have ended (the learning experiments).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fom.config import RunConfig, merge_rate
from fom.engines import make_engine
from fom.engines.base import Engine
from fom.errors import ConfigError, EngineError
from fom.events.records import TickEvent, TipFinished
from fom.events.stats import MatchStats, PatternStats
from fom.learners.base import Learner, learning_pattern, make_learner, new_store
from fom.match import (
    Encounter,
    initial_store,
    merge_ended,
    pick_engagements,
    resolve_tick,
    snapshot_for,
)
from fom.patterns import PatternStore, signature_for
from fom.planners import GraphPlanner, Planner, PlanProblem, make_planner

__all__ = ["EncounterStats", "SyncMatch", "run_encounters", "sync_match"]

Listener = Callable[[Any], None]
LearnerFactory = Callable[..., Learner]


class SyncMatch:
    """One match, tick by tick, as the actors play it (``tips`` encounters at once at most)."""

    def __init__(
        self,
        engine: Engine,
        *,
        seed: int,
        tips: int,
        learner: str,
        planner: Planner | None = None,
        store: PatternStore | None = None,
        ticks: int | None = None,
        listener: Listener | None = None,
        make: LearnerFactory = make_learner,
    ) -> None:
        if tips < 1:
            raise ConfigError(f"tips must be >= 1, got {tips}")
        self.engine = engine
        self.seed = seed
        self.tips = tips
        self.learner = learner
        self.planner = planner if planner is not None else GraphPlanner()
        self.store = store if store is not None else new_store(learner, merge_rate(None, tips))
        self.ticks = ticks
        self.listener = listener
        self.make = make
        self.active: dict[int, Encounter] = {}
        self.problems: dict[int, PlanProblem] = {}
        self.finished: list[TipFinished] = []
        self.tick = 0
        engine.reset(seed)

    def _emit(self, record: Any) -> None:
        if self.listener is not None:
            self.listener(record)

    def _engage(self) -> None:
        """Start an encounter for each opponent nobody fights yet, while there is room."""
        engine, tick = self.engine, self.tick
        view = engine.observe()
        unfought = [o for o in view.opponents if o.id not in self.active]  # as the World does
        for opponent in pick_engagements(unfought, self.tips - len(self.active)):
            signature = signature_for(opponent.weapon)
            pattern = learning_pattern(self.learner, signature)
            encounter = Encounter.begin(
                snapshot_for(tick, engine.projection(opponent.id), opponent),
                encounter=opponent.id,
                weapon=opponent.weapon,
                signature=signature,
                params=self.store.get(pattern),
                pattern=pattern,
                level=engine.level,
                seed=self.seed,
                learner=self.learner,
                make=self.make,
            )
            self._emit(encounter.started())
            self.active[opponent.id] = encounter
            self.problems[opponent.id] = encounter.decide()

    def step(self) -> None:
        """Play one tick: engage, plan, resolve, observe, finish and merge."""
        self._engage()
        engine, level = self.engine, self.engine.level
        ids = sorted(self.problems)
        problems = [self.problems[e] for e in ids]
        started = time.perf_counter_ns()
        if self.planner.pooled:
            choices = self.planner.plan(level, problems, self.seed)
        else:
            choices = [self.planner.plan(level, [p], self.seed)[0] for p in problems]
        latency_ms = (time.perf_counter_ns() - started) / 1e6 / max(len(problems), 1)
        self.problems = {}
        acts = [self.active[e].act(c) for e, c in zip(ids, choices, strict=True)]
        resolution = resolve_tick(engine, self.tick, acts)
        last = self.ticks is not None and self.tick + 1 >= self.ticks
        ended: list[tuple[int, str, np.ndarray, str, int]] = []
        for e in ids:
            result = resolution.results[e]
            if isinstance(result, EngineError):
                raise result
            encounter = self.active[e]
            self._emit(encounter.observe(result, latency_ms))
            if encounter.done:
                ended.append(self._finish(encounter))
            elif not last:
                self.problems[e] = encounter.decide()
        for _, _, merged in merge_ended(self.store, ended):  # the ULP's rule and order
            self._emit(merged)
        view = engine.observe()
        self._emit(
            TickEvent(
                tick=self.tick,
                self_node=view.self_state.node,
                self_health=view.self_state.health,
                opponents=len(view.opponents),
                active_tips=len(acts),
            )
        )
        self.tick += 1

    def _finish(self, encounter: Encounter) -> tuple[int, str, np.ndarray, str, int]:
        """End ``encounter``: its record now, its delta for the tick's merge."""
        delta, record = encounter.finish()
        del self.active[encounter.encounter]
        self.finished.append(record)
        self._emit(record)
        return encounter.encounter, encounter.pattern, delta, encounter.tip, record.tick

    def play(self) -> list[TipFinished]:
        """Play every tick (``ticks`` must be set); the finished encounters' records, in order."""
        if self.ticks is None:
            raise ConfigError("play() needs a number of ticks")
        while self.tick < self.ticks:
            self.step()
        return self.finished


@dataclass(frozen=True, slots=True)
class EncounterStats:
    """What a run of encounters achieved; per-encounter arrays are in order of completion."""

    learner: str
    encounters: int
    shots: int
    hits: int
    accuracy: float
    damage_taken: float
    deaths: int
    kills: int
    timeouts: int
    exposure: float
    ticks: int
    compute_flops: int
    decisions: int
    encounter_ids: np.ndarray
    encounter_shots: np.ndarray
    encounter_hits: np.ndarray
    encounter_damage: np.ndarray
    encounter_weapons: tuple[str, ...]
    patterns: dict[str, PatternStats] = field(default_factory=dict)
    """The fold's per-pattern statistics, with each pattern's learned parameters."""

    def accuracy_over(self, first: int) -> float:
        """Hit rate over the first ``first`` encounters completed."""
        shots = int(self.encounter_shots[:first].sum())
        return float(self.encounter_hits[:first].sum()) / shots if shots else 0.0


def sync_match(
    config: RunConfig, *, engine: Engine | None = None, listener: Listener | None = None
) -> SyncMatch:
    """The synchronous match ``fom-run`` plays for ``config`` (same engine, store and planner)."""
    config.validate()
    if engine is None:
        engine = make_engine(config.world, config.seed, config.tips, **config.world_options())
    planner = make_planner(config.planner, walkers=config.walkers, horizon=config.horizon)
    bind = getattr(planner, "bind", None)  # a planner over the real game (fmc-engine)
    if bind is not None:
        bind(engine)
    return SyncMatch(
        engine,
        seed=config.seed,
        tips=config.tips,
        learner=config.learner,
        planner=planner,
        store=initial_store(config.learner, config.merge_rate, config.load),
        ticks=config.ticks,
        listener=listener,
    )


def run_encounters(
    engine: Engine,
    learner_kind: str,
    encounters: int,
    seed: int,
    concurrency: int = 1,
    *,
    alpha: float | None = None,
    store: PatternStore | None = None,
    max_ticks: int | None = None,
    planner: Planner | None = None,
    make: LearnerFactory = make_learner,
) -> EncounterStats:
    """Play until ``encounters`` encounters have ended, ``concurrency`` at once; statistics."""
    if encounters < 1 or concurrency < 1:
        raise ConfigError("encounters and concurrency must be >= 1")
    store = store if store is not None else new_store(learner_kind, merge_rate(alpha, concurrency))
    records: list[Any] = []
    match = SyncMatch(
        engine, seed=seed, tips=concurrency, learner=learner_kind, planner=planner, store=store,
        listener=records.append, make=make,
    )  # fmt: skip
    limit = max_ticks if max_ticks is not None else 40 * encounters + 1000
    while len(match.finished) < encounters:
        if match.tick >= limit:
            raise EngineError(
                f"only {len(match.finished)} of {encounters} encounters ended in {limit} ticks"
            )
        match.step()
    done = match.finished[:encounters]
    ids = {r.encounter for r in done}
    stats = MatchStats()  # the one fold, over the records of these encounters
    for record in records:
        if getattr(record, "encounter", None) in ids:
            stats.fold(record)
    for sig, p in stats.patterns.items():
        p.params.update(store.peek(learning_pattern(learner_kind, sig)).as_dict())
    return EncounterStats(
        learner=learner_kind,
        encounters=stats.encounters,
        shots=stats.shots,
        hits=stats.hits,
        accuracy=stats.accuracy or 0.0,
        damage_taken=stats.damage_taken,
        deaths=stats.deaths,
        kills=stats.kills,
        timeouts=stats.timeouts,
        exposure=stats.exposure,
        ticks=match.tick,
        compute_flops=stats.compute_flops,
        decisions=stats.decisions,
        encounter_ids=np.array([r.encounter for r in done], dtype=np.int64),
        encounter_shots=np.array([r.shots for r in done], dtype=np.int64),
        encounter_hits=np.array([r.hits for r in done], dtype=np.int64),
        encounter_damage=np.array([r.damage_taken for r in done], dtype=np.float64),
        encounter_weapons=tuple(r.signature.partition("/")[2] for r in done),
        patterns=dict(stats.patterns),
    )
