"""Messages between a driver and its ``fom-worker`` processes (over NATS).

- ``plan.batch.<worker>`` (and ``plan.batch``, the walker pools' queue group): a PlanBatch
  request, answered with a PlanBatchReply.
- ``tips.step.<worker>``: each tick an EncounterStep request (the results of the last tick for
  the encounters that worker hosts), answered with an EncounterStepReply (the event records,
  the deltas of those that ended), then an EncounterAct request (the encounters it starts),
  answered with an EncounterActReply (the records and every encounter's next action).
- ``fom.worker.alive``: each worker's WorkerAlive heartbeat; ``fom.driver.alive``: the
  driver's DriverAlive heartbeat (a worker whose driver went silent exits).
"""

from __future__ import annotations

from actors.channels.agent import TipStart
from actors.channels.events import TipFinished
from actors.channels.pattern import PatternDelta
from actors.channels.world import Act
from bus import message
from fom.planners import PlanChoice, PlanProblem

__all__ = [
    "DRIVER_ALIVE",
    "PLAN_BATCH",
    "TIPS_STEP",
    "WORKER_ALIVE",
    "DriverAlive",
    "EncounterAct",
    "EncounterActReply",
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
    """The first half of a tick for the encounters a worker hosts: forget ``drop`` (the world
    closed them), observe ``results`` (of tick ``tick - 1``), finish those that ended; the
    others are planned for ``tick`` once the reply is sent. ``seq`` numbers the driver's
    requests to this worker: one sent again (its reply was lost in a NATS outage) is answered
    again, not done twice."""

    setup: EncounterSetup
    seq: int
    tick: int
    results: bytes
    """The World's ActResults block for this worker's encounters (b"" for none), passed on
    as the World encoded it."""
    drop: tuple[int, ...]


@message("worker.encounter_step_reply")
class EncounterStepReply:
    """What observing made, in encounter order: the deltas of the encounters that ended (before
    their ``tip.finished``) and their ``tip.shot`` records. The encounters that go on are
    observed while they are planned: their shot records come with the EncounterActReply.

    ``records`` (here and in EncounterActReply) are event records as bus frames on their
    ``event.*`` topics, encoded once on the worker, which also publishes them on NATS (the
    live stream): the driver hands them to its own subscribers as they are, neither decoding
    nor encoding them again, nor sending them to NATS a second time. ``sent`` and ``refused``
    count the run's record frames NATS took and refused on this worker so far."""

    worker: str
    records: tuple[bytes, ...]
    deltas: tuple[PatternDelta, ...]
    finished: tuple[TipFinished, ...]
    sent: int = 0
    refused: int = 0


@message("worker.encounter_act")
class EncounterAct:
    """The second half of a tick: begin ``starts``, plan them, and answer the action for
    ``tick`` of every open encounter of the worker."""

    setup: EncounterSetup
    seq: int
    tick: int
    starts: tuple[TipStart, ...]


@message("worker.encounter_act_reply")
class EncounterActReply:
    """The records (``tip.shot`` of the last tick for the encounters that went on,
    ``tip.started``, ``plan.done``) and every open encounter's action, in encounter order
    (``sent`` and ``refused`` as in EncounterStepReply)."""

    worker: str
    records: tuple[bytes, ...]
    acts: tuple[Act, ...]
    sent: int = 0
    refused: int = 0
