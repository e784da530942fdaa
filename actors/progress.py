"""A progress line on stderr for long runs in a terminal (``--quiet`` turns it off)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from actors.actor import Actor
from actors.channels import TickEvent
from bus import Envelope, Overflow

__all__ = ["Progress"]


class Progress(Actor):
    """Redraws ``tick N/M`` at most ten times a second; sheds ticks rather than slow the run."""

    topics = ("event.world.tick",)
    capacity = 8
    overflow = Overflow.DROP_OLDEST

    def __init__(self, ticks: int, stream: TextIO) -> None:
        self.ticks = ticks
        self.stream = stream
        self._last = 0.0
        self._start = time.perf_counter()

    @classmethod
    def for_stderr(cls, ticks: int, min_ticks: int = 2000) -> Progress | None:
        """A Progress on stderr when it is a terminal and the run is long, else None."""
        if ticks < min_ticks or not sys.stderr.isatty():
            return None
        return cls(ticks, sys.stderr)

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case TickEvent(tick=tick, active_tips=active):
                now = time.perf_counter()
                if now - self._last < 0.1 and tick + 1 < self.ticks:
                    return
                self._last = now
                rate = (tick + 1) / max(now - self._start, 1e-9)
                self.stream.write(
                    f"\rtick {tick + 1}/{self.ticks}  {rate:,.0f} ticks/s  {active} TIPs active "
                )
                self.stream.flush()

    async def on_stop(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
