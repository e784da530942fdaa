"""A worker's encounters: the TIPs of a run that live in this process, driven a tick at a time.

Each :class:`fom.match.Encounter` is the same object a TIP drives, stepped the same way
(observe, finish or decide, plan, act), so an encounter ends the same whichever process hosts
it. A step is one batch for all the encounters a worker hosts: one request per worker per tick
instead of one per TIP, and one vectorised planning batch for the pooled planners.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from actors.channels import (
    EncounterSetup,
    EncounterStep,
    EncounterStepReply,
    PatternDelta,
    PlanDone,
)
from fom.engines import make_engine
from fom.level import CanonicalLevel
from fom.match import Encounter
from fom.planners import Planner, make_planner

__all__ = ["EncounterHost"]

KEEP_RUNS = 4
"""Runs a worker keeps (a long-lived worker serves one driver after another): the oldest go."""


@dataclass(slots=True)
class _Run:
    """One driver's run: its planner and level (built once) and its open encounters."""

    setup: EncounterSetup
    planner: Planner
    level: CanonicalLevel
    open: dict[int, Encounter] = field(default_factory=dict)
    last: tuple[int, EncounterStepReply] | None = None
    """The last step's number and reply (a step sent again gets it again)."""
    latency_ms: dict[int, float] = field(default_factory=dict)
    """Each open encounter's last decision latency: its step's decide-and-plan batch (wall)."""


class EncounterHost:
    """The encounters a worker hosts, per run (a driver's run id)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._runs: dict[str, _Run] = {}
        self.steps = 0
        self.decisions = 0

    def _run(self, setup: EncounterSetup) -> _Run:
        run = self._runs.get(setup.run)
        if run is None or run.setup != setup:
            planner = make_planner(setup.planner, walkers=setup.walkers, horizon=setup.horizon)
            level = make_engine(setup.world, setup.seed, setup.tips).level
            run = self._runs[setup.run] = _Run(setup, planner, level)
            while len(self._runs) > KEEP_RUNS:
                del self._runs[next(iter(self._runs))]
        return run

    def forget(self, run: str) -> None:
        """Drop a run's encounters (its driver is gone)."""
        self._runs.pop(run, None)

    @property
    def open(self) -> int:
        """Encounters open over every run."""
        return sum(len(r.open) for r in self._runs.values())

    def step(self, step: EncounterStep) -> EncounterStepReply:
        """Observe the results, begin the starts, then decide, plan and act for ``step.tick``."""
        run = self._run(step.setup)
        if run.last is not None and run.last[0] == step.seq:
            return run.last[1]
        setup, encounters = run.setup, run.open
        for e in step.drop:
            encounters.pop(e, None)
            run.latency_ms.pop(e, None)
        shots, deltas, finished, deciding = [], [], [], []
        for result in sorted(step.results, key=lambda r: r.report.encounter):
            e = result.report.encounter
            encounter = encounters[e]
            shots.append(encounter.observe(result, run.latency_ms.pop(e, 0.0)))
            if encounter.done:
                delta, record = encounter.finish()
                del encounters[e]
                deltas.append(PatternDelta(encounter.pattern, delta, encounter.tip, e, record.tick))
                finished.append(record)
            elif result.tick + 1 >= setup.ticks:
                del encounters[e]  # the match is over: the encounter stays unfinished
            else:
                deciding.append(encounter)
        started = []
        for start in sorted(step.starts, key=lambda s: s.encounter):
            encounter = Encounter.begin(
                start.knowledge, encounter=start.encounter, weapon=start.weapon,
                signature=start.signature, params=start.params, level=run.level,
                seed=start.run_seed, learner=setup.learner, pattern=start.pattern,
            )  # fmt: skip
            encounters[start.encounter] = encounter
            started.append(encounter.started())
            deciding.append(encounter)
        deciding.sort(key=lambda enc: enc.encounter)
        t0 = time.perf_counter()
        problems = [enc.decide() for enc in deciding]
        planner, level = run.planner, run.level
        if planner.pooled:
            choices = planner.plan(level, problems, setup.seed) if problems else []
        else:
            choices = [planner.plan(level, (p,), setup.seed)[0] for p in problems]
        elapsed_ms = (time.perf_counter() - t0) * 1e3 / max(len(problems), 1)
        plans = tuple(
            PlanDone(p.tick, setup.planner, 1, setup.walkers, c.samples, c.depth, elapsed_ms)
            for p, c in zip(problems, choices, strict=True)
            if planner.pooled
        )
        acts = tuple(enc.act(c) for enc, c in zip(deciding, choices, strict=True))
        batch_ms = (time.perf_counter() - t0) * 1e3  # every decision of the batch waits for it all
        run.latency_ms.update((enc.encounter, batch_ms) for enc in deciding)
        self.steps += 1
        self.decisions += len(acts)
        reply = EncounterStepReply(
            self.name, tuple(started), plans, tuple(shots), tuple(deltas), tuple(finished), acts
        )
        run.last = (step.seq, reply)
        if step.tick >= setup.ticks:
            encounters.clear()  # the match is over: what is still open stays unfinished
        return reply
