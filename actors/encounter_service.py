"""A worker's ``tips.step.<name>`` service: the two requests of each tick, with the planning
and the live stream's publishing done between them, while the driver works.

- EncounterStep: observe and finish (:meth:`EncounterHost.observe`), reply, then plan the
  encounters that go on in a thread (:meth:`EncounterHost.plan_waiting`);
- EncounterAct: once that planning is done, begin and plan the new encounters and reply with
  every action (:meth:`EncounterHost.act`).

Records go out on NATS after an act reply (the driver does not wait for them, and this worker
has nothing to plan while the World resolves the tick), those of the observe reply before it
included; no reply waits for them but the match's last, so each reply counts the records NATS
has taken and refused so far (``sent``, ``refused``) and the last one counts them all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from actors.channels import EncounterAct, EncounterStep
from actors.encounter_host import EncounterHost, Reply, Request
from bus import Envelope
from bus.nats import NatsBus

__all__ = ["EncounterService"]

log = logging.getLogger("actors.encounter_service")


class EncounterService:
    """Answers a driver's encounter requests for one worker (tasks in the worker's group)."""

    def __init__(
        self,
        bus: NatsBus,
        host: EncounterHost,
        tg: asyncio.TaskGroup,
        *,
        on_change: Callable[[int], None] = lambda open_: None,
    ) -> None:
        """``on_change`` hears the number of open encounters after each request."""
        self.bus = bus
        self.on_change = on_change
        self.host = host
        self.tg = tg
        self._planning: asyncio.Task[BaseException | None] | None = None
        self._publishing: asyncio.Task[None] | None = None
        self._held: list[tuple[Request, tuple[bytes, ...]]] = []
        """Records of observe replies, published with the next act reply's: after it, while
        the driver's World resolves the tick, not while this worker plans."""

    async def handle(self, envelope: Envelope) -> None:
        """Answer one request (requests are handled one at a time, in order)."""
        match envelope.message:
            case EncounterStep() as request:
                await self._planned()  # an act never asked for: its planning is done anyway
                reply = await self._answer(envelope, request, self.host.observe)
                if reply is not None:
                    self._planning = self.tg.create_task(self._plan(request.setup.run))
            case EncounterAct() as request:
                error = await self._planned()
                if error is not None:
                    self._fail(envelope, request, error)
                    return
                await self._answer(envelope, request, self.host.act)
                self.on_change(self.host.open)
            case other:
                error = TypeError(f"a worker steps encounters, not {type(other).__name__}")
                self.bus.reply_error(envelope, error)

    async def _planned(self) -> BaseException | None:
        """Wait for the planning between the two requests; its error, if any."""
        planning, self._planning = self._planning, None
        return None if planning is None else await planning

    async def _plan(self, run: str) -> BaseException | None:
        try:
            await asyncio.to_thread(self.host.plan_waiting, run)
        except Exception as exc:  # reported with the act request, not here
            return exc
        return None

    async def _answer(
        self, envelope: Envelope, request: Request, method: Callable[[Request], Reply]
    ) -> Reply | None:
        try:
            reply = await asyncio.to_thread(method, request)
        except Exception as exc:
            self._fail(envelope, request, exc)
            return None
        self._held.append((request, self.host.to_publish(request, reply)))
        if request.tick >= request.setup.ticks:  # nothing comes after: all out before replying
            self._send_held()
        if request.tick >= request.setup.ticks and self._publishing is not None:
            await self._publishing
        sent, refused = self.host.sent_count(request)  # what NATS has taken so far
        reply = dataclasses.replace(reply, sent=sent, refused=refused)
        self.bus.reply(envelope, reply, sender=self.host.name)
        acting_next = isinstance(request, EncounterStep) and self.host.waiting(request)
        if not acting_next:  # else they go after the act reply that follows
            self._send_held()
        return reply

    def _send_held(self) -> None:
        """Publish the held records after those already going out (one task at a time)."""
        if self._held:
            self._publishing = self.tg.create_task(
                self._publish(self._publishing, self._take_held())
            )

    def _take_held(self) -> list[tuple[Request, tuple[bytes, ...]]]:
        held, self._held = self._held, []
        return held

    async def _publish(
        self, before: asyncio.Task[None] | None, held: list[tuple[Request, tuple[bytes, ...]]]
    ) -> None:
        """The live stream, sent from where it is made, after ``before``; what NATS refuses
        is counted."""
        if before is not None:
            await before
        for request, frames in held:
            sent = await self.bus.publish_frames(frames, within="event.")
            self.host.count_sent(request, sent, len(frames) - sent)

    def _fail(self, envelope: Envelope, request: Request, error: BaseException) -> None:
        """The driver fails this worker's encounters of the run; the worker forgets them."""
        log.error("worker %s could not step its encounters", self.host.name, exc_info=error)
        self.host.forget(request.setup.run)
        self.bus.reply_error(envelope, error)
