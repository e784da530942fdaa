"""A plain synchronous encounter loop (no actors): the pure-model learning experiment.

``run_encounters`` plays ``encounters`` encounters against an engine, up to ``concurrency`` at
once, the way a TIP does: plan with ``level.shortest_path`` (flank-biased), move one step,
aim with the learner's aim_offset, shoot, advance, update the learner; when an encounter ends
its learner's delta is merged into a PatternStore (alpha  = 1/concurrency by default, so deltas
computed from the same starting parameters average instead of adding up to an overshoot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fom.engines.base import Engine, ShotOutcome
from fom.errors import ConfigError, EngineError
from fom.learners.base import LEARNERS, EncounterObservation, Learner, make_learner
from fom.learners.monolithic import MonolithicQ
from fom.patterns import PatternStore, signature_for

__all__ = ["EncounterStats", "PatternStats", "run_encounters"]


@dataclass(frozen=True, slots=True)
class PatternStats:
    """Totals of one pattern over a run, and its final parameters."""

    encounters: int
    shots: int
    hits: int
    accuracy: float
    params: dict[str, float]


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
    exposure: float  # mean exposure of the projection's node over all encounter ticks
    ticks: int
    compute_flops: int
    encounter_ids: np.ndarray
    encounter_shots: np.ndarray
    encounter_hits: np.ndarray
    encounter_damage: np.ndarray
    encounter_weapons: tuple[str, ...]
    patterns: dict[str, PatternStats] = field(default_factory=dict)

    def accuracy_over(self, first: int) -> float:
        """Hit rate over the first ``first`` encounters completed."""
        shots = int(self.encounter_shots[:first].sum())
        return float(self.encounter_hits[:first].sum()) / shots if shots else 0.0


@dataclass(slots=True)
class _Tip:
    """One running encounter of the loop."""

    weapon: str
    signature: str
    enemy_node: int
    enemy_health: float
    learner: Learner
    shots: int = 0
    hits: int = 0
    damage: float = 0.0


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
) -> EncounterStats:
    """Play ``encounters`` encounters with ``learner_kind`` learners; return the statistics."""
    if learner_kind not in LEARNERS:
        raise ConfigError(f"unknown learner {learner_kind!r}; choose one of {', '.join(LEARNERS)}")
    if encounters < 1 or concurrency < 1:
        raise ConfigError("encounters and concurrency must be >= 1")
    rng = np.random.default_rng([seed, 0xF0])
    store = store if store is not None else PatternStore(alpha=alpha or 1.0 / concurrency)
    shared = (
        MonolithicQ(np.random.default_rng([seed, 0x51])) if learner_kind == "monolithic" else None
    )
    level = engine.level
    max_ticks = max_ticks if max_ticks is not None else 40 * encounters + 1000
    engine.reset(seed)
    active: dict[int, _Tip] = {}
    seen: set[int] = set()
    ids: list[int] = []
    shots: list[int] = []
    hits: list[int] = []
    damage: list[float] = []
    weapons: list[str] = []
    reasons = {"killed": 0, "died": 0, "timeout": 0, "closed": 0}
    exposure_sum, exposure_n = 0.0, 0
    flops = 0
    start_tick = engine.tick
    while len(ids) < encounters:
        if engine.tick - start_tick >= max_ticks:
            raise EngineError(
                f"only {len(ids)} of {encounters} encounters ended in {max_ticks} ticks"
            )
        view = engine.observe()
        for opp in view.opponents:
            if len(active) >= concurrency or len(seen) >= encounters:
                break
            if opp.id in seen:
                continue
            seen.add(opp.id)
            sig = signature_for(opp.weapon)
            learner = make_learner(learner_kind, store.get(sig), rng, shared)
            active[opp.id] = _Tip(opp.weapon, sig, opp.node, opp.health, learner)
        outcomes: dict[int, ShotOutcome] = {}
        for eid, tip in active.items():
            me = engine.projection(eid)
            obs = EncounterObservation(
                encounter=eid,
                weapon=tip.weapon,
                self_node=me.node,
                enemy_node=tip.enemy_node,
                distance=float(level.distance[me.node, tip.enemy_node]),
                self_health=me.health,
                enemy_health=tip.enemy_health,
                exposure=float(level.exposure[me.node]),
            )
            decision = tip.learner.act(obs)
            path = level.shortest_path(me.node, tip.enemy_node, decision.flank_bias)
            engine.move(eid, path[1] if len(path) > 1 else path[0])
            engine.look_at(eid, decision.aim_offset)
            shot = engine.shoot(eid)
            outcomes[eid] = shot
            if shot.fired:
                tip.shots += 1
                tip.hits += int(shot.hit)
        for report in engine.advance():
            tip = active.get(report.encounter)
            if tip is None:
                continue
            shot = outcomes.get(report.encounter) or ShotOutcome(
                report.encounter, False, False, 0.0, 0.0, 0.0
            )
            tip.learner.update(shot, report)
            tip.enemy_health = report.enemy_health
            tip.damage += report.damage_taken
            exposure_sum += report.exposure
            exposure_n += 1
            if report.done:
                store.merge(tip.signature, tip.learner.delta())
                flops += tip.learner.compute_flops
                reasons[report.reason] += 1
                ids.append(report.encounter)
                shots.append(tip.shots)
                hits.append(tip.hits)
                damage.append(tip.damage)
                weapons.append(tip.weapon)
                del active[report.encounter]
                if len(ids) >= encounters:
                    break
    flops += sum(t.learner.compute_flops for t in active.values())
    patterns: dict[str, PatternStats] = {}
    for w in sorted(set(weapons)):
        sel = [i for i, x in enumerate(weapons) if x == w]
        s = sum(shots[i] for i in sel)
        h = sum(hits[i] for i in sel)
        sig = signature_for(w)
        patterns[sig] = PatternStats(len(sel), s, h, h / s if s else 0.0, store.get(sig).as_dict())
    total_shots, total_hits = sum(shots), sum(hits)
    return EncounterStats(
        learner=learner_kind,
        encounters=len(ids),
        shots=total_shots,
        hits=total_hits,
        accuracy=total_hits / total_shots if total_shots else 0.0,
        damage_taken=float(sum(damage)),
        deaths=reasons["died"],
        kills=reasons["killed"],
        timeouts=reasons["timeout"],
        exposure=exposure_sum / exposure_n if exposure_n else 0.0,
        ticks=engine.tick - start_tick,
        compute_flops=int(flops),
        encounter_ids=np.array(ids, dtype=np.int64),
        encounter_shots=np.array(shots, dtype=np.int64),
        encounter_hits=np.array(hits, dtype=np.int64),
        encounter_damage=np.array(damage, dtype=np.float64),
        encounter_weapons=tuple(weapons),
        patterns=patterns,
    )
