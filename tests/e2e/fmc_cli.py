"""``fom-fmc`` as a user starts it, for the end-to-end tests: in this interpreter, and the wait
for its first decision (read from the events file it writes)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

FMC = [sys.executable, "-c", "from fom.cli import fmc_main; fmc_main()"]
"""The command line of ``fom-fmc`` (the installed script may be another interpreter's)."""


@contextlib.contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``fom-fmc ARGS`` in the background (stdout and stderr piped), killed on the way out if
    the test left it running."""
    proc = subprocess.Popen(
        [*FMC, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def wait_for_a_step(proc: subprocess.Popen[str], events: Path, timeout: float = 60) -> None:
    """Return once ``events`` holds a decision; fail if the game ends or the time passes."""
    deadline = time.monotonic() + timeout
    while '"atari.step"' not in (events.read_text() if events.exists() else ""):
        assert proc.poll() is None and time.monotonic() < deadline, "no decision was played"
        time.sleep(0.05)  # polling a file another process writes: there is no event to await
