"""SIGINT and SIGTERM of a command-line run: stop gracefully, say the second, abort on the third.

The first signal asks the run for its graceful stop (events flushed, summary, save); the
second is said on stderr and does not cut that stop short; the third aborts at once with
status 128 + the signal. ``StopSignals.installed()`` keeps this for the whole command, not only
while the run's event loop is running: a signal that comes before the run starts stops it as
soon as it starts, and one that comes after it stopped (while the summary prints) is noted
instead of raising KeyboardInterrupt.

The handlers are Python signal handlers, one path for every signal: the run's loop is told
through ``call_soon_threadsafe`` (the stop function it attaches). An event loop's own handlers
(``loop.add_signal_handler``) would be a second path, and uvloop's wakeup pipe then delivers a
signal that came just before they were added to both, counting it twice.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["STOP_SIGNALS", "StopSignals"]

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

SECOND = b"stopping gracefully (events, summary, save); once more to abort\n"
ABORT = b"aborted: the stop did not complete\n"


class StopSignals:
    """Counts the stop signals a process received and does what each one asks."""

    def __init__(self) -> None:
        self.received: list[int] = []
        """The signals received, in order."""
        self._stop: Callable[[], None] | None = None

    def attach(self, stop: Callable[[], None]) -> None:
        """From now on the first signal calls ``stop``; if it already came, call it now.

        ``stop`` runs in the signal handler (between two bytecodes of the main thread): it
        should only schedule the stop, e.g. ``loop.call_soon_threadsafe(...)``."""
        self._stop = stop
        if self.received:
            stop()

    def detach(self) -> None:
        """The run has stopped: later signals are only counted (and the third still aborts)."""
        self._stop = None

    def __call__(self, sig: int) -> None:
        self.received.append(sig)
        count = len(self.received)
        if count == 1:
            stop = self._stop
            if stop is not None:
                stop()
        elif count == 2:
            os.write(2, SECOND)
        else:
            os.write(2, ABORT)
            os._exit(128 + sig)

    def _handler(self, sig: int, frame: FrameType | None) -> None:
        self(sig)

    def install(self) -> dict[int, Any]:
        """Handle SIGINT and SIGTERM from now on; return the handlers they had (for ``restore``)."""
        previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handler)
        return previous

    @staticmethod
    def restore(previous: dict[int, Any]) -> None:
        """Put back the handlers ``install`` returned."""
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    @contextmanager
    def installed(self, *, restore: bool = True) -> Iterator[StopSignals]:
        """Handle SIGINT and SIGTERM until the block ends; then put the handlers from before
        back, or, if not ``restore`` (a command whose process ends after the block, its output
        written and its status decided), ignore them while the interpreter shuts down: Python
        puts the default handlers back then, and a late signal would change the status."""
        previous = self.install()
        try:
            yield self
        finally:
            if restore:
                self.restore(previous)
            else:
                for sig in STOP_SIGNALS:
                    signal.signal(sig, signal.SIG_IGN)
