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
(a process, so it costs a fork: not for the per-decision calls). The fmc-engine planner, whose
every walker-step is a load and a save, bounds each whole search so (:meth:`Watchdog.bounded`).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from fom.engines.doom.reaper import KILL_IF_STILL, shell

__all__ = ["CLOSE_S", "HANG_S", "TIMER_POLL_S", "Timer", "Watchdog", "bounded"]

HANG_S = 30.0
"""How long one call into a game may wait for it before the game is killed (floors in a worker
wait 60 s for their worker's reply, so its watchdog speaks first; but for a save or a load,
which keep the worker's GIL, the driver waits this long and then kills the worker)."""
CLOSE_S = 5.0
"""How long closing a game may take before it is killed (a stopped game never answers)."""
TIMER_POLL_S = 1
"""Whole seconds between a timer's looks at the process that started it. A driver killed
outright (SIGKILL) leaves the game it was waiting for to nobody: within this, its timer kills
the game and ends, rather than sleeping out its bound (up to 94 s for a search) first."""
_TIMER = f"""
left="$1"
while [ "$left" -gt {TIMER_POLL_S} ] && kill -0 "$4" 2>/dev/null; do
  sleep {TIMER_POLL_S}; left=$((left - {TIMER_POLL_S}))
done
if kill -0 "$4" 2>/dev/null; then sleep "$left"; sleep "$5"; fi
{KILL_IF_STILL}
"""


class Watchdog:
    """``with watchdog:`` marks a call into the game of process ``pid``; one that stays open
    for ``timeout_s`` gets the game killed and :attr:`verdict` says so."""

    def __init__(self, pid: int | None, timeout_s: float = HANG_S, poll_s: float = 0.5) -> None:
        if not (timeout_s > 0 and poll_s > 0):
            raise ValueError(f"timeout_s and poll_s must be > 0, got {timeout_s}, {poll_s}")
        self.pid = pid
        self.timeout_s = float(timeout_s)
        self._verdict: str | None = None
        self._timer: Timer | None = None  # of the bounded() block open now
        self._polls = max(1, math.ceil(timeout_s / poll_s))
        self.poll_s = float(poll_s)
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
        while not self._stop.wait(self.poll_s):
            calls = self._calls
            if not self._open or calls != seen:
                seen, polls = calls, 0
                continue
            polls += 1
            if polls >= self._polls:
                self._kill()
                return

    @property
    def verdict(self) -> str | None:
        """Why the game was killed (``GameHung: ...``); None while it never was."""
        return self._judge()

    def _judge(self) -> str | None:
        timer = self._timer
        if self._verdict is None and timer is not None and timer.went_off():
            self._verdict = _hung(self.pid, timer.timeout_s)
        return self._verdict

    def _kill(self) -> None:
        self._verdict = _hung(self.pid, self.timeout_s)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)

    @contextlib.contextmanager
    def bounded(self, timeout_s: float) -> Iterator[None]:
        """:func:`bounded` for this watchdog's game, for a block of calls that may keep the GIL
        (save, load): if its timer killed the game, :attr:`verdict` says so, in the block too
        (where the call that failed asks why)."""
        with bounded(self.pid, timeout_s) as timer:
            self._timer = timer
            try:
                yield
            finally:
                self._judge()  # while the timer is known
                self._timer = None

    def stop(self) -> None:
        """Stop watching (idempotent; bounded: the thread ends within one poll)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2 * self.poll_s + 1.0)


def _hung(pid: int | None, timeout_s: float) -> str:
    return f"GameHung: the game (pid {pid}) did not answer for {timeout_s:g} s; killed it"


@dataclass(slots=True)
class Timer:
    """What :func:`bounded` yields: its timer, to ask whether it went off."""

    timeout_s: float
    due: float
    """When it goes off (monotonic seconds)."""
    proc: subprocess.Popen[bytes] | None = None
    """The timer's shell (None: the block runs unwatched)."""

    def went_off(self) -> bool:
        """Whether the timer killed the process it watched (it exits 0 once its kill went
        through; one that is due may be at it: waited for, a second at most)."""
        if self.proc is None or time.monotonic() < self.due:
            return False
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.proc.wait(timeout=1.0) == 0
        return False


@contextlib.contextmanager
def bounded(pid: int | None, timeout_s: float, match: str = "vizdoom") -> Iterator[Timer]:
    """``with bounded(pid, CLOSE_S): game.close()``: kill process ``pid`` if the block has not
    ended within ``timeout_s``, by a sleeping shell in a session of its own (GIL or not), which
    is stopped on the way out. The shell checks first that ``pid`` is still what it was (its
    command line holds ``match``): if this process died meanwhile, the shell outlives it, and
    the pid may have been reused; and if this process dies in the block, the shell kills the
    game at once (within TIMER_POLL_S: the reaper may already have been stopped, to close the
    game) and ends. Without a pid (not on Linux), the block runs unwatched."""
    timer = Timer(timeout_s, time.monotonic() + timeout_s)
    if pid is not None and os.name == "posix":
        whole = math.floor(timeout_s)
        timer.proc = shell(_TIMER, "fom-doom-timer", str(whole), str(pid), match,
                           str(os.getpid()), f"{timeout_s - whole:.3f}")  # fmt: skip
    try:
        yield timer
    finally:
        if timer.proc is not None:
            if timer.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(timer.proc.pid, signal.SIGKILL)  # the shell and its sleep
            timer.proc.wait()
