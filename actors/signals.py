"""SIGINT and SIGTERM of a command-line run: stop gracefully, say the second, abort on the third.

The first signal asks the run for its graceful stop (events flushed, summary, save); the
second is said on stderr and does not cut that stop short; the third aborts at once with
status 128 + the signal. ``StopSignals.installed()`` keeps this for the whole command, not only
while the run's event loop handles the signals: a signal that comes before the run starts
stops it as soon as it starts, and one that comes after it stopped (while the summary prints)
is noted instead of raising KeyboardInterrupt.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

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
        """From now on the first signal calls ``stop``; if it already came, call it now."""
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
            if self._stop is not None:
                self._stop()
        elif count == 2:
            os.write(2, SECOND)
        else:
            os.write(2, ABORT)
            os._exit(128 + sig)

    def _handler(self, sig: int, frame: FrameType | None) -> None:
        self(sig)

    @contextmanager
    def installed(self, *, restore: bool = True) -> Iterator[StopSignals]:
        """Handle SIGINT and SIGTERM (as Python signal handlers) until the block ends, or, if
        not ``restore``, until the process ends (a command that exits after the block: a signal
        while the interpreter shuts down is counted, not a KeyboardInterrupt)."""
        previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._handler)
        try:
            yield self
        finally:
            if restore:
                for sig, handler in previous.items():
                    signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
