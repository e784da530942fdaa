"""The walker pool: answers ``plan.request`` for the pooled planners (FMC, or MC as a baseline).

Requests already waiting when the pool wakes up (in the lockstep world: every TIP's request of
the tick) are planned together in one vectorised batch. Each plan draws from its own stream
keyed by (run seed, encounter, tick), so a reply, and the ``plan.done`` event published for each
request, never depend on how requests happened to be batched. A pool that crashes fails every
request it had taken at once (the runtime does it), not after the requests' timeout.
"""

from __future__ import annotations

import time

from actors.actor import Actor
from actors.channels import PlanChoice, PlanDone, PlanProblem
from bus import Envelope
from fom.level import CanonicalLevel
from fom.planners import Planner

__all__ = ["WalkerPool"]


class WalkerPool(Actor):
    """Plans for every TIP with a pooled planner: the requests waiting at a wake-up in one batch,
    then one reply and one ``plan.done`` per request."""

    topics = ("plan.request",)
    capacity = 1 << 16

    def __init__(
        self, planner: Planner, level: CanonicalLevel, *, seed: int, name: str, walkers: int
    ) -> None:
        if not planner.pooled:
            raise ValueError(f"the walker pool runs pooled planners, not {type(planner).__name__}")
        self.planner = planner
        self.planner_name = name
        self.level = level
        self.seed = seed
        self.walkers = walkers
        self.batches = 0
        """Batches planned so far, one per wake-up (a diagnostic: replies never depend on it)."""

    async def receive(self, envelope: Envelope) -> None:
        batch = self.take_batch(envelope)
        started = time.perf_counter()
        choices = await self.plan_batch([e.message for e in batch])
        await self.answer(batch, choices, (time.perf_counter() - started) * 1e3 / len(batch))

    def take_batch(self, envelope: Envelope) -> list[Envelope]:
        """``envelope`` and every request already waiting, sorted by encounter."""
        batch = [envelope, *self.take_waiting()]
        for e in batch:
            if not isinstance(e.message, PlanProblem):
                raise TypeError(f"the walker pool cannot handle {type(e.message).__name__}")
        batch.sort(key=lambda e: e.message.encounter)
        self.batches += 1
        return batch

    async def answer(
        self, batch: list[Envelope], choices: list[PlanChoice], elapsed_ms: float
    ) -> None:
        """Reply to each request of ``batch``, then publish a ``plan.done`` for each."""
        for e, choice in zip(batch, choices, strict=True):
            self.reply(e, choice)
        for e, choice in zip(batch, choices, strict=True):
            await self.publish(
                "event.plan.done",
                PlanDone(
                    tick=e.message.tick,
                    planner=self.planner_name,
                    requests=1,
                    walkers=self.walkers,
                    samples=choice.samples,
                    depth=choice.depth,
                    elapsed_ms=elapsed_ms,
                ),
            )

    async def plan_batch(self, problems: list[PlanProblem]) -> list[PlanChoice]:
        """One choice per problem, in order (here; ``RemoteWalkerPool`` asks its workers)."""
        return self.planner.plan(self.level, problems, self.seed)
