"""The dashboard actor: folds the event stream into a DashboardState and draws it.

It subscribes with a drop-oldest mailbox, so a slow draw sheds telemetry instead of holding
the simulation back (the bus counts what was dropped).
"""

from __future__ import annotations

import time

from actors.actor import Actor
from actors.event_log import event_record
from bus import DEAD_LETTER_TOPIC, Envelope, Overflow
from fom.dashboard import DashboardState, LiveWindow, save_png

__all__ = ["DashboardActor"]


class DashboardActor(Actor):
    """Draws the final frame to ``png`` and/or refreshes a live window every ``refresh_s``."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 15
    overflow = Overflow.DROP_OLDEST
    drain_on_stop = True

    def __init__(self, *, png: str | None, live: bool, refresh_s: float = 0.5) -> None:
        self.png = png
        self.live = live
        self.refresh_s = refresh_s
        self.state = DashboardState()
        self.window: LiveWindow | None = None
        self._tags: dict[type, str] = {}
        self._tick = 0
        self._seq = 0
        self._last_draw = 0.0
        self._t0 = time.perf_counter()

    async def on_start(self) -> None:
        if self.live and self.window is None:
            self.window = LiveWindow("FOM dashboard")

    async def receive(self, envelope: Envelope) -> None:
        msg = envelope.message
        tag = self._tags.get(type(msg))
        if tag is None:
            tag = self._tags[type(msg)] = self.bus.registry.tag_of(type(msg))
        tick = getattr(msg, "tick", None)
        if isinstance(tick, int):
            self._tick = max(self._tick, tick)
        now = time.perf_counter()
        self.state.apply(event_record(msg, tag, self._seq, self._tick, now - self._t0))
        self._seq += 1
        if self.window is not None and now - self._last_draw >= self.refresh_s:
            self._last_draw = now
            if not self.window.refresh(self.state):
                self.window = None  # closed by hand: the run goes on headless

    async def on_stop(self) -> None:
        if self.png:
            save_png(self.state, self.png)
        if self.window is not None:
            self.window.refresh(self.state)
            self.window.close()
