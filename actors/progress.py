"""A progress bar (``fom.progress``) that follows a run's ticks; ``--quiet`` turns it off."""

from __future__ import annotations

from typing import TextIO

from actors.actor import Actor
from bus import Envelope, Overflow
from fom.progress import SHOW_AFTER_S, progress_bar, terminal_stderr

__all__ = ["Progress"]


class Progress(Actor):
    """Follows the ``tick`` of the records on ``topic``; sheds them rather than slow the run."""

    capacity = 8
    overflow = Overflow.DROP_OLDEST

    def __init__(
        self, total: int, unit: str, stream: TextIO, *, delay: float = SHOW_AFTER_S, start: int = 0
    ) -> None:
        """``start``: ticks already done (a resumed game)."""
        self.bar = progress_bar(total, unit, stream, delay=delay)
        if start:
            self.bar.update(start)

    @classmethod
    def for_stderr(cls, total: int, unit: str, start: int = 0) -> Progress | None:
        """A bar on stderr when it is a terminal, else None."""
        stream = terminal_stderr()
        return cls(total, unit, stream, start=start) if stream is not None else None

    async def receive(self, envelope: Envelope) -> None:
        tick = getattr(envelope.message, "tick", None)
        if isinstance(tick, int) and tick + 1 > self.bar.n:
            self.bar.update(tick + 1 - self.bar.n)

    async def on_stop(self) -> None:
        self.bar.close()
