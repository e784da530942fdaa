"""EventLog: writes every ``event.*`` record (and dead letters) as the run's event stream.

With ``ordered``, events are written in a canonical order, not in the order they arrived
(which depends on timing, and over NATS on which process sent them): those of tick ``t`` once
the world's tick ``t + 1`` event has come (everything of tick ``t`` happens before it), sorted
as :class:`fom.events.TickOrder` says. Each event gets ``seq`` (from 0, no gaps), ``tick``
(its own, else the latest world tick), ``time`` (wall seconds since the log started) and
``type`` (the record's tag), then its fields.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from actors.actor import Actor
from bus import DEAD_LETTER_TOPIC, Envelope
from fom.events import EventWriter, TickOrder
from fom.events import event_dict as event_record
from fom.events import to_plain as event_fields

TICK_EVENT = "world.tick"

__all__ = ["EventLog", "event_fields", "event_record"]
"""``event_fields`` and ``event_record`` are ``fom.events.to_plain`` and ``fom.events.event_dict``
(the stream form of a record is defined with the records, next to its decoding)."""

log = logging.getLogger("actors.event_log")


class EventLog(Actor):
    """A sink: never sheds an event (blocking mailbox), flushes on stop."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 16
    drain_on_stop = True

    def __init__(
        self,
        writer: EventWriter | None,
        *,
        listeners: tuple[Callable[[dict[str, Any]], None], ...] = (),
        ordered: bool = False,
    ) -> None:
        """``ordered``: write in the canonical order, a tick behind (a match with a world);
        else each event as it arrives."""
        self.writer = writer
        self.ordered = ordered
        self.listeners = listeners
        self.seq = 0
        self.tick = 0
        self._t0 = time.perf_counter()
        self._tags = {}  # type: dict[type, str]
        self._order = TickOrder()
        self.error: OSError | None = None
        """Why the stream could not be written (a closed pipe, a full disk), or None."""
        self.lost = 0
        """Events not written because of ``error``."""
        self.first_lost: int | None = None
        """The ``seq`` of the first event that could not be written."""

    async def receive(self, envelope: Envelope) -> None:
        msg = envelope.message
        tag = self._tags.get(type(msg))
        if tag is None:
            tag = self._tags[type(msg)] = self.bus.registry.tag_of(type(msg))
        tick = getattr(msg, "tick", None)
        if isinstance(tick, int):
            self.tick = max(self.tick, tick)
        else:
            tick = self.tick
        event = event_record(msg, tag, -1, tick, round(time.perf_counter() - self._t0, 6))
        if not self.ordered:
            self._emit(event)
            return
        self._order.add(event)
        if tag == TICK_EVENT:  # every event of the ticks before has come: write them
            for ready in self._order.ready(tick):
                self._emit(ready)

    def _emit(self, event: dict[str, Any]) -> None:
        event["seq"] = self.seq
        self.seq += 1
        if self.writer is not None:
            if self.error is None:
                try:
                    self.writer.write(event)
                except OSError as exc:  # nowhere to write: stop the run, keep counting
                    self._failed(exc)
            else:
                self.lost += 1
        for listener in self.listeners:
            listener(event)

    def _failed(self, exc: OSError) -> None:
        self.error = exc
        self.lost += 1
        self.first_lost = self.seq - 1
        log.info("cannot write the event stream: %s; stopping the run", exc)  # the caller reports
        self.runtime.request_shutdown()

    async def on_stop(self) -> None:
        for event in self._order.ready(None):
            self._emit(event)
        if self.writer is None:
            return
        try:
            self.writer.close()
        except OSError as exc:  # the last buffered events could not be written
            if self.error is None:
                self.error, self.first_lost = exc, self.seq
