"""The game watchdog: a ViZDoom game that stops answering is killed, so its caller goes on.

Every call into ViZDoom waits for the game's process, and a game that hangs rather than dies
(stopped, deadlocked, a scenario script that loops) would hold the run's thread for ever: the
World's own watchdog cannot fire while the thread that runs it waits. So the engine holds a
:class:`Watchdog` around each of its game calls (``with watchdog:``); a thread of its own looks
at it every ``poll_s`` seconds, and when one call has been open for ``timeout_s`` it kills the
game. ViZDoom then raises in the waiting call (measured: at once), the engine's floor reports
the loss (:attr:`Watchdog.verdict`, as ``actor.failed``) and starts a new game, as for a game
that died. Time is counted in the watchdog's own wake-ups, so a run that was suspended as a
whole (Ctrl-Z) does not count its pause against the game.

A thread can only watch calls that let go of Python's GIL while they wait: ViZDoom's
``advance_action`` and ``new_episode`` do (measured), its ``save``, ``load`` and ``close`` do not,
and no thread of this process runs until they return. So the few calls of that kind that a hung
game could hold for ever, the closing of a game and the one-off read of its map, run under
:func:`bounded`, a sleeping shell of its own that kills the game unless the block ends first
(a process, so it costs a fork: not for the per-decision calls; the ``save`` and ``load`` of the
fmc-engine planner are watched by the thread, which cannot stop them).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from collections.abc import Iterator

from fom.engines.doom.reaper import KILL_IF_STILL, shell

__all__ = ["CLOSE_S", "HANG_S", "Watchdog", "bounded"]

HANG_S = 30.0
"""How long one call into a game may wait for it before the game is killed (floors in a worker
wait 60 s for their worker's reply: its watchdog speaks first)."""
CLOSE_S = 5.0
"""How long closing a game may take before it is killed (a stopped game never answers)."""
_TIMER = f'sleep "$1"; {KILL_IF_STILL}'


class Watchdog:
    """``with watchdog:`` marks a call into the game of process ``pid``; one that stays open
    for ``timeout_s`` gets the game killed and :attr:`verdict` says so."""

    def __init__(self, pid: int | None, timeout_s: float = HANG_S, poll_s: float = 0.5) -> None:
        if not (timeout_s > 0 and poll_s > 0):
            raise ValueError(f"timeout_s and poll_s must be > 0, got {timeout_s}, {poll_s}")
        self.pid = pid
        self.timeout_s = float(timeout_s)
        self.verdict: str | None = None
        """Why the game was killed (``GameHung: ...``); None while it never was."""
        self._polls = max(1, math.ceil(timeout_s / poll_s))
        self._poll_s = float(poll_s)
        self._calls = 0  # calls entered so far
        self._open = 0  # calls open now (nested ones count once each)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if pid is not None:
            self._thread = threading.Thread(target=self._watch, name=f"fom-doom-watchdog-{pid}",
                                            daemon=True)  # fmt: skip
            self._thread.start()

    def __enter__(self) -> Watchdog:
        self._calls += 1
        self._open += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._open -= 1

    def _watch(self) -> None:
        seen, polls = -1, 0
        while not self._stop.wait(self._poll_s):
            calls = self._calls
            if not self._open or calls != seen:
                seen, polls = calls, 0
                continue
            polls += 1
            if polls >= self._polls:
                self._kill()
                return

    def _kill(self) -> None:
        self.verdict = (f"GameHung: the game (pid {self.pid}) did not answer for "
                        f"{self.timeout_s:g} s; killed it")  # fmt: skip
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop watching (idempotent; bounded: the thread ends within one poll)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * self._poll_s + 1.0)


@contextlib.contextmanager
def bounded(pid: int | None, timeout_s: float, match: str = "vizdoom") -> Iterator[None]:
    """``with bounded(pid, CLOSE_S): game.close()``: kill process ``pid`` if the block has not
    ended within ``timeout_s``, by a sleeping shell in a session of its own (GIL or not), which
    is stopped on the way out. The shell checks first that ``pid`` is still what it was (its
    command line holds ``match``): if this process died meanwhile, the shell outlives it, and
    the pid may have been reused. Without a pid (not on Linux), the block runs unwatched."""
    timer = None
    if pid is not None and os.name == "posix":
        timer = shell(_TIMER, "fom-doom-timer", str(timeout_s), str(pid), match)
    try:
        yield
    finally:
        if timer is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(timer.pid, signal.SIGKILL)  # the shell and its sleep
            timer.wait()
