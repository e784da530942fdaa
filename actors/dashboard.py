"""The dashboard actor: folds the event stream into a DashboardState and draws it.

It subscribes with a drop-oldest mailbox, so a slow draw sheds telemetry instead of holding
the simulation back (the bus counts what was dropped). It shares the simulation's event loop,
so folding must be cheap: each wake-up takes every envelope already waiting and folds the
records the bus decoded straight into the state (the same records, and the same fold, as a
replay of the recording; no event dict). Only the runtime's and the bus's own messages
(`actor.failed`, `bus.dead_letter`), rare, are turned into their stream records first.
Drawing happens at most every ``refresh_s`` (live) and once at the end (PNG).
"""

from __future__ import annotations

import time
from typing import Any

from actors.actor import Actor
from bus import DEAD_LETTER_TOPIC, Envelope, Overflow
from fom.dashboard import DashboardState, LiveWindow, save_png
from fom.events import EVENT_TYPES, TickOrder, decode_event, event_dict, to_plain

__all__ = ["DashboardActor"]

_RECORDS = frozenset(EVENT_TYPES.values())
"""The classes the bus delivers as stream records already."""


class DashboardActor(Actor):
    """Draws the final frame to ``png`` and/or refreshes a live window every ``refresh_s``."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 15
    overflow = Overflow.DROP_OLDEST
    drain_on_stop = True

    def __init__(
        self,
        *,
        png: str | None,
        window: LiveWindow | None = None,
        refresh_s: float = 0.5,
        ordered: bool = False,
    ) -> None:
        """``window`` is opened by the caller before the run, so a display that cannot be used
        is an error before anything starts, not a crash in the middle. ``ordered``: fold in the
        EventLog's canonical order (a match with a world), a tick behind."""
        self.png = png
        self.ordered = ordered
        self._order = TickOrder()
        self._tick = 0
        self.refresh_s = refresh_s
        self.state = DashboardState()
        self.window = window
        self._tags: dict[type, str] = {}
        self._last_draw = 0.0
        self._t0 = time.perf_counter()

    async def receive(self, envelope: Envelope) -> None:
        """Fold this envelope and every one already waiting, then maybe refresh the window."""
        waiting = self.take_waiting()
        fold = self._hold if self.ordered else self.state.fold
        msg = envelope.message
        fold(msg if type(msg) in _RECORDS else self._record(msg))
        for other in waiting:
            msg = other.message
            fold(msg if type(msg) in _RECORDS else self._record(msg))
        now = time.perf_counter()
        self.state.received(1 + len(waiting), now - self._t0)
        if self.window is not None and now - self._last_draw >= self.refresh_s:
            self._last_draw = now
            if not self.window.refresh(self.state):
                self.window = None  # closed by hand: the run goes on headless

    def _hold(self, record: Any) -> None:
        """Fold in the EventLog's canonical order: the records of tick ``t`` once the world's
        tick ``t + 1`` has come (so the live state is the replayed recording's)."""
        cls = type(record)
        tag = self._tags.get(cls)
        if tag is None:
            tag = self._tags[cls] = getattr(record, "TYPE", None) or self.bus.registry.tag_of(cls)
        tick = getattr(record, "tick", None)
        if isinstance(tick, int):
            self._tick = max(self._tick, tick)
        else:
            tick = self._tick
        self._order.add(event_dict(record, tag, -1, tick, 0.0), record)
        if tag == "world.tick":
            for ready in self._order.ready(tick):
                self.state.fold(ready)

    def _record(self, msg: Any) -> Any:
        """The stream record of a message that is not one (decoded as a replay would)."""
        cls = type(msg)
        tag = self._tags.get(cls)
        if tag is None:
            tag = self._tags[cls] = self.bus.registry.tag_of(cls)
        fields = to_plain(msg)
        record, _ = decode_event({**(fields if isinstance(fields, dict) else {}), "type": tag})
        return record

    async def on_stop(self) -> None:
        for record in self._order.ready(None):
            self.state.fold(record)
        if self.png:
            save_png(self.state, self.png)
        if self.window is not None:
            self.window.refresh(self.state)
            self.window.close()
