"""The match core, pure and synchronous: one encounter's loop and one tick's resolution.

Written once and driven twice: the actors (a TIP drives an ``Encounter``, the World calls
``resolve_tick``, CoreAgent calls ``pick_engagements``) and the synchronous driver in
:mod:`fom.simulate`. So the two play the same match for the same seed.

One tick of a match:

1. the opponents nobody fights yet are engaged, in id order, while there is room
   (``pick_engagements``); each new ``Encounter`` starts from a knowledge snapshot, its
   pattern's parameters and its own Generator, ``SeedSequence(seed, (TIP_STREAM, encounter))``;
2. every engaged encounter decides (``decide`` gives the planner's problem, ``act`` turns the
   planner's choice into an ``Act``);
3. ``resolve_tick`` applies the actions, the trigger holders' first, then in encounter order,
   and advances the engine (one trigger per body: ``trigger_holders``);
4. every encounter observes its outcome; those that ended ``finish`` with their delta.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from fom.engines.base import Engine, ShotOutcome, StepReport, take_shot
from fom.errors import EngineError, InvalidDelta
from fom.events.records import PatternMerged, PatternRejected, TipFinished, TipShot, TipStarted
from fom.knowledge import KnowledgeSnapshot
from fom.learners.base import (
    EncounterObservation,
    Learner,
    fit_layout,
    make_learner,
    new_store,
)
from fom.level import CanonicalLevel
from fom.patterns import PatternParams, PatternStore, load_patterns
from fom.planners import PlanChoice, PlanProblem
from fom.state import Opponent, SelfState

__all__ = [
    "TIP_STREAM",
    "Act",
    "ActResult",
    "Encounter",
    "TickResolution",
    "act_each",
    "encounter_rng",
    "initial_store",
    "merge_delta",
    "merge_ended",
    "pick_engagements",
    "resolve_tick",
    "snapshot_for",
    "tip_name",
    "trigger_holders",
]

TIP_STREAM = 1
"""First spawn-key word of every encounter's random stream: SeedSequence(seed, (1, id))."""


@dataclass(frozen=True, slots=True)
class Act:
    """One tick's action of an encounter: one step, an aim correction, fire or hold."""

    encounter: int
    tick: int
    move_to: int
    aim_offset: float
    fire: bool
    lead_gain: float = 0.0
    rest: bool = False
    """Fire with the trigger let go where the gun would refire (an engine's ``shoot_rested``:
    Doom's pistol; an engine without one shoots as usual)."""


@dataclass(frozen=True, slots=True)
class ActResult:
    """What one tick did to one encounter: its shot and the engine's report."""

    tick: int
    shot: ShotOutcome
    report: StepReport


def tip_name(encounter: int) -> str:
    """The name of the TIP (actor) fighting ``encounter``."""
    return f"tip-{encounter}"


def encounter_rng(seed: int, encounter: int) -> np.random.Generator:
    """The encounter's own Generator: SeedSequence(seed, spawn_key=(TIP_STREAM, encounter))."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TIP_STREAM, encounter)))


def initial_store(learner: str, alpha: float, load: str | None = None) -> PatternStore:
    """The run's PatternStore: laid out for ``learner``, or the patterns saved at ``load``
    (in that layout, or in an older one of it, widened: a file saved by a run with another
    learner is refused)."""
    if load is None:
        return new_store(learner, alpha)
    state = fit_layout(learner, load_patterns(load), load).to_state()
    state["alpha"] = alpha
    return PatternStore.from_state(state)


def pick_engagements(unfought: Sequence[Opponent], room: int) -> Sequence[Opponent]:
    """The opponents to engage now, of those nobody fights yet: in id order, at most ``room``.

    ``unfought`` is what Perception sees (the World leaves out the engaged encounters).
    """
    return unfought[: max(room, 0)]


class Encounter:
    """One fight from its start to its end: decide, act, observe, finish (Algorithm 1)."""

    __slots__ = (
        "_decision",
        "_path",
        "done",
        "encounter",
        "enemy_health",
        "enemy_node",
        "learner",
        "level",
        "params",
        "pattern",
        "reason",
        "self_health",
        "self_node",
        "signature",
        "snapshot",
        "start_tick",
        "tick",
        "tip",
        "totals",
        "weapon",
    )

    def __init__(
        self,
        snapshot: KnowledgeSnapshot,
        *,
        encounter: int,
        weapon: str,
        signature: str,
        params: PatternParams,
        learner: Learner,
        level: CanonicalLevel,
        pattern: str | None = None,
    ) -> None:
        me = snapshot.self_state
        if me is None:
            raise ValueError("an encounter starts from a snapshot with the bot's projection")
        enemy = snapshot.opponent(encounter)
        self.snapshot = snapshot
        self.encounter = encounter
        self.tip = tip_name(encounter)
        self.signature = signature
        self.pattern = pattern if pattern is not None else signature
        """Where what it learns goes (its kind's pattern, or its learner's one pattern)."""
        self.weapon = weapon
        self.params = params
        self.learner = learner
        self.level = level
        self.start_tick = self.tick = snapshot.tick
        self.self_node, self.self_health = me.node, me.health
        self.enemy_node = enemy.node if enemy is not None else me.node
        self.enemy_health = enemy.health if enemy is not None else 0.0
        self.done = False
        self.reason = ""
        self.totals = [0, 0, 0, 0.0, 0.0]  # ticks, shots, hits, damage taken, exposure summed
        self._decision = None
        self._path: tuple[int, ...] = ()

    @classmethod
    def begin(
        cls,
        snapshot: KnowledgeSnapshot,
        *,
        encounter: int,
        weapon: str,
        signature: str,
        params: PatternParams,
        level: CanonicalLevel,
        seed: int,
        learner: str,
        pattern: str | None = None,
        make: Callable[..., Learner] = make_learner,
    ) -> Encounter:
        """An encounter with a fresh ``learner`` seeded from (seed, encounter), starting from
        ``params`` of ``pattern`` (default: its own kind's, ``signature``)."""
        made = make(learner, params, encounter_rng(seed, encounter))
        return cls(
            snapshot, encounter=encounter, weapon=weapon, signature=signature, params=params,
            learner=made, level=level, pattern=pattern,
        )  # fmt: skip

    def started(self) -> TipStarted:
        """The ``tip.started`` record."""
        me = self.snapshot.self_state
        return TipStarted(
            tick=self.start_tick,
            tip=self.tip,
            encounter=self.encounter,
            signature=self.signature,
            weapon=self.weapon,
            self_node=self.self_node,
            enemy_node=self.enemy_node,
            floor=me.floor if me is not None else 0,
            params=self.params.as_dict(),
        )

    def decide(self) -> PlanProblem:
        """The learner's aim and flank bias for this tick, as the problem a planner solves."""
        level = self.level
        exposure = float(level.exposure[self.self_node])
        decision = self.learner.act(
            EncounterObservation(
                encounter=self.encounter,
                weapon=self.weapon,
                self_node=self.self_node,
                enemy_node=self.enemy_node,
                distance=float(level.distance[self.self_node, self.enemy_node]),
                self_health=self.self_health,
                enemy_health=self.enemy_health,
                exposure=exposure,
            )
        )
        self._decision = decision
        return PlanProblem(
            encounter=self.encounter,
            tick=self.tick,
            weapon=self.weapon,
            self_node=self.self_node,
            self_health=self.self_health,
            enemy_node=self.enemy_node,
            enemy_health=self.enemy_health,
            aim_offset=float(decision.aim_offset),
            flank_bias=float(decision.flank_bias),
            lead_gain=float(decision.lead_gain),
            rest=bool(decision.rest),
        )

    def act(self, choice: PlanChoice) -> Act:
        """The action for this tick: the planner's step and fire, the learner's aim and whether
        it rests the trigger after each press (carried out by the body: ``act_each``)."""
        decision = self._decision
        if decision is None:
            raise RuntimeError("act() before decide()")
        self._path = tuple(choice.path)
        return Act(
            self.encounter, self.tick, int(choice.move_to), decision.aim_offset,
            bool(choice.fire), decision.lead_gain, bool(decision.rest),
        )  # fmt: skip

    def observe(self, result: ActResult, latency_ms: float = 0.0) -> TipShot:
        """Learn from the tick's outcome; return its ``tip.shot`` record."""
        decision = self._decision
        if decision is None:
            raise RuntimeError("observe() before decide()")
        shot, report = result.shot, result.report
        self.learner.update(shot, report)
        totals = self.totals
        totals[0] += 1
        totals[1] += shot.fired
        totals[2] += shot.hit
        totals[3] += report.damage_taken
        totals[4] += report.exposure
        record = TipShot(
            tick=result.tick,
            tip=self.tip,
            encounter=self.encounter,
            signature=self.signature,
            fired=shot.fired,
            hit=shot.hit,
            error=shot.error,
            damage=shot.damage,
            aim_offset=decision.aim_offset,
            flank_bias=decision.flank_bias,
            self_node=report.self_node,
            enemy_node=report.enemy_node,
            path=self._path,
            exposure=report.exposure,
            damage_taken=report.damage_taken,
            latency_ms=latency_ms,
            refire=shot.refire,
        )
        self.self_node, self.enemy_node = report.self_node, report.enemy_node
        self.self_health, self.enemy_health = report.self_health, report.enemy_health
        self.tick = result.tick + 1
        self._decision = None
        if report.done:
            self.done = True
            self.reason = report.reason
        return record

    def finish(self) -> tuple[np.ndarray, TipFinished]:
        """The delta for the ULP and the ``tip.finished`` record (call once it is done)."""
        delta = np.asarray(self.learner.delta(), dtype=np.float64)
        ticks, shots, hits, damage, exposure = self.totals
        names = self.params.names
        return delta, TipFinished(
            tick=self.tick - 1,
            tip=self.tip,
            encounter=self.encounter,
            signature=self.signature,
            reason=self.reason,
            shots=shots,
            hits=hits,
            damage_taken=damage,
            exposure=exposure / ticks if ticks else 0.0,
            ticks=ticks,
            delta={n: float(v) for n, v in zip(names, delta.tolist(), strict=True)},
            compute_flops=int(self.learner.compute_flops),
        )


@dataclass(frozen=True, slots=True)
class TickResolution:
    """One resolved tick: each acting encounter's result (or why it failed) and every report."""

    results: dict[int, ActResult | EngineError]
    reports: tuple[StepReport, ...]

    @property
    def ended(self) -> tuple[int, ...]:
        """Encounters that ended this tick, in id order."""
        return tuple(r.encounter for r in self.reports if r.done)


def trigger_holders(engine: Engine, encounters: Sequence[int]) -> frozenset[int]:
    """The encounters that may fire this tick: one trigger per body.

    An engine whose encounters share one body (a real game: one player, many monsters in sight)
    says which hold the trigger with ``trigger_holders(encounters)`` (e.g. the most threatening
    monster's); the others hold fire and keep their state. Without that method every encounter
    has a body of its own (the simulated worlds' projections) and all may fire.
    """
    choose = getattr(engine, "trigger_holders", None)
    if choose is None:
        return frozenset(encounters)
    return frozenset(int(e) for e in choose(tuple(sorted(encounters))))


def act_each(
    engine: Engine, acts: Sequence[Act], holders: Collection[int]
) -> dict[int, ShotOutcome | EngineError]:
    """Move, aim and (holders that fire) shoot for each action in turn; each encounter's shot,
    not fired, or the EngineError that stopped its action. A resting action shoots with the
    engine's ``shoot_rested`` where it has one (Doom's: a gun that strays when held). (An
    engine's ``act_all`` does the same at once.)"""
    shots: dict[int, ShotOutcome | EngineError] = {}
    for act in acts:
        e = act.encounter
        try:
            engine.move(e, act.move_to)
            if act.lead_gain:  # an engine written before the lead (two arguments) still
                engine.look_at(e, act.aim_offset, act.lead_gain)  # plays with no lead
            else:
                engine.look_at(e, act.aim_offset)
            if not (act.fire and e in holders):
                shots[e] = ShotOutcome(e, False, False, 0.0, 0.0, 0.0)
            else:
                shots[e] = take_shot(engine, e, act.rest)
        except EngineError as exc:
            shots[e] = exc
    return shots


def resolve_tick(engine: Engine, tick: int, acts: Iterable[Act]) -> TickResolution:
    """Apply one tick's actions, the trigger holders' first and then in encounter order (the
    first action on a shared body drives it), the others holding fire; advance the engine.

    An engine made of independent games (``FloorSet``: one per floor, in processes of their
    own) has ``resolve(tick, acts)``: it hands each game its actions and each game resolves
    them with this same function, all at once."""
    acts = list(acts)
    by_floor = getattr(engine, "resolve", None)
    if by_floor is not None:  # several independent games (floors): each runs this function
        return by_floor(tick, acts)
    holders = trigger_holders(engine, [a.encounter for a in acts])
    ordered = sorted(acts, key=lambda a: (a.encounter not in holders, a.encounter))
    act_all = getattr(engine, "act_all", None)  # the same, at once (independent projections)
    if act_all is not None and len({a.encounter for a in ordered}) == len(ordered):
        shots = act_all(ordered, holders)
    else:
        shots = act_each(engine, ordered, holders)
    reports = engine.advance()
    by_id = {r.encounter: r for r in reports}
    results: dict[int, ActResult | EngineError] = {}
    for act in sorted(ordered, key=lambda a: a.encounter):
        e = act.encounter
        shot, report = shots[e], by_id.get(e)
        if isinstance(shot, EngineError):
            results[e] = EngineError(f"encounter {e}: {shot}")
        elif report is None:
            results[e] = EngineError(f"encounter {e}: no report from the engine")
        else:
            results[e] = ActResult(tick, shot, report)
    return TickResolution(results, tuple(reports))


def merge_delta(
    store: PatternStore, signature: str, delta: np.ndarray, tip: str, tick: int
) -> tuple[PatternParams, PatternMerged | PatternRejected]:
    """The ULP's rule: merge ``delta`` additively, or reject it and leave the pattern alone."""
    try:
        params = store.merge(signature, delta)
    except InvalidDelta as exc:
        rejected = PatternRejected(tick=tick, signature=signature, tip=tip, reason=str(exc))
        return store.peek(signature), rejected
    names = params.names
    return params, PatternMerged(
        tick=tick,
        signature=signature,
        version=params.version,
        merges=params.merges,
        params=params.as_dict(),
        delta={n: float(v) for n, v in zip(names, np.asarray(delta).tolist(), strict=True)},
    )


def merge_ended(
    store: PatternStore, deltas: Iterable[tuple[int, str, np.ndarray, str, int]]
) -> list[tuple[int, PatternParams, PatternMerged | PatternRejected]]:
    """Merge the deltas of the encounters that ended at one tick, in encounter order.

    ``deltas`` are (encounter, pattern, delta, tip, tick) in any order. Addition commutes only
    up to rounding, so the order is fixed here, not by arrival: the actors (the ULP, once
    CoreAgent says a tick's ended encounters have all reported) and the synchronous driver
    call this same function, and the parameters are the same to the last bit however the
    deltas arrived (over NATS, from several worker processes). Returns (encounter, params
    after it, its record) per delta, in the order merged.
    """
    out = []
    for encounter, pattern, delta, tip, tick in sorted(deltas, key=lambda d: d[0]):
        params, record = merge_delta(store, pattern, delta, tip, tick)
        out.append((encounter, params, record))
    return out


def snapshot_for(tick: int, projection: SelfState, opponent: Opponent) -> KnowledgeSnapshot:
    """What an encounter starts from: the bot's projection and its opponent as seen at ``tick``."""
    return KnowledgeSnapshot(tick, projection, (opponent,))
