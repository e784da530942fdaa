"""The driver's side of the workers: a walker pool that plans each tick's batch on them.

A tick's problems are split over the live workers by a pure function of the encounter id and
sent to each as one PlanBatch (``plan.batch.<worker>``). Each plan draws from its own
(run seed, encounter, tick) stream, so the choices, and so the whole match and its event
stream, are the same whichever worker planned them, in one process or over many. A chunk whose
worker vanished (its heartbeat stopped), failed or timed out is sent again to the walker pools'
queue group (``plan.batch``), or planned here when no worker is left: a lost worker costs
time, never a decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from actors.channels import DriverAlive, PlanBatch, PlanBatchReply, PlanChoice, PlanProblem
from actors.channels.workers import DRIVER_ALIVE, PLAN_BATCH, WORKER_ALIVE
from actors.walker_pool import WalkerPool
from bus import BusError, Envelope, NoResponders, Reconnected
from bus.nats import NatsBus

__all__ = ["LinkStats", "RemoteWalkerPool", "WorkerLink"]

log = logging.getLogger("actors.remote_pool")

ALIVE_S = 1.5
"""A worker whose last heartbeat is older than this is taken for lost."""
PIPELINE = 2
"""Chunks per worker in a big batch: the driver answers the first while the others plan."""
PIPELINE_MIN = 32
"""Problems per worker from which a batch is pipelined."""
_WATCH_S = 0.1
_MAX_TRIES = 3

Answer = Callable[[list[int], list[PlanChoice]], Awaitable[None]]
"""Called with the rows of a planned chunk (indexes into the batch) and their choices."""


@dataclass(slots=True)
class LinkStats:
    """What the workers did for a run, and what was lost on the way."""

    batches: int = 0
    """Chunks planned by workers."""
    local_batches: int = 0
    """Batches planned in the driver (no worker was alive)."""
    resent: int = 0
    """Chunks sent again because their worker vanished, failed or timed out."""
    lost_workers: set[str] = field(default_factory=set)
    """Workers that stopped answering during the run."""
    seen: set[str] = field(default_factory=set)
    """Every worker that took part."""
    steps: int = 0
    """Encounter steps the workers answered (a run whose TIPs live on the workers)."""
    failed_encounters: int = 0
    """Encounters that failed with their worker (or whose action failed): lost, not merged."""
    sent: dict[str, int] = field(default_factory=dict)
    """Per worker, the event records it published on NATS itself, as it last said."""
    refused: dict[str, int] = field(default_factory=dict)
    """Per worker, the event records NATS refused it, as it last said."""


class WorkerLink:
    """Heartbeats both ways and PlanBatch requests, over the driver's NATS bus."""

    def __init__(self, bus: NatsBus, run: str, *, timeout: float) -> None:
        self.bus = bus
        self.run = run
        self.timeout = timeout
        self.stats = LinkStats()
        self._last: dict[str, float] = {}
        self._beat: asyncio.TimerHandle | None = None
        self._sub: object | None = None
        self._down = -math.inf
        """When the driver last saw its own connection down (a NATS outage)."""

    async def start(self) -> None:
        """Listen to the workers' heartbeats and start the driver's."""
        decode = self.bus.codec.decode_message
        loop = asyncio.get_running_loop()

        async def alive(msg: object) -> None:
            with contextlib.suppress(BusError):
                beat = decode(msg.data)  # type: ignore[attr-defined]
                self._last[beat.name] = loop.time()
                self.stats.seen.add(beat.name)

        self._sub = await self.bus.nc.subscribe(WORKER_ALIVE, cb=alive)
        self._heartbeat()

    def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        if not self.bus.nc.is_connected:  # the driver's own outage: its workers were not heard
            self._down = loop.time()
        with contextlib.suppress(Exception):
            beat = DriverAlive(self.run, os.getpid())
            self.bus.publish_nowait(DRIVER_ALIVE, beat, sender="driver")
        self._beat = loop.call_later(0.25, self._heartbeat)

    def live(self) -> list[str]:
        """The workers heard from within ``ALIVE_S``, sorted by name; the others are lost.
        A silence that the driver's own outage explains does not count (NATS came back)."""
        now = asyncio.get_running_loop().time()
        if not self.bus.nc.is_connected:
            self._down = now
        alive = []
        for name, last in self._last.items():
            if now - max(last, self._down) <= ALIVE_S:
                alive.append(name)
            else:
                self.stats.lost_workers.add(name)
        return sorted(alive)

    async def wait_for(
        self, count: int, timeout: float, check: Callable[[], None] = lambda: None
    ) -> list[str]:
        """The live workers once ``count`` of them are (at most ``timeout`` seconds);
        ``check`` may raise to stop waiting (a worker that died at start, say)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(live := self.live()) < count and loop.time() < deadline:
            check()
            await asyncio.sleep(0.05)
        return live

    def forget(self, worker: str) -> None:
        """Take ``worker`` for lost now (it answered no more), whatever its last heartbeat."""
        if self._last.pop(worker, None) is not None:
            self.stats.lost_workers.add(worker)

    def close(self) -> None:
        """Stop the driver's heartbeat (its workers then exit by themselves)."""
        if self._beat is not None:
            self._beat.cancel()
            self._beat = None

    async def plan(
        self,
        template: PlanBatch,
        problems: Sequence[PlanProblem],
        local: Callable[[list[PlanProblem]], list[PlanChoice]],
        answer: Answer,
    ) -> None:
        """Plan ``problems`` on the live workers (else with ``local``), calling ``answer`` with
        the rows of each chunk and their choices as soon as that chunk is back."""
        workers = self.live()
        if not workers:
            self.stats.local_batches += 1
            await answer(list(range(len(problems))), local(list(problems)))
            return
        k = len(workers)
        parts = k * (PIPELINE if len(problems) >= PIPELINE_MIN * k else 1)
        chunks: dict[int, list[int]] = {}
        for i, problem in enumerate(problems):
            chunks.setdefault(problem.encounter % parts, []).append(i)
        todo = {j: f"{PLAN_BATCH}.{workers[j % k]}" for j in chunks}
        for attempt in range(_MAX_TRIES + 1):
            if not todo:
                return
            if attempt == _MAX_TRIES or not self.live():
                for j in todo:
                    rows = chunks[j]
                    self.stats.local_batches += 1
                    await answer(rows, local([problems[i] for i in rows]))
                return
            failed = await self._round(template, problems, chunks, todo, answer)
            self.stats.resent += len(failed)
            todo = {j: PLAN_BATCH for j in failed}  # any walker pool: the queue group

    async def _round(
        self,
        template: PlanBatch,
        problems: Sequence[PlanProblem],
        chunks: dict[int, list[int]],
        todo: dict[int, str],
        answer: Answer,
    ) -> list[int]:
        """Send each chunk of ``todo`` once, answering each as it comes back; the chunks that
        came back without choices (their worker vanished, failed or timed out)."""
        tasks: dict[asyncio.Task[PlanBatchReply | None], int] = {}
        failed: list[int] = []
        async with asyncio.TaskGroup() as tg:
            for j, subject in todo.items():
                batch = PlanBatch(
                    template.world, template.seed, template.tips, template.planner,
                    template.walkers, template.horizon,
                    tuple(problems[i] for i in chunks[j]),
                )  # fmt: skip
                tasks[tg.create_task(self._ask(subject, batch))] = j
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(
                    pending, timeout=_WATCH_S, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    j = tasks[task]
                    reply = None if task.cancelled() else task.result()
                    if reply is None or len(reply.choices) != len(chunks[j]):
                        failed.append(j)
                        continue
                    self.stats.batches += 1
                    await answer(chunks[j], list(reply.choices))
                live = set(self.live())
                for task in pending:
                    subject = todo[tasks[task]]
                    gone = subject.removeprefix(f"{PLAN_BATCH}.") not in live
                    if (subject == PLAN_BATCH and not live) or (subject != PLAN_BATCH and gone):
                        task.cancel()  # its worker is gone: do not wait for the timeout
        return sorted(failed)

    async def _ask(self, subject: str, batch: PlanBatch) -> PlanBatchReply | None:
        """The batch's reply, sent again at once when NATS reconnects (the outage may have
        lost it); None when it failed."""
        while True:
            try:
                reply = await self.bus.request(
                    subject, batch, timeout=self.timeout, sender="driver", resend_on_reconnect=True
                )
            except Reconnected:
                log.info("NATS reconnected during plan batch on %s; sending it again", subject)
                continue
            except NoResponders:  # the worker's subscription is gone: it is, too
                worker = subject.removeprefix(f"{PLAN_BATCH}.")
                if worker != subject and self._last.pop(worker, None) is not None:
                    self.stats.lost_workers.add(worker)
                    log.warning("worker %s is gone; its share goes to the others", worker)
                return None
            except Exception as exc:  # BusError, or nats-py's own (connection closed, reconnecting)
                log.warning("plan batch on %s failed: %r; sending it again", subject, exc)
                return None
            return reply if isinstance(reply, PlanBatchReply) else None


class RemoteWalkerPool(WalkerPool):
    """The walker pool of a driver: the same batching and events, its planning on workers;
    each chunk's requests are answered as soon as that chunk is back."""

    def __init__(self, *args: object, link: WorkerLink, template: PlanBatch, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.link = link
        self.template = template

    async def receive(self, envelope: Envelope) -> None:
        batch = self.take_batch(envelope)
        started = time.perf_counter()

        async def answer(rows: list[int], choices: list[PlanChoice]) -> None:
            elapsed_ms = (time.perf_counter() - started) * 1e3 / len(rows)
            await self.answer([batch[i] for i in rows], choices, elapsed_ms)

        await self.link.plan(
            self.template,
            [e.message for e in batch],
            lambda rows: self.planner.plan(self.level, rows, self.seed),
            answer,
        )
