"""The reaper: a game's ViZDoom process stopped even when the Python process that drives it dies
hard (SIGKILL, a crash), when none of its own cleanup can run.

ViZDoom starts its game as a process of its own and nothing ends it but ``close()``: a driver
killed outright left it running (seen: a process-pool worker that crashed left its game alive,
its parent gone). Beside each game a tiny shell loop, in a session of its own so that a
terminal's Ctrl-C does not end it first, waits for the driver to go and then kills the game.
The engine stops the reaper before it closes the game itself, so the reaper only acts when the
driver could not. The game is found by its own ``-config`` file, unique to its engine, and
checked again before the kill. Linux only (it reads /proc); elsewhere there is none.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["KILL_IF_STILL", "REAPER_POLL_S", "Reaper", "game_pid", "reaper_for", "shell"]

REAPER_POLL_S = 1
"""Seconds between the reaper's looks at its driver."""

KILL_IF_STILL = 'grep -qF -- "$3" "/proc/$2/cmdline" 2>/dev/null && kill -9 "$2"'
"""The shell line that kills process $2 if its command line still holds $3 (a pid outlived by
the shell that watches it may have been reused)."""
_SCRIPT = f"""
while kill -0 "$1" 2>/dev/null; do sleep {{poll}}; done
{KILL_IF_STILL}
"""


def shell(script: str, name: str, *args: str) -> subprocess.Popen[bytes]:
    """``script`` run by /bin/sh as ``name`` with ``args`` ($1, $2, ...), in a session of its
    own (so a terminal's Ctrl-C does not end it first), with no stdio."""
    return subprocess.Popen(
        ["/bin/sh", "-c", script, name, *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
    )  # fmt: skip


def game_pid(config: Path, proc: Path = Path("/proc")) -> int | None:
    """The pid of the ViZDoom process started with ``config`` as its ``-config`` (None if none
    is found, or not on Linux)."""
    needle = str(config).encode()
    for entry in proc.glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"-config" in argv and needle in argv and Path(argv[0].decode()).name == "vizdoom":
                return int(entry.name)
    return None


class Reaper:
    """Kills the game ``pid`` (started with ``config``) once this process is gone."""

    def __init__(self, pid: int, config: Path) -> None:
        self.pid = pid
        self._proc: subprocess.Popen[bytes] | None = None
        if sys.platform != "linux":
            return
        self._proc = shell(_SCRIPT.format(poll=REAPER_POLL_S), "fom-doom-reaper",
                           str(os.getpid()), str(pid), str(config))  # fmt: skip

    def stop(self) -> None:
        """Stop the reaper (the engine closes its game itself); idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def reaper_for(config: Path) -> Reaper | None:
    """A reaper for the game just started with ``config`` (None if it cannot be found)."""
    pid = game_pid(config)
    return Reaper(pid, config) if pid is not None else None
