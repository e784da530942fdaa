"""Messages between a driver and its ``fom-worker`` processes (over NATS).

- ``plan.batch.<worker>`` (and ``plan.batch``, the walker pools' queue group): a PlanBatch
  request, answered with a PlanBatchReply.
- ``tips.step.<worker>``: an EncounterStep request (the results of a tick for the encounters
  that worker hosts, and the encounters it starts), answered with an EncounterStepReply (the
  event records, the deltas and the next tick's actions).
- ``fom.worker.alive``: each worker's WorkerAlive heartbeat; ``fom.driver.alive``: the
  driver's DriverAlive heartbeat (a worker whose driver went silent exits).
"""

from __future__ import annotations

from actors.channels.agent import TipStart
from actors.channels.events import PlanDone, TipFinished, TipShot, TipStarted
from actors.channels.pattern import PatternDelta
from actors.channels.world import Act, ActResult
from bus import message
from fom.planners import PlanChoice, PlanProblem

__all__ = [
    "DRIVER_ALIVE",
    "PLAN_BATCH",
    "TIPS_STEP",
    "WORKER_ALIVE",
    "DriverAlive",
    "EncounterSetup",
    "EncounterStep",
    "EncounterStepReply",
    "PlanBatch",
    "PlanBatchReply",
    "WorkerAlive",
]

PLAN_BATCH = "plan.batch"
"""The walker pools' subject: ``plan.batch`` for any of them (a NATS queue group),
``plan.batch.<worker>`` for one."""
TIPS_STEP = "tips.step"
"""A worker's encounters: ``tips.step.<worker>``."""
WORKER_ALIVE = "fom.worker.alive"
DRIVER_ALIVE = "fom.driver.alive"


@message("worker.plan_batch")
class PlanBatch:
    """Problems of one tick for a worker's walker pool, with what builds its planner and level."""

    world: str
    seed: int
    tips: int
    planner: str
    walkers: int
    horizon: int
    problems: tuple[PlanProblem, ...]


@message("worker.plan_batch_reply")
class PlanBatchReply:
    """One choice per problem of a PlanBatch, in order, and which worker planned them."""

    worker: str
    choices: tuple[PlanChoice, ...]


@message("worker.alive")
class WorkerAlive:
    """A worker's heartbeat: it serves ``plan.batch.<name>``."""

    name: str
    pid: int


@message("worker.driver_alive")
class DriverAlive:
    """A driver's heartbeat: its workers keep running while these come."""

    run: str
    pid: int


@message("worker.encounter_setup")
class EncounterSetup:
    """What a worker needs to host a run's encounters: its planner, level and learner."""

    run: str
    world: str
    seed: int
    tips: int
    planner: str
    walkers: int
    horizon: int
    learner: str
    ticks: int


@message("worker.encounter_step")
class EncounterStep:
    """One tick of the encounters a worker hosts: ``results`` (of tick ``tick - 1``) to observe,
    ``starts`` to begin, ``drop`` to forget (the world closed them); then decide and plan each
    live one for ``tick``. ``seq`` numbers the driver's steps to this worker: a step sent again
    (its reply was lost in a NATS outage) is answered again, not stepped twice."""

    setup: EncounterSetup
    seq: int
    tick: int
    results: tuple[ActResult, ...]
    starts: tuple[TipStart, ...]
    drop: tuple[int, ...]


@message("worker.encounter_step_reply")
class EncounterStepReply:
    """What one step made, each in encounter order: the event records, the deltas of the
    encounters that ended (before their ``tip.finished``) and the actions for the tick."""

    worker: str
    started: tuple[TipStarted, ...]
    plans: tuple[PlanDone, ...]
    shots: tuple[TipShot, ...]
    deltas: tuple[PatternDelta, ...]
    finished: tuple[TipFinished, ...]
    acts: tuple[Act, ...]
