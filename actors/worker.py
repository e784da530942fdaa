"""A worker process's service: encounters (TIPs), walker pools and a world for a driver over
NATS (``fom-worker``).

The worker hosts the encounters a driver assigns it and steps them a tick at a time on
``tips.step.<name>`` (:class:`actors.encounter_service.EncounterService` serving an
:class:`actors.encounter_host.EncounterHost`: observe, finish, decide, plan, act, all in this
process; two requests a tick).

With ``--world-on-worker`` one worker also hosts the run's engine on ``world.host.<name>``
(:class:`actors.world_host.WorldHost`; the driver's World actor drives it through
:class:`actors.remote_engine.RemoteEngine`).

The worker answers PlanBatch requests on ``plan.batch.<name>`` (the driver spreads a tick's
problems over its live workers) and on ``plan.batch`` as a member of the ``walker-pools`` queue
group (any one of them: where a driver sends work a lost worker had). Planning runs in a thread,
so the heartbeat (``fom.worker.alive``) keeps going during a long batch. A worker that has
served a driver exits once that driver's heartbeat stops for ``driver_timeout`` seconds; one
started by a driver (``orphan_timeout``) also exits if no driver ever shows up, and (``parent``)
as soon as that driver's process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from actors.channels import DriverAlive, PlanBatch, PlanBatchReply, WorkerAlive
from actors.channels.workers import DRIVER_ALIVE, PLAN_BATCH, TIPS_STEP, WORKER_ALIVE
from actors.channels.world_host import WORLD_HOST
from actors.encounter_host import EncounterHost
from actors.encounter_service import EncounterService
from actors.gc_policy import GcPolicy, GcTuner
from actors.world_host import WorldHost
from bus import Envelope
from bus.codec import Codec
from bus.nats import NatsBus
from fom.engines import make_engine
from fom.level import CanonicalLevel
from fom.planners import Planner, make_planner

__all__ = ["QUEUE_GROUP", "WorkerResult", "default_name", "serve"]

log = logging.getLogger("actors.worker")

QUEUE_GROUP = "walker-pools"
HEARTBEAT_S = 0.25
"""Seconds between two heartbeats of a worker (and of a driver)."""


def default_name() -> str:
    """``<host>-<pid>``, a single subject token."""
    host = socket.gethostname().split(".")[0].replace("*", "_").replace(">", "_") or "host"
    return f"{host}-{os.getpid()}"


@dataclass(slots=True)
class WorkerResult:
    """How a worker's service ended."""

    batches: int
    problems: int
    reason: str


class _Planners:
    """The planner and level of each run setup seen, built once (a pure function of the setup)."""

    def __init__(self) -> None:
        self._built: dict[tuple[object, ...], tuple[Planner, CanonicalLevel]] = {}

    def get(self, batch: PlanBatch) -> tuple[Planner, CanonicalLevel]:
        key = (batch.world, batch.seed, batch.tips, batch.planner, batch.walkers, batch.horizon)
        built = self._built.get(key)
        if built is None:
            planner = make_planner(batch.planner, walkers=batch.walkers, horizon=batch.horizon)
            level = make_engine(batch.world, batch.seed, batch.tips).level
            built = self._built[key] = (planner, level)
        return built


async def serve(
    bus: NatsBus,
    name: str,
    *,
    driver_timeout: float = 5.0,
    orphan_timeout: float | None = None,
    parent: int | None = None,
    stop: asyncio.Event | None = None,
) -> WorkerResult:
    """Serve plan batches on ``bus`` until ``stop`` is set or the driver is gone (its heartbeat
    stopped, or, with ``parent``, that process id is no longer this process's parent)."""
    stop = stop or asyncio.Event()
    planners = _Planners()
    loop = asyncio.get_running_loop()
    started = loop.time()
    last_driver: float | None = None
    served = [0, 0]
    direct = bus.subscribe(f"{PLAN_BATCH}.{name}", name=f"{name}-direct", capacity=1 << 12)
    shared = bus.subscribe(PLAN_BATCH, name=f"{name}-any", capacity=1 << 12, queue=QUEUE_GROUP)
    drivers = bus.subscribe(DRIVER_ALIVE, name=f"{name}-drivers", capacity=64)
    steps = bus.subscribe(f"{TIPS_STEP}.{name}", name=f"{name}-tips", capacity=1 << 12)
    worlds = bus.subscribe(f"{WORLD_HOST}.{name}", name=f"{name}-world", capacity=64)
    world_host = WorldHost()

    async def world(envelope: Envelope) -> None:
        try:
            snapshot = await asyncio.to_thread(world_host.handle, envelope.message)
        except Exception as exc:  # the driver's World stops with it
            log.exception("worker %s: its world failed", name)
            bus.reply_error(envelope, exc)
            return
        bus.reply(envelope, snapshot, sender=name)
    host = EncounterHost(name, Codec(bus.registry, bus.codec.max_frame_size))

    async def answer(envelope: Envelope) -> None:
        batch = envelope.message
        if not isinstance(batch, PlanBatch):
            bus.reply_error(envelope, TypeError(f"a worker plans PlanBatch, not {batch!r}"))
            return
        try:
            planner, level = planners.get(batch)
            choices = await asyncio.to_thread(planner.plan, level, batch.problems, batch.seed)
        except Exception as exc:  # the driver raises it as RequestFailed, and plans elsewhere
            log.exception("worker %s could not plan a batch", name)
            bus.reply_error(envelope, exc)
            return
        served[0] += 1
        served[1] += len(batch.problems)
        bus.reply(envelope, PlanBatchReply(name, tuple(choices)), sender=name)

    async def take(sub: object, handle: Callable[[Envelope], Awaitable[None]] = answer) -> None:
        while True:
            envelope = await sub.get()  # type: ignore[attr-defined]
            await handle(envelope)

    async def heartbeat() -> str:
        nonlocal last_driver
        alive = WorkerAlive(name, os.getpid())
        while not stop.is_set():
            while (env := drivers.get_nowait()) is not None:
                if isinstance(env.message, DriverAlive):
                    last_driver = loop.time()
            if parent is not None and os.getppid() != parent:
                return "the driver process is gone"
            now = loop.time()
            if last_driver is not None and now - last_driver > driver_timeout:
                return f"no heartbeat from the driver for {driver_timeout:g} s"
            orphaned = last_driver is None and orphan_timeout is not None
            if orphaned and now - started > orphan_timeout:  # type: ignore[operator]
                return f"no driver within {orphan_timeout:g} s"
            try:
                await bus.publish(WORKER_ALIVE, alive, sender=name)
            except Exception as exc:  # reconnecting: nats-py buffers, or says it cannot
                log.info("worker %s heartbeat not sent: %r", name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEARTBEAT_S)
        return "stopped"

    reason = "stopped"
    tuner = GcTuner(GcPolicy())  # as a runtime of as many actors as encounters hosted
    tuner.apply()
    async with contextlib.AsyncExitStack() as stack, asyncio.TaskGroup() as tg:
        stack.callback(tuner.restore)
        encounters = EncounterService(bus, host, tg, on_change=tuner.resize)
        stack.callback(world_host.close)
        takers = [tg.create_task(take(direct)), tg.create_task(take(shared)),
                  tg.create_task(take(steps, encounters.handle)),
                  tg.create_task(take(worlds, world))]  # fmt: skip
        try:
            reason = await heartbeat()
        finally:
            for task in takers:
                task.cancel()
    served[0] += host.steps
    served[1] += host.decisions
    return WorkerResult(batches=served[0], problems=served[1], reason=reason)
