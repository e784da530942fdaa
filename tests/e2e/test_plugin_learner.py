"""A learner plug-in, installed with pip as a user would, is found by ``fom-run --learner``.

The plug-in (tests/plugins/fom_signstep) registers ``signstep`` in the ``fom.learners``
entry-point group; its patterns are (aim_offset, flank_bias, step) and it moves the aim by
``step`` = 0.05 per shot, so the run's events show both its parameter layout and its rule.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "fom_signstep"
NAMES = ["aim_offset", "flank_bias", "step"]
STEP = 0.05

_BESIDE = Path(sys.executable).with_name("fom-run")  # the tested interpreter's, not PATH's first
_SCRIPT = str(_BESIDE) if _BESIDE.exists() else shutil.which("fom-run")
_VIA_PYTHON = [sys.executable, "-c", "from fom.cli import run_main; run_main()"]
FOM_RUN = [_SCRIPT] if _SCRIPT else _VIA_PYTHON


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plug-in installed into a directory of its own (offline: nothing to download)."""
    target = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps",
         "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
         str(PLUGIN)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return target


def fom_run(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``fom-run`` in a subprocess that sees the plug-in's directory on its path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [*FOM_RUN, *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


def test_help_lists_the_installed_learner(site: Path) -> None:
    proc = fom_run(site, "--help")
    assert proc.returncode == 0, proc.stderr
    choices = re.search(r"--learner \{([^}]*)\}", proc.stdout)
    assert choices is not None, proc.stdout
    assert {"fom", "mlp", "monolithic", "static", "signstep"} <= set(choices[1].split(","))


def test_fom_run_learns_with_the_plugin_learner(site: Path, tmp_path: Path) -> None:
    events_path = tmp_path / "events.jsonl"
    proc = fom_run(site, "--learner", "signstep", "--ticks", "30", "--quiet",
                   "--events", str(events_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    by_type: dict[str, list[dict]] = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    assert by_type["run.started"][0]["config"]["learner"] == "signstep"
    # every TIP starts from the plug-in's layout and initial values ...
    started = by_type["tip.started"]
    assert started and all(list(e["params"]) == NAMES for e in started)
    assert all(e["params"]["step"] == STEP for e in started)
    # ... and the ULP merges deltas made by its rule: whole steps of aim, step itself unchanged
    merged = by_type["pattern.merged"]
    assert merged
    moved = False
    for e in merged:
        assert list(e["delta"]) == NAMES and list(e["params"]) == NAMES
        assert e["delta"]["step"] == 0.0 and e["params"]["step"] == STEP
        steps = e["delta"]["aim_offset"] / STEP
        assert steps == pytest.approx(round(steps), abs=1e-9)
        moved = moved or steps != 0
    assert moved, "no encounter moved the aim"
    final = by_type["run.finished"][0]["summary"]["patterns"]
    assert final and all(list(p["params"]) == NAMES for p in final.values())


def test_the_mlp_learner_runs_with_its_weights_as_the_pattern(site: Path, tmp_path: Path) -> None:
    from fom.learners import MlpLearner

    events_path = tmp_path / "events.jsonl"
    proc = fom_run(site, "--learner", "mlp", "--ticks", "30", "--quiet", "--planner", "graph",
                   "--events", str(events_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    merged = [e for e in events if e["type"] == "pattern.merged"]
    assert merged
    names = list(MlpLearner.param_names)
    assert all(list(e["params"]) == names and list(e["delta"]) == names for e in merged)
    assert any(e["delta"]["aim_offset.bias"] != 0.0 for e in merged)
    # the console summary does not list 35 weights per pattern, it says they are there
    assert "35 parameters per pattern and the shot counts, not shown" in proc.stdout
    assert "aim_offset.bias" not in proc.stdout


@pytest.mark.parametrize(
    ("flag", "name"), [("--world", "quake"), ("--learner", "dqn"), ("--planner", "astar")]
)
def test_a_name_nobody_registered_is_one_line_and_status_2(
    site: Path, flag: str, name: str
) -> None:
    proc = fom_run(site, "--ticks", "5", "--quiet", flag, name)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and repr(name) in lines[0], proc.stderr
