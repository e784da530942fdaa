"""Messages between a driver and its ``fom-worker`` processes (over NATS).

- ``plan.batch.<worker>`` (and ``plan.batch``, the walker pools' queue group): a PlanBatch
  request, answered with a PlanBatchReply.
- ``fom.worker.alive``: each worker's WorkerAlive heartbeat; ``fom.driver.alive``: the
  driver's DriverAlive heartbeat (a worker whose driver went silent exits).
"""

from __future__ import annotations

from bus import message
from fom.planners import PlanChoice, PlanProblem

__all__ = [
    "DRIVER_ALIVE",
    "PLAN_BATCH",
    "WORKER_ALIVE",
    "DriverAlive",
    "PlanBatch",
    "PlanBatchReply",
    "WorkerAlive",
]

PLAN_BATCH = "plan.batch"
"""The walker pools' subject: ``plan.batch`` for any of them (a NATS queue group),
``plan.batch.<worker>`` for one."""
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
