"""Process checks the tests share: whether a process still runs, waiting a moment for it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path


def gone(pid: int) -> bool:
    """Whether process ``pid`` runs no more: it does not exist, or it is a zombie (the child of a
    killed parent stays one until init reaps it)."""
    if not os.path.isdir("/proc"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def left(pids: Iterable[int], grace_s: float = 5.0) -> list[int]:
    """The processes of ``pids`` still running after up to ``grace_s`` (one just told to end,
    or whose parent just ended, may take a moment to go)."""
    pids = list(pids)
    deadline = time.monotonic() + grace_s
    while (running := [pid for pid in pids if not gone(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return running


def game_pid(floors: object, floor: int) -> int:
    """The pid of a floor's game: floor 0's engine is in this process, the others' games are
    the children of their workers."""
    if floor == 0:
        return floors._floors[0].engine.watchdog.pid  # type: ignore[attr-defined]
    worker = floors._floors[floor].proc.pid  # type: ignore[attr-defined]
    out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(worker)], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    (pid,) = [int(p) for p, comm in (line.split() for line in out.splitlines())
              if comm == "vizdoom"]  # fmt: skip
    return pid
