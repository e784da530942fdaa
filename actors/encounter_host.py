"""A worker's encounters: the TIPs of a run that live in this process, driven a tick at a time.

Each :class:`fom.match.Encounter` is the same object a TIP drives, stepped the same way
(observe, finish or decide, plan, act), so an encounter ends the same whichever process hosts
it. A tick is two requests per worker, whatever the number of encounters it hosts:

1. :meth:`EncounterHost.observe` (an :class:`EncounterStep`): observe the results of the last
   tick and finish the encounters that ended; the reply (their deltas) goes back at once, and
   the encounters that go on are planned meanwhile (:meth:`EncounterHost.plan_waiting`), while
   the driver merges the deltas and starts new encounters;
2. :meth:`EncounterHost.act` (an :class:`EncounterAct`): begin the new encounters, plan them,
   and answer every open encounter's action for the tick.

A planner's choice for a problem never depends on which batch it is planned in, so the split
changes no decision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from actors.channels import (
    ActResults,
    EncounterAct,
    EncounterActReply,
    EncounterSetup,
    EncounterStep,
    EncounterStepReply,
    PatternDelta,
    PlanDone,
)
from bus.codec import Codec
from fom.engines import make_engine
from fom.errors import EngineError
from fom.level import CanonicalLevel
from fom.match import Act, ActResult, Encounter
from fom.planners import Planner, make_planner

__all__ = ["EncounterHost"]

KEEP_RUNS = 4
"""Runs a worker keeps (a long-lived worker serves one driver after another): the oldest go."""

_Planned = tuple[Encounter, Act, bytes | None]
"""A planned encounter, its action, and its plan record's frame (pooled planners)."""
Request = EncounterStep | EncounterAct
Reply = EncounterStepReply | EncounterActReply


@dataclass(slots=True)
class _Run:
    """One driver's run: its planner and level (built once) and its open encounters."""

    setup: EncounterSetup
    planner: Planner
    level: CanonicalLevel
    open: dict[int, Encounter] = field(default_factory=dict)
    last: tuple[int, Reply] | None = None
    """The last request's number and reply (a request sent again gets it again)."""
    waiting: list[Encounter] = field(default_factory=list)
    """Encounters that go on, not planned yet."""
    unobserved: list[tuple[Encounter, ActResult, float]] = field(default_factory=list)
    """Results of encounters that go on, observed with their planning (the driver waits only
    for the encounters that ended), with their last decision's latency."""
    shots: list[bytes] = field(default_factory=list)
    """The ``tip.shot`` frames of those, sent with the act reply."""
    planned: list[_Planned] = field(default_factory=list)
    """Encounters planned for the coming tick: the action, and the plan record's frame."""
    latency_ms: dict[int, float] = field(default_factory=dict)
    """Each open encounter's last decision latency: its decide-and-plan batch (wall)."""
    published: int = 0
    """The ``seq`` of the last request whose records went out on NATS."""
    sent: int = 0
    """Record frames handed to NATS over the run."""
    refused: int = 0
    """Record frames NATS refused over the run."""


class EncounterHost:
    """The encounters a worker hosts, per run (a driver's run id)."""

    def __init__(self, name: str, codec: Codec | None = None) -> None:
        """``codec`` encodes the event records (a host of its own: steps run in a thread)."""
        self.name = name
        self.codec = codec or Codec()
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

    def _again(self, run: _Run, seq: int) -> Reply | None:
        return run.last[1] if run.last is not None and run.last[0] == seq else None

    def to_publish(self, request: Request, reply: Reply) -> tuple[bytes, ...]:
        """The reply's record frames, unless they went out already (a request sent again)."""
        run = self._runs.get(request.setup.run)
        if run is None or run.published >= request.seq:
            return ()
        run.published = request.seq
        return reply.records

    def count_sent(self, request: Request, sent: int, refused: int) -> None:
        """Count record frames of the request's run NATS took (``sent``) and refused."""
        run = self._runs.get(request.setup.run)
        if run is not None:
            run.sent += sent
            run.refused += refused

    def waiting(self, request: Request) -> bool:
        """Whether encounters of the request's run wait to act (an act request follows)."""
        run = self._runs.get(request.setup.run)
        return run is not None and bool(run.waiting or run.planned)

    def sent_count(self, request: Request) -> tuple[int, int]:
        """The run's record frames sent and refused so far."""
        run = self._runs.get(request.setup.run)
        return (0, 0) if run is None else (run.sent, run.refused)

    def forget(self, run: str) -> None:
        """Drop a run's encounters (its driver is gone)."""
        self._runs.pop(run, None)

    @property
    def open(self) -> int:
        """Encounters open over every run."""
        return sum(len(r.open) for r in self._runs.values())

    def observe(self, step: EncounterStep) -> EncounterStepReply:
        """Forget the dropped encounters, observe the results of tick ``step.tick - 1``, finish
        those that ended; those that go on wait to be planned for ``step.tick``."""
        run = self._run(step.setup)
        if (again := self._again(run, step.seq)) is not None:
            return again  # type: ignore[return-value]
        setup, encounters = run.setup, run.open
        self._observe_waiting(run)  # (none: an act request came in between)
        for e in step.drop:
            encounters.pop(e, None)
            run.latency_ms.pop(e, None)
        if step.drop:
            run.waiting = [enc for enc in run.waiting if enc.encounter in encounters]
            run.planned = [p for p in run.planned if p[0].encounter in encounters]
        shots, deltas, finished = [], [], []
        block = self.codec.decode_message(step.results) if step.results else ActResults(())
        if not isinstance(block, ActResults):
            raise EngineError(f"a step's results are an ActResults, not {type(block).__name__}")
        for result in sorted(block.results, key=lambda r: r.report.encounter):
            e = result.report.encounter
            encounter = encounters[e]
            latency_ms = run.latency_ms.pop(e, 0.0)
            if not result.report.done and step.tick < setup.ticks:  # goes on: observed later
                run.unobserved.append((encounter, result, latency_ms))
                run.waiting.append(encounter)
                continue
            shots.append(encounter.observe(result, latency_ms))
            if encounter.done:
                delta, record = encounter.finish()
                del encounters[e]
                deltas.append(PatternDelta(encounter.pattern, delta, encounter.tip, e, record.tick))
                finished.append(record)
            else:  # the match is over (the others went on above): it stays unfinished
                del encounters[e]
        if step.tick >= setup.ticks:
            encounters.clear()  # the match is over: what is still open stays unfinished
        records = tuple(self._frame("event.tip.shot", r) for r in shots)
        reply = EncounterStepReply(self.name, records, tuple(deltas), tuple(finished))
        run.last = (step.seq, reply)
        self.steps += 1
        return reply

    def plan_waiting(self, run_id: str) -> None:
        """Decide and plan the encounters waiting (a worker calls this in a thread, between
        the observe reply and the act request)."""
        run = self._runs.get(run_id)
        if run is None:
            return
        self._observe_waiting(run)
        waiting, run.waiting = run.waiting, []
        run.planned.extend(self._plan(run, waiting))

    def _observe_waiting(self, run: _Run) -> None:
        """Observe the results left for later; their shot frames go with the act reply."""
        unobserved, run.unobserved = run.unobserved, []
        for encounter, result, latency_ms in unobserved:
            run.shots.append(self._frame("event.tip.shot", encounter.observe(result, latency_ms)))

    def _frame(self, topic: str, record: object) -> bytes:
        """An event record as the bus frame the driver delivers and NATS carries."""
        return self.codec.encode(topic, self.name, 0, 0, "", record)

    def _plan(self, run: _Run, deciding: list[Encounter]) -> list[_Planned]:
        """One planning batch: each encounter's action and its plan record's frame."""
        setup, planner, level = run.setup, run.planner, run.level
        deciding.sort(key=lambda enc: enc.encounter)
        t0 = time.perf_counter()
        problems = [enc.decide() for enc in deciding]
        if planner.pooled:
            choices = planner.plan(level, problems, setup.seed) if problems else []
        else:
            choices = [planner.plan(level, (p,), setup.seed)[0] for p in problems]
        batch_ms = (time.perf_counter() - t0) * 1e3  # every decision of the batch waits for it all
        elapsed_ms = batch_ms / max(len(problems), 1)
        out = []
        for enc, problem, choice in zip(deciding, problems, choices, strict=True):
            record = None
            if planner.pooled:
                done = PlanDone(problem.tick, setup.planner, 1, setup.walkers, choice.samples,
                                choice.depth, elapsed_ms)  # fmt: skip
                record = self._frame("event.plan.done", done)
            run.latency_ms[enc.encounter] = batch_ms
            out.append((enc, enc.act(choice), record))
        return out

    def act(self, request: EncounterAct) -> EncounterActReply:
        """Begin ``request.starts``, plan them (and any encounter still waiting), and answer
        the action of every encounter planned for ``request.tick``, in encounter order."""
        run = self._run(request.setup)
        if (again := self._again(run, request.seq)) is not None:
            return again  # type: ignore[return-value]
        setup, encounters = run.setup, run.open
        begun, started = [], []
        for start in sorted(request.starts, key=lambda s: s.encounter):
            encounter = Encounter.begin(
                start.knowledge, encounter=start.encounter, weapon=start.weapon,
                signature=start.signature, params=start.params, level=run.level,
                seed=start.run_seed, learner=setup.learner, pattern=start.pattern,
            )  # fmt: skip
            encounters[start.encounter] = encounter
            begun.append(encounter)
            started.append(encounter.started())
        self._observe_waiting(run)
        waiting, run.waiting = run.waiting, []
        planned = run.planned + self._plan(run, waiting) + self._plan(run, begun)
        run.planned = []
        planned.sort(key=lambda p: p[0].encounter)
        shots, run.shots = run.shots, []
        records = (
            *shots,
            *(self._frame("event.tip.started", record) for record in started),
            *(record for _, _, record in planned if record is not None),
        )
        acts = tuple(act for _, act, _ in planned)
        self.decisions += len(acts)
        reply = EncounterActReply(self.name, records, acts)
        run.last = (request.seq, reply)
        return reply
