"""The driver's side of the encounters hosted on workers: one actor in place of every TIP.

CoreAgent tells this host each TipStart (``host="tip-host"``). An encounter lives on the live
worker with the fewest open encounters when it starts (ties to the first name; starts are
placed in encounter order) until it ends. Each tick is two requests to every worker hosting
encounters: on ``TickReady`` an :class:`EncounterAct` (the encounters it starts) answered with every
action, which go to the World in one ActBatch; then an :class:`EncounterStep` with the World's
results, answered with the deltas of the encounters that ended, which CoreAgent waits for to
settle the tick. The workers plan the encounters that go on between the two, while CoreAgent
and the ULP work. The records the workers send are delivered in the driver as they came.

A worker that vanishes (kill -9: its heartbeat stops while the driver is connected; a silence
the driver's own NATS outage explains does not count, and a step is sent again meanwhile) or
fails takes its open encounters with it: each ends as failed, one
``actor.failed`` event naming its TIP, its partial delta never merged (CoreAgent closes it in
the World and commits only the encounters that finished). New encounters go to the workers
left; with none left, they fail at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Sequence

from actors.actor import Actor
from actors.channels import (
    Act,
    ActBatch,
    ActBatchResult,
    EncounterAct,
    EncounterActReply,
    EncounterSetup,
    EncounterStep,
    EncounterStepReply,
    TickReady,
    TipStart,
)
from actors.channels.workers import TIPS_STEP
from actors.messages import ActorFailed
from actors.remote_pool import WorkerLink
from actors.runtime import FAILURE_TOPIC
from actors.supervision import NEVER_RESTART
from bus import Envelope, NoResponders, Reconnected, RequestFailed, RequestTimeout
from fom.match import tip_name

__all__ = ["HOST_NAME", "RemoteTips", "place"]

log = logging.getLogger("actors.remote_tips")

HOST_NAME = "tip-host"
Request = EncounterStep | EncounterAct
Reply = EncounterStepReply | EncounterActReply
_WATCH_S = 0.1
_RETRY_S = 0.05


def place(encounters: Iterable[int], live: Sequence[str], hosted: Iterable[str]) -> dict[int, str]:
    """The worker of each new encounter: in encounter order, the live worker hosting the
    fewest open encounters (``hosted`` names the worker of each), the first name on a tie. A
    worker that joins (or comes back) takes the new encounters until it has its share."""
    load = Counter({w: 0 for w in live})
    load.update(w for w in hosted if w in load)
    homes = {}
    for e in sorted(encounters):
        worker = homes[e] = min(live, key=lambda w: (load[w], w))
        load[worker] += 1
    return homes


class RemoteTips(Actor):
    """Every encounter of the run, fought on the workers: two requests a worker a tick."""

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
        self._seq = 0
        self._later: list[Reply] = []
        """Replies whose records are still to be published: while the workers work next, so
        the driver's event work overlaps theirs."""

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case TipStart() as start:
                self._starts[start.encounter] = start
            case TickReady(tick=tick, engage=engage):
                await self._tick(tick, engage)
            case other:
                raise TypeError(f"the TIP host cannot handle {type(other).__name__}")

    async def _tick(self, tick: int, engage: tuple[int, ...]) -> None:
        """Start the engaged encounters and get every action for ``tick`` (EncounterAct), have
        the World resolve them, then send each worker its results (EncounterStep: the first
        half of the next tick, whose deltas CoreAgent waits for)."""
        by_worker: dict[str, list[TipStart]] = {}
        starts = [self._starts.pop(e) for e in engage]
        live = self.link.live()
        if starts and not live:
            await self._fail([s.encounter for s in starts], "no worker is alive")
        elif starts:
            homes = place([s.encounter for s in starts], live, self._home.values())
            for start in starts:
                worker = self._home[start.encounter] = homes[start.encounter]
                by_worker.setdefault(worker, []).append(start)
        asks = {
            w: EncounterAct(self.setup, self._next_seq(), tick, tuple(by_worker.get(w, ())))
            for w in sorted(set(self._home.values()))
        }  # fmt: skip
        acts: list[Act] = []
        for reply in await self._ask_all(asks):
            acts.extend(reply.acts)  # type: ignore[union-attr]
            self._later.append(reply)
        acts = [a for a in acts if a.encounter in self._home]  # a worker lost meanwhile
        self.runtime.hosted(len(self._home))
        await self._publish_later()  # all out before the World resolves this tick
        if not acts:
            return
        workers = sorted({self._home[a.encounter] for a in acts})
        group = {w: i for i, w in enumerate(workers)}
        batch = ActBatch(tuple(acts), tuple(group[self._home[a.encounter]] for a in acts))
        try:
            answer: ActBatchResult = await self.request(
                "world.act_batch", batch, timeout=self.timeout
            )
        except (RequestFailed, RequestTimeout) as exc:  # as TIPs whose requests failed
            await self._fail_acts(acts, type(exc).__name__, str(exc))
            return
        drop: dict[str, list[int]] = {}
        failed: list[tuple[int, str]] = []  # as TIPs whose act the World refused
        for encounter, error in zip(answer.failed, answer.errors, strict=True):
            worker = self._home.get(encounter)
            if worker is not None:
                drop.setdefault(worker, []).append(encounter)
                failed.append((encounter, error))
        for encounter, error in failed:
            del self._home[encounter]
            await self._failed(
                encounter, "RequestFailed", f"request on 'world.act' failed: EngineError: {error}"
            )
        hosting = set(self._home.values())  # a worker lost meanwhile gets nothing
        steps = {
            w: EncounterStep(self.setup, self._next_seq(), tick + 1, block, tuple(drop.get(w, ())))
            for w, block in zip(workers, answer.blocks, strict=True)
            if w in hosting or w in drop
        }
        for reply in await self._ask_all(steps):
            await self._publish(reply)  # type: ignore[arg-type]
        if tick + 1 >= self.setup.ticks:
            await self._publish_later()  # the match's last tick: nothing comes after it

    async def _fail_acts(self, acts: list[Act], kind: str, error: str) -> None:
        """The World answered none of ``acts`` (it stopped, or the run is stalled): each
        encounter fails (its worker keeps it until the run ends, then forgets the run)."""
        for act in acts:
            if self._home.pop(act.encounter, None) is not None:
                await self._failed(act.encounter, kind, error)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _ask_all(self, asks: dict[str, Request]) -> list[Reply]:
        """Send each worker its request at once; the replies in worker order. A worker that
        gives none is lost (its encounters fail)."""
        tasks = {
            asyncio.ensure_future(self._ask(worker, ask)): worker for worker, ask in asks.items()
        }
        replies: dict[str, Reply] = {}
        pending = set(tasks)
        await self._publish_later()  # the workers are busy meanwhile
        try:
            while pending:
                done, pending = await asyncio.wait(
                    pending, timeout=_WATCH_S, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    reply = None if task.cancelled() else task.result()
                    if reply is not None:
                        replies[tasks[task]] = reply
                live = set(self.link.live())  # a silence our own outage explains is no loss
                for task in pending:
                    if tasks[task] not in live:
                        task.cancel()  # its worker is gone: do not wait for the timeout
        finally:
            for task in pending:
                task.cancel()
        out: list[Reply] = []
        for worker in sorted(asks):
            reply = replies.get(worker)
            if reply is None:
                await self._lose(worker)
            else:
                out.append(reply)
        return out

    async def _ask(self, worker: str, step: Request) -> Reply | None:
        """The worker's reply; the step is sent again (same ``seq``: the worker answers it
        once) while NATS fails and when it reconnects, until the watch in ``_step`` gives the
        worker up or the request timeout passes. None when it failed for good."""
        bus = self.link.bus
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while (left := deadline - loop.time()) > 0:
            try:
                reply = await bus.request(
                    f"{TIPS_STEP}.{worker}", step, timeout=left, sender="driver",
                    resend_on_reconnect=True,
                )  # fmt: skip
            except Reconnected:  # the step or its reply may have gone with the old connection
                log.info("NATS reconnected during the step of worker %s; sending it again", worker)
            except RequestFailed as exc:  # the worker could not step: no use sending it again
                log.warning("worker %s failed its step: %s; its encounters fail", worker, exc)
                return None
            except (NoResponders, RequestTimeout):
                await asyncio.sleep(_RETRY_S)  # gone (the watch will say), or reconnecting
            except Exception as exc:  # nats-py's own (connection closed, reconnecting)
                log.info("the step of worker %s: %r; sending it again", worker, exc)
                await asyncio.sleep(_RETRY_S)
            else:
                self.link.stats.steps += 1
                return reply if isinstance(reply, EncounterStepReply | EncounterActReply) else None
        log.warning("worker %s gave no answer in %g s; its encounters fail", worker, self.timeout)
        return None

    async def _publish(self, reply: EncounterStepReply) -> None:
        """The deltas and ends of one reply on the bus now (CoreAgent waits for them), each
        delta before its ``tip.finished``; its records later (``_publish_later``)."""
        for delta, finished in zip(reply.deltas, reply.finished, strict=True):
            self._home.pop(finished.encounter, None)
            await self.publish("pattern.delta", delta)
            await self.publish("event.tip.finished", finished)
        self._later.append(reply)

    async def _publish_later(self) -> None:
        """The started, planned and shot records held back. A tick's records are written once
        the next tick is resolved (the EventLog's order), so they must be out before the World
        is sent the next tick's acts: published while the workers start the next tick's new
        encounters, else just before those acts."""
        replies, self._later = self._later, []
        stats = self.link.stats
        for reply in replies:
            stats.sent[reply.worker] = max(stats.sent.get(reply.worker, 0), reply.sent)
            stats.refused[reply.worker] = max(stats.refused.get(reply.worker, 0), reply.refused)
            # the worker sent them to NATS; only event records travel this way
            await self.bus.publish_frames(reply.records, local_only=True, within="event.")

    async def on_stop(self) -> None:
        """Publish what is held back (an interrupted run's last records)."""
        await self._publish_later()

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
