"""A progress bar on stderr (tqdm) for runs that last, in a terminal; ``--quiet`` turns it off."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

from actors.actor import Actor
from bus import Envelope, Overflow

__all__ = ["Progress"]

SHOW_AFTER_S = 2.0
"""Runs shorter than this show no bar at all."""


class Progress(Actor):
    """Follows the ``tick`` of the records on ``topic``; sheds them rather than slow the run."""

    capacity = 8
    overflow = Overflow.DROP_OLDEST

    def __init__(
        self, total: int, unit: str, stream: TextIO, *, delay: float = SHOW_AFTER_S
    ) -> None:
        self.bar = tqdm(
            total=total, unit=unit, file=stream, delay=delay, mininterval=0.1, dynamic_ncols=True
        )

    @classmethod
    def for_stderr(cls, total: int, unit: str) -> Progress | None:
        """A bar on stderr when it is a terminal, else None."""
        return cls(total, unit, sys.stderr) if sys.stderr.isatty() else None

    async def receive(self, envelope: Envelope) -> None:
        tick = getattr(envelope.message, "tick", None)
        if isinstance(tick, int) and tick + 1 > self.bar.n:
            self.bar.update(tick + 1 - self.bar.n)

    async def on_stop(self) -> None:
        self.bar.close()
