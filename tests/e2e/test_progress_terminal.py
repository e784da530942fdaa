"""Progress bars as a user sees them: on a terminal's stderr, only for what lasts over 2 s, and
never with ``--quiet`` or on a pipe (the experiments' bars are checked in test_experiment)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from terminal import on_a_terminal

FOM_RUN = [sys.executable, "-m", "fom"]
BAR = re.compile(r"\d+%\|.*\| *\d+/250 ")
LONG = ["--ticks", "250", "--tick-ms", "10", "--planner", "graph"]  # 2.5 s, paced


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_fom_run_shows_a_bar_on_a_terminal_for_a_run_that_lasts() -> None:
    status, out, shown = on_a_terminal([*FOM_RUN, *LONG], timeout=60)
    assert status == 0, shown
    assert BAR.search(shown) and "tick" in shown, shown
    assert "250/250" in shown  # it ends full
    assert "decisions" in out


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_bar_with_quiet_or_for_a_short_run() -> None:
    status, _, shown = on_a_terminal([*FOM_RUN, *LONG, "--quiet"], timeout=60)
    assert status == 0 and shown == "", shown
    status, _, shown = on_a_terminal([*FOM_RUN, "--ticks", "20"], timeout=60)  # well under 2 s
    assert status == 0 and shown == "", shown


def test_no_bar_on_a_pipe() -> None:
    proc = subprocess.run([*FOM_RUN, *LONG], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
