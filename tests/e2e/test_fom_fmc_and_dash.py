"""``fom-fmc`` and ``fom-dash`` as a user runs them: subprocesses, exit status, output, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image


def _cli(entry: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    code = f"from fom.cli import {entry}; {entry}()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_fom_fmc_plays_pong_by_name_through_the_actors(tmp_path: Path) -> None:
    events = tmp_path / "pong.jsonl"
    proc = _cli(
        "fmc_main", "Pong", "--steps", "12", "--walkers", "8", "--horizon", "4",
        "--no-adaptive", "--events", str(events),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pong: score" in proc.stdout
    assert "samples per step 32.0" in proc.stdout  # 8 walkers x 4 steps per decision
    assert "walker-steps/s" in proc.stdout
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["seq"] for e in lines] == list(range(len(lines)))
    steps = [e for e in lines if e["type"] == "atari.step"]
    assert len(steps) == 12 and all(e["samples"] == 32 for e in steps)
    assert lines[-1]["type"] == "atari.finished" and lines[-1]["steps"] == 12


def test_fom_fmc_same_seed_same_actions(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.jsonl"
        args = ("Boxing", "--steps", "8", "--walkers", "6", "--horizon", "3", "--seed", "4")
        proc = _cli("fmc_main", *args, "--events", str(path))
        assert proc.returncode == 0, proc.stderr
        runs.append(
            [e["action"] for e in map(json.loads, path.read_text().splitlines())
             if e["type"] == "atari.step"]
        )  # fmt: skip
    assert runs[0] == runs[1] and len(runs[0]) == 8


def test_fom_fmc_unknown_game_lists_close_matches() -> None:
    proc = _cli("fmc_main", "spaceinvader")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "unknown Atari game 'spaceinvader'" in lines[0]
    assert "space_invaders" in lines[0]


def test_fom_fmc_seed_the_emulator_cannot_take_is_one_line() -> None:
    proc = _cli("fmc_main", "pong", "--seed", "2147483648", "--steps", "1")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("fom-fmc: error: --seed")


def test_fom_dash_draws_a_recorded_run(tmp_path: Path) -> None:
    events = tmp_path / "run.jsonl"
    run = _cli(
        "run_main", "--ticks", "120", "--planner", "graph", "--events", str(events), "--quiet"
    )
    assert run.returncode == 0, run.stderr
    out = tmp_path / "dash.png"
    proc = _cli("dash_main", str(events), "-o", str(out), "--at", "60")
    assert proc.returncode == 0, proc.stderr
    assert "tick 60" in proc.stdout
    with Image.open(out) as image:
        assert image.size[0] > 600 and image.size[1] > 400


def test_fom_dash_missing_file_is_one_line_and_status_2(tmp_path: Path) -> None:
    proc = _cli("dash_main", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x.png"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_fom_run_dashboard_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "final.png"
    proc = _cli(
        "run_main", "--ticks", "60", "--planner", "graph", "--dashboard", str(out), "--quiet"
    )
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as image:
        assert image.format == "PNG"


def test_fom_run_live_without_a_display_suggests_dashboard() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-c", "from fom.cli import run_main; run_main()", "--live"],
        capture_output=True, text=True, timeout=60, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--dashboard" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_fom_fmc_events_to_a_full_disk_is_one_line_and_status_1() -> None:
    import os

    import pytest

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    proc = _cli("fmc_main", "pong", "--steps", "20", "--walkers", "4", "--horizon", "2",
                "--events", "/dev/full")  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("fom-fmc: error: cannot write events to /dev/full")
