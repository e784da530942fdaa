"""The TIP (Task-Instance-Projection): one short-lived actor per encounter.

Algorithm 1 of the seed: plan, step, aim with the pattern's aim_offset, fire, observe, update
the learner; when the encounter ends, send the learner's delta to the ULP and report. A TIP
never waits on another TIP: it only talks to the World, the planner and the ULP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from actors.actor import Actor
from actors.channels import (
    Act,
    ActResult,
    PatternDelta,
    PlanReply,
    PlanRequest,
    TipFinished,
    TipReport,
    TipShot,
    TipStart,
    TipStarted,
)
from actors.supervision import NEVER_RESTART
from bus import Envelope
from fom.learners.base import EncounterObservation, make_learner
from fom.level import CanonicalLevel

__all__ = ["TIP_STREAM", "Tip", "TipSettings"]

TIP_STREAM = 1
"""First spawn-key word of every TIP's random stream: SeedSequence(seed, (TIP_STREAM, id))."""


@dataclass(frozen=True, slots=True)
class TipSettings:
    """What every TIP of a run shares: read-only configuration, never mutable state."""

    learner: str
    planner: str
    level: CanonicalLevel
    request_timeout: float
    shared_learner: object | None = None
    """The run's one MonolithicQ for the ``monolithic`` baseline (it is synchronous by design)."""


class Tip(Actor):
    """Fights one encounter from its TipStart to its end, then stops."""

    restart = NEVER_RESTART
    capacity = 4

    def __init__(self, settings: TipSettings) -> None:
        self.settings = settings

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case TipStart() as start:
                try:
                    await self.fight(start)
                finally:
                    self.stop()
            case other:
                raise TypeError(f"a TIP cannot handle {type(other).__name__}")

    def check(self, result: ActResult) -> None:
        """Hook called after every tick's result; tests override it to inject failures."""

    async def fight(self, start: TipStart) -> None:
        """The encounter loop."""
        s = self.settings
        level = s.level
        encounter = start.encounter
        rng = np.random.default_rng(
            np.random.SeedSequence(start.run_seed, spawn_key=(TIP_STREAM, encounter))
        )
        learner = make_learner(s.learner, start.params, rng, s.shared_learner)
        enemy = start.knowledge.opponent(encounter)
        me = start.projection
        self_node, self_health = me.node, me.health
        enemy_node = enemy.node if enemy is not None else self_node
        enemy_health = enemy.health if enemy is not None else 0.0
        exposure = float(level.exposure[self_node])
        await self.publish(
            "event.tip.started",
            TipStarted(
                tick=start.tick,
                tip=self.name,
                encounter=encounter,
                signature=start.signature,
                weapon=start.weapon,
                self_node=self_node,
                enemy_node=enemy_node,
                floor=me.floor,
                params=start.params.as_dict(),
            ),
        )
        tick = start.tick
        shots = hits = ticks = 0
        damage_taken = exposure_sum = 0.0
        latencies: list[int] = []
        while True:
            t0 = time.perf_counter_ns()
            decision = learner.act(
                EncounterObservation(
                    encounter=encounter,
                    weapon=start.weapon,
                    self_node=self_node,
                    enemy_node=enemy_node,
                    distance=float(level.distance[self_node, enemy_node]),
                    self_health=self_health,
                    enemy_health=enemy_health,
                    exposure=exposure,
                )
            )
            if s.planner == "graph":
                path = level.shortest_path(self_node, enemy_node, decision.flank_bias)
                move_to = path[1] if len(path) > 1 else path[0]
                fire = True
            else:
                plan: PlanReply = await self.request(
                    "plan.request",
                    PlanRequest(
                        encounter=encounter,
                        tick=tick,
                        weapon=start.weapon,
                        self_node=self_node,
                        self_health=self_health,
                        enemy_node=enemy_node,
                        enemy_health=enemy_health,
                        aim_offset=decision.aim_offset,
                        flank_bias=decision.flank_bias,
                    ),
                    timeout=s.request_timeout,
                )
                move_to, fire = plan.move_to, plan.fire
                path = (self_node, move_to)
            latencies.append(time.perf_counter_ns() - t0)
            result: ActResult = await self.request(
                "world.act",
                Act(encounter, tick, move_to, decision.aim_offset, fire),
                timeout=s.request_timeout,
            )
            shot, report = result.shot, result.report
            learner.update(shot, report)
            self.check(result)
            ticks += 1
            shots += shot.fired
            hits += shot.hit
            damage_taken += report.damage_taken
            exposure_sum += report.exposure
            await self.publish(
                "event.tip.shot",
                TipShot(
                    tick=result.tick,
                    tip=self.name,
                    encounter=encounter,
                    signature=start.signature,
                    fired=shot.fired,
                    hit=shot.hit,
                    error=shot.error,
                    damage=shot.damage,
                    aim_offset=decision.aim_offset,
                    flank_bias=decision.flank_bias,
                    self_node=report.self_node,
                    enemy_node=report.enemy_node,
                    path=tuple(path),
                    exposure=report.exposure,
                    damage_taken=report.damage_taken,
                ),
            )
            self_node, enemy_node = report.self_node, report.enemy_node
            self_health, enemy_health = report.self_health, report.enemy_health
            exposure = float(level.exposure[self_node])
            tick = result.tick + 1
            if report.done:
                break
        delta = learner.delta()
        await self.publish(
            "pattern.delta", PatternDelta(start.signature, delta, self.name, encounter, tick - 1)
        )
        await self.publish(
            "tip.report",
            TipReport(
                tip=self.name,
                encounter=encounter,
                signature=start.signature,
                reason=report.reason,
                ticks=ticks,
                shots=shots,
                hits=hits,
                damage_taken=damage_taken,
                exposure_sum=exposure_sum,
                compute_flops=int(learner.compute_flops),
                latencies_ns=np.asarray(latencies, dtype=np.int64),
            ),
        )
        await self.publish(
            "event.tip.finished",
            TipFinished(
                tick=tick - 1,
                tip=self.name,
                encounter=encounter,
                signature=start.signature,
                reason=report.reason,
                shots=shots,
                hits=hits,
                damage_taken=damage_taken,
                exposure=exposure_sum / ticks if ticks else 0.0,
                ticks=ticks,
                delta={
                    n: float(v) for n, v in zip(start.params.names, delta.tolist(), strict=False)
                },
            ),
        )
