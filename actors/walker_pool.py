"""The walker pool: answers ``plan.request`` with Fractal Monte Carlo (or, as a baseline,
uniform random shooting at the same budget).

Requests already waiting when the pool wakes up (in the lockstep world: every TIP's request of
the tick) are planned together in one vectorised ``plan_batch`` (``plan_batch_mc`` for the
``mc`` planner) run, sorted by encounter so the batch does not depend on arrival order.
"""

from __future__ import annotations

import time

import numpy as np

from actors.actor import Actor
from actors.channels import PlanDone, PlanReply, PlanRequest
from bus import Envelope
from fom.fmc import plan_batch, plan_batch_mc
from fom.level import CanonicalLevel
from fom.planning import EncounterRoot, EncounterSimulator, decode_action

__all__ = ["PLAN_STREAM", "POOL_PLANNERS", "WalkerPool"]

PLAN_STREAM = 3
"""First spawn-key word of the planner's random streams: SeedSequence(seed, (PLAN_STREAM, n))."""

POOL_PLANNERS: tuple[str, ...] = ("fmc", "mc")
"""Planners the walker pool runs: Fractal Monte Carlo, or uniform random shooting (Monte Carlo)."""


class WalkerPool(Actor):
    """FMC (or MC, ``planner="mc"``) for every TIP; one micro-batch per wake-up."""

    topics = ("plan.request",)
    capacity = 1 << 16

    def __init__(
        self,
        level: CanonicalLevel,
        *,
        walkers: int,
        horizon: int,
        seed: int,
        planner: str = "fmc",
    ) -> None:
        if planner not in POOL_PLANNERS:
            raise ValueError(
                f"the walker pool plans with {' or '.join(POOL_PLANNERS)}, not {planner!r}"
            )
        self.planner = planner
        self.level = level
        self.walkers = walkers
        self.horizon = horizon
        self.seed = seed
        self.batches = 0

    async def receive(self, envelope: Envelope) -> None:
        batch = [envelope, *self.take_waiting()]
        requests = [(e.message.encounter, i, e) for i, e in enumerate(batch)]
        for _, _, e in requests:
            if not isinstance(e.message, PlanRequest):
                raise TypeError(f"the walker pool cannot handle {type(e.message).__name__}")
        requests.sort(key=lambda r: (r[0], r[1]))
        started = time.perf_counter()
        roots = [
            EncounterRoot(
                weapon=m.weapon,
                self_node=m.self_node,
                self_health=m.self_health,
                enemy_node=m.enemy_node,
                enemy_health=m.enemy_health,
                flank_bias=m.flank_bias,
            )
            for m in (e.message for _, _, e in requests)
        ]
        sim = EncounterSimulator(self.level, roots, self.walkers)
        rng = np.random.default_rng(
            np.random.SeedSequence(self.seed, spawn_key=(PLAN_STREAM, self.batches))
        )
        self.batches += 1
        if self.planner == "mc":
            decisions = plan_batch_mc(sim, len(roots), self.walkers, self.horizon, rng=rng)
        else:
            decisions = plan_batch(sim, len(roots), self.walkers, self.horizon, rng=rng)
        for (_, _, e), root, d in zip(requests, roots, decisions, strict=True):
            move_to, fire = decode_action(self.level, root.self_node, int(d.action))
            self.reply(e, PlanReply(move_to, fire, d.samples, round(d.depth)))
        await self.publish(
            "event.plan.done",
            PlanDone(
                tick=max(e.message.tick for _, _, e in requests),
                planner=self.planner,
                requests=len(requests),
                walkers=self.walkers,
                samples=sum(d.samples for d in decisions),
                depth=float(np.mean([d.depth for d in decisions])),
                elapsed_ms=(time.perf_counter() - started) * 1e3,
            ),
        )
