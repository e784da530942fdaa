"""``scripts/bench_doom.py``: every key it promises, each rate the median of its rounds and each
ratio taken within a round (no timing is asserted: only that the figures hang together)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vizdoom", reason="the doom worlds need the vizdoom package")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_doom.py"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_the_doom_bench_reports_medians_of_rounds_and_ratios_within_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--ticks", "40", "--rounds", "3", "--plans", "1", "--json"],
        capture_output=True, text=True, timeout=110, cwd=tmp_path, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["rounds"] == 3 and out["fmc_engine_walker_steps_per_s"] > 0
    for key in ("engine_ratio", "engine_only_ratio", "floors_speedup",
                "engine_ratio_vs_shared_cpu_bare"):  # fmt: skip
        low, high = out[f"{key}_range"]
        assert 0 < low <= out[key] <= high
    rates = ("bare_decisions_per_s", "fom_decisions_per_s", "fom_two_floors_decisions_per_s")
    assert all(out[k] > 0 for k in rates)


def test_a_bad_round_count_is_one_line_and_status_2() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--rounds", "0"], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("--rounds must be >= 1, got 0")
