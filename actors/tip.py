"""The TIP (Task-Instance-Projection): one short-lived actor per encounter.

A thin driver of :class:`fom.match.Encounter`: decide, get a plan (its own for the graph
planner, the walker pool's for pooled planners), send the action to the World, observe the
outcome; when the encounter ends, send its delta to the ULP. A TIP never waits on another TIP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from actors.actor import Actor
from actors.channels import ActResult, PatternDelta, PlanChoice, TipStart
from actors.supervision import NEVER_RESTART
from bus import Envelope
from fom.level import CanonicalLevel
from fom.match import Encounter
from fom.planners import Planner

__all__ = ["Tip", "TipSettings"]


@dataclass(frozen=True, slots=True)
class TipSettings:
    """What every TIP of a run shares: read-only configuration, never mutable state."""

    learner: str
    planner: Planner
    level: CanonicalLevel
    request_timeout: float
    ticks: int
    """The match's length: after the result of its last tick a TIP stops without deciding."""


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

    async def fight(self, start: TipStart) -> None:
        """The encounter loop."""
        s = self.settings
        planner, level, timeout = s.planner, s.level, s.request_timeout
        encounter = Encounter.begin(
            start.knowledge,
            encounter=start.encounter,
            weapon=start.weapon,
            signature=start.signature,
            params=start.params,
            level=level,
            seed=start.run_seed,
            learner=s.learner,
            pattern=start.pattern,
        )
        await self.publish("event.tip.started", encounter.started())
        while True:
            t0 = time.perf_counter_ns()
            problem = encounter.decide()
            if planner.pooled:
                choice: PlanChoice = await self.request("plan.request", problem, timeout=timeout)
            else:
                (choice,) = planner.plan(level, (problem,), start.run_seed)
            latency_ms = (time.perf_counter_ns() - t0) / 1e6
            result: ActResult = await self.request(
                "world.act", encounter.act(choice), timeout=timeout
            )
            record = encounter.observe(result, latency_ms)
            await self.publish("event.tip.shot", record)
            if encounter.done:
                break
            if result.tick + 1 >= s.ticks:
                return  # the match is over: the encounter stays unfinished
        delta, finished = encounter.finish()
        await self.publish(
            "pattern.delta",
            PatternDelta(start.pattern, delta, self.name, start.encounter, finished.tick),
        )
        await self.publish("event.tip.finished", finished)
