"""The driver's side of the encounters hosted on workers: one actor in place of every TIP.

CoreAgent tells this host each TipStart (``host="tip-host"``). An encounter lives on the worker
``live[encounter % len(live)]`` of the workers alive when it starts (a pure function of its id
and the live set) until it ends. Each tick the host sends every worker one
:class:`EncounterStep` (twice when encounters start: their start comes after CoreAgent has
settled the previous tick), publishes what came back (records, deltas), and sends the actions
to the World, which resolves the tick as ever.

A worker that vanishes (kill -9: no responders, or its heartbeat stops while the driver is
connected) or fails takes its open encounters with it: each ends as failed, one
``actor.failed`` event naming its TIP, its partial delta never merged (CoreAgent closes it in
the World and commits only the encounters that finished). New encounters go to the workers
left; with none left, they fail at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from actors.actor import Actor
from actors.channels import (
    Act,
    ActResult,
    EncounterSetup,
    EncounterStep,
    EncounterStepReply,
    TickReady,
    TipStart,
)
from actors.channels.workers import TIPS_STEP
from actors.messages import ActorFailed
from actors.remote_pool import ALIVE_S, WorkerLink
from actors.runtime import FAILURE_TOPIC
from actors.supervision import NEVER_RESTART
from bus import Envelope, NoResponders
from fom.match import tip_name

__all__ = ["HOST_NAME", "RemoteTips"]

log = logging.getLogger("actors.remote_tips")

HOST_NAME = "tip-host"
_WATCH_S = 0.1


class RemoteTips(Actor):
    """Every encounter of the run, fought on the workers in one batch per worker per tick."""

    restart = NEVER_RESTART  # the encounters' state is on the workers; a crash ends the run
    topics = ("world.ready",)
    capacity = 1 << 16

    def __init__(self, link: WorkerLink, setup: EncounterSetup, request_timeout: float) -> None:
        self.link = link
        self.setup = setup
        self.timeout = request_timeout
        self._starts: dict[int, TipStart] = {}
        self._home: dict[int, str] = {}
        """Open encounter -> the worker hosting it."""
        self._acts: list[Act] = []
        """The actions for the next tick of the encounters that go on."""

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case TipStart() as start:
                self._starts[start.encounter] = start
            case TickReady(tick=tick, engage=engage):
                await self._tick(tick, engage)
            case other:
                raise TypeError(f"the TIP host cannot handle {type(other).__name__}")

    async def _tick(self, tick: int, engage: tuple[int, ...]) -> None:
        """Start the engaged encounters, act for ``tick``, then observe its results."""
        acts = self._acts
        self._acts = []
        if engage:
            starts = [self._starts.pop(e) for e in engage]
            live = self.link.live()
            if not live:
                await self._fail([s.encounter for s in starts], "no worker is alive")
            else:
                by_worker: dict[str, list[TipStart]] = {}
                for start in starts:
                    worker = live[start.encounter % len(live)]
                    self._home[start.encounter] = worker
                    by_worker.setdefault(worker, []).append(start)
                asks = {w: EncounterStep(self.setup, tick, (), tuple(s), ()) for w, s in
                        by_worker.items()}  # fmt: skip
                acts.extend(await self._step(asks))
            acts = [a for a in acts if a.encounter in self._home]  # a worker lost meanwhile
        if not acts:
            return
        answers = await asyncio.gather(
            *(self.request("world.act", act, timeout=self.timeout) for act in acts),
            return_exceptions=True,
        )
        results: dict[str, list[ActResult]] = {}
        drop: dict[str, list[int]] = {}
        failed: list[tuple[int, BaseException]] = []
        for act, answer in zip(acts, answers, strict=True):
            worker = self._home.get(act.encounter)
            if worker is None:
                continue  # failed meanwhile (its worker was lost)
            if isinstance(answer, ActResult):
                results.setdefault(worker, []).append(answer)
            elif isinstance(answer, BaseException):
                drop.setdefault(worker, []).append(act.encounter)
                failed.append((act.encounter, answer))
        for encounter, error in failed:  # as a TIP whose act failed: the encounter fails
            del self._home[encounter]
            await self._failed(encounter, type(error).__name__, str(error))
        asks = {
            w: EncounterStep(self.setup, tick + 1, tuple(results.get(w, ())), (),
                             tuple(drop.get(w, ())))
            for w in sorted(set(results) | set(drop))
        }  # fmt: skip
        self._acts = await self._step(asks)

    async def _step(self, asks: dict[str, EncounterStep]) -> list[Act]:
        """Send each worker its step at once; publish what comes back; the actions."""
        tasks = {
            asyncio.ensure_future(self._ask(worker, step)): worker for worker, step in asks.items()
        }
        replies: dict[str, EncounterStepReply] = {}
        pending = set(tasks)
        loop = asyncio.get_running_loop()
        connected_since = loop.time()
        try:
            while pending:
                done, pending = await asyncio.wait(
                    pending, timeout=_WATCH_S, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    reply = None if task.cancelled() else task.result()
                    if reply is not None:
                        replies[tasks[task]] = reply
                if not self.link.bus.nc.is_connected:
                    connected_since = loop.time()  # a silent worker may be our own outage
                    continue
                if loop.time() - connected_since < ALIVE_S:
                    continue
                live = set(self.link.live())
                for task in pending:
                    if tasks[task] not in live:
                        task.cancel()  # its worker is gone: do not wait for the timeout
        finally:
            for task in pending:
                task.cancel()
        acts: list[Act] = []
        for worker in sorted(asks):
            reply = replies.get(worker)
            if reply is None:
                await self._lose(worker)
            else:
                acts.extend(await self._publish(reply))
        return acts

    async def _ask(self, worker: str, step: EncounterStep) -> EncounterStepReply | None:
        bus = self.link.bus
        try:
            reply = await bus.request(
                f"{TIPS_STEP}.{worker}", step, timeout=self.timeout, sender="driver"
            )
        except NoResponders:
            log.warning("worker %s is gone; its encounters fail", worker)
            return None
        except Exception as exc:  # BusError, or nats-py's own (connection closed, reconnecting)
            log.warning("the step of worker %s failed: %r; its encounters fail", worker, exc)
            return None
        self.link.stats.steps += 1
        return reply if isinstance(reply, EncounterStepReply) else None

    async def _publish(self, reply: EncounterStepReply) -> tuple[Act, ...]:
        """The records of one reply on the bus (each delta before its ``tip.finished``)."""
        for started in reply.started:
            await self.publish("event.tip.started", started)
        for plan in reply.plans:
            await self.publish("event.plan.done", plan)
        for shot in reply.shots:
            await self.publish("event.tip.shot", shot)
        for delta, finished in zip(reply.deltas, reply.finished, strict=True):
            self._home.pop(finished.encounter, None)
            await self.publish("pattern.delta", delta)
            await self.publish("event.tip.finished", finished)
        home = self._home
        return tuple(a for a in reply.acts if a.encounter in home)

    async def _lose(self, worker: str) -> None:
        """``worker`` is lost: each of its open encounters fails, one event each."""
        self.link.stats.lost_workers.add(worker)
        self.link.forget(worker)
        lost = sorted(e for e, w in self._home.items() if w == worker)
        for e in lost:
            del self._home[e]
        await self._fail(lost, f"worker {worker} was lost")

    async def _fail(self, encounters: Iterable[int], why: str) -> None:
        for e in encounters:
            self._home.pop(e, None)
            await self._failed(e, "WorkerLost", why)

    async def _failed(self, encounter: int, kind: str, error: str) -> None:
        self.link.stats.failed_encounters += 1
        await self.publish(
            FAILURE_TOPIC,
            ActorFailed(
                actor=tip_name(encounter), error_type=kind, error=error, traceback="",
                restarts=0, action="stop",
            ),
        )  # fmt: skip
