"""``fom-fmc`` with the recipe's flags, as a user runs it: bad flags, processes, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fmc_cli import FMC, running, wait_for_a_step
from processes import gone, left

pytest.importorskip("ale_py")


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FMC, *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--processes", "0"), "--processes must be in [1, 64], got 0"),
        (("--walkers", "10", "--max-samples", "5"), "--max-samples must be >= --walkers (10)"),
        (("--obs", "rgb"), "invalid choice: 'rgb'"),
        (("--frameskip", "0"), "--frameskip must be >= 1"),
        (("--walkers", "8", "--min-walkers", "9"), "--min-walkers must be in [2, --walkers=8]"),
    ],
)
def test_bad_recipe_flags_are_one_line_and_status_2(args: tuple[str, ...], needle: str) -> None:
    proc = _cli("boxing", *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert needle in lines[0]


def _actions(path: Path) -> list[int]:
    events = map(json.loads, path.read_text().splitlines())
    return [e["action"] for e in events if e["type"] == "atari.step"]


def test_same_seed_same_actions_in_one_or_two_processes(tmp_path: Path) -> None:
    runs = {}
    for processes in ("1", "2"):
        path = tmp_path / f"p{processes}.jsonl"
        proc = _cli(
            "Boxing", "--steps", "12", "--walkers", "6", "--horizon", "4", "--max-samples", "30",
            "--loss-is-death", "--seed", "5", "--processes", processes, "--events", str(path),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        runs[processes] = (_actions(path), proc.stdout.splitlines()[0])
    assert runs["1"] == runs["2"] and len(runs["1"][0]) == 12


def _children(pid: int) -> list[int]:
    """The ids of the live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found




@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the workers")
def test_ctrl_c_leaves_no_worker_process(tmp_path: Path) -> None:
    events = tmp_path / "run.jsonl"
    args = ("Boxing", "--steps", "100000", "--walkers", "6", "--horizon", "4", "--processes", "3",
            "--events", str(events), "--quiet")  # fmt: skip
    with running(*args) as proc:
        wait_for_a_step(proc, events)
        workers = _children(proc.pid)
        assert len(workers) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert "boxing: score" in out  # the interrupted game still reports
    assert not left(workers)


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = (
        "from fom.engines.atari import AtariSimulator\n"
        "sim = AtariSimulator('pong', processes=2)\n"
        "print(sim.worker_pids[0], flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        worker = int(proc.stdout.readline())
        assert not gone(worker)
        proc.kill()
        proc.wait(10)
        assert not left([worker], grace_s=10)  # (a zombie of the killed parent counts)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
