"""One CPU for a game and the thread that drives it, while they play a decision.

A ViZDoom game is a process of its own and every call from Python waits for it: the two take
turns and never run at once, so what a call costs is mostly the hand-over. On the 2-CPU
machine FOM is measured on, a bare ViZDoom loop makes about 3,400 decisions/s when the
scheduler spreads the pair over both CPUs and about 7,700/s when they share one: waking the
other CPU costs more than the tics. So for each decision :class:`SharedCpu` holds the driving
thread to the CPU it is on and moves the game there; between decisions the thread is free
again, so the scheduler still places it where there is room (two runs end up on different
CPUs), and nothing the thread starts meanwhile inherits the pin. Games meant to play at once
(the floors of one run) are given CPUs of their own instead: a thread woken by another tends
to be woken on the waker's CPU, and two floors that followed their threads were seen sharing
one. Linux only (it needs ``sched_setaffinity`` and libc's ``sched_getcpu``); elsewhere, or
where a CPU set forbids it, it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from typing import Any

__all__ = ["SharedCpu"]


def _getcpu() -> Any:
    """libc's ``sched_getcpu`` (None where there is none)."""
    with contextlib.suppress(OSError, AttributeError):
        return ctypes.CDLL(None, use_errno=True).sched_getcpu
    return None


_PINS = hasattr(os, "sched_setaffinity")
_GETCPU = _getcpu() if _PINS else None


class SharedCpu:
    """``with pair:`` runs its block with the calling thread and process ``pid`` on one CPU:
    ``cpu`` if given, else the one the thread is on as it enters; the thread's own CPU set is
    restored on the way out."""

    def __init__(self, pid: int | None, cpu: int | None = None) -> None:
        self.pid = pid
        self.cpu = cpu
        self.enabled = pid is not None and _PINS and (cpu is not None or _GETCPU is not None)
        self._cpu = -1  # where the game is held now
        self._mask: set[int] | None = None

    def __enter__(self) -> SharedCpu:
        if not self.enabled:
            return self
        cpu = int(_GETCPU()) if self.cpu is None else self.cpu
        try:
            if cpu < 0:
                raise OSError("sched_getcpu failed")
            self._mask = os.sched_getaffinity(0)
            if cpu != self._cpu:
                os.sched_setaffinity(self.pid, {cpu})
                self._cpu = cpu
            os.sched_setaffinity(0, {cpu})
        except OSError:  # a CPU set that forbids it, or the game is gone: play unpinned
            self.enabled = False
            self._restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self._restore()

    def _restore(self) -> None:
        mask, self._mask = self._mask, None
        if mask is not None:
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, mask)
