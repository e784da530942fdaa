"""The experiment (``experiments`` package) as a user runs it: ``scripts/experiment.py --quick``
and ``python -m experiments --quick`` write the same report (outside the timing block), every
plot, the paper table and the MLP learner beside FOM, with no warning."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from terminal import on_a_terminal

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "experiment.py"
PNGS = ("learning_curves.png", "exposure.png", "planners.png", "compute.png", "latency.png")
TIMING = re.compile(r"<!-- timing:begin -->.*?<!-- timing:end -->", re.S)
INTERVAL = r"\d+\.\d% \[-?\d+\.\d%, \d+\.\d%\]"  # 2 seeds: wide intervals


def run_quick(command: list[str], out: Path, *, terminal: bool = False) -> str:
    """Run the smoke experiment into ``out`` (its stderr on a terminal or a pipe); return
    results.md. Progress bars show on the terminal only."""
    if terminal:
        status, _, stderr = on_a_terminal([*command, "--quick", "--out", str(out)], timeout=120)
        assert re.search(r"runs: +\d+%\|.*\| *\d+/\d+ ", stderr), stderr  # a bar, by phase
    else:
        proc = subprocess.run(
            [*command, "--quick", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        status, stderr = proc.returncode, proc.stderr
        assert "%|" not in stderr  # no bar on a pipe
    assert status == 0, stderr
    assert "warning" not in stderr, stderr  # no failure, summary and fold agree
    return (out / "results.md").read_text()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_run_writes_the_report_and_is_deterministic(tmp_path: Path) -> None:
    one_core = ["--jobs", "1", "--seeds", "2"]  # the fewest seeds that give intervals
    atari = "<!-- atari:begin -->\n## Another script's table\n<!-- atari:end -->"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.md").write_text(f"# an older report\n\n{atari}\n")
    with ThreadPoolExecutor(2) as pool:  # the two runs at once, one core each
        runs = (
            pool.submit(run_quick, [sys.executable, str(SCRIPT), *one_core], tmp_path / "a"),
            pool.submit(
                run_quick,
                [sys.executable, "-m", "experiments", *one_core],
                tmp_path / "b",
                terminal=True,
            ),
        )
        first, second = (run.result() for run in runs)
    for name in PNGS:
        png = tmp_path / "a" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"({name})" in first  # every plot is shown in the report

    assert "## Paper vs ours" in first and "### Paper vs ours (timing)" in first
    paper_table = first.split("## Paper vs ours", 1)[1].split("## Accuracy", 1)[0]
    for claim in ("FOM accuracy after", "Static aim", "Monolithic Q-network", "Exposure change",
                  "monolithic / FOM"):  # fmt: skip
        assert claim in paper_table, claim
    assert "81% +- 2.3" in paper_table and "-27%" in paper_table
    assert re.search(rf"\| {INTERVAL} \| (agrees|disagrees)", paper_table)
    assert "agree with the paper" in paper_table
    curves = first.split("## Accuracy", 1)[1].split("## Path exposure", 1)[0]
    for planner in ("graph", "fmc"):  # the MLP learner beside the others, with every planner
        for learner in ("fom", "static", "monolithic", "mlp"):
            assert re.search(rf"\| {learner} \| {planner} \| {INTERVAL} \|", curves), learner
    mlp = first.split("## The MLP learner beside FOM", 1)[1].split("\n## ", 1)[0]
    for planner in ("graph", "fmc"):
        assert re.search(rf"\| {planner} \| mlp \| {INTERVAL} \|", mlp), planner
        assert re.search(rf"- {planner} planner: accuracy after \d+ [+-]\d+\.\d pts", mlp)
    timing = TIMING.search(first)
    assert timing is not None
    assert "1.6 ms" in timing.group(0) and re.search(r"\| 64 \| \d+ \| \d+\.\d{3} \|", first)
    assert "MLP / FOM: net of the floor" in timing.group(0)
    assert not re.search(r"\bnan\b|n/a|TODO|mock", first, re.I)  # every figure was measured

    assert first.count(atari) == 1 and "an older report" not in first  # kept, the rest rewritten
    first = first.replace(f"\n\n{atari}", "")
    assert TIMING.sub("", first) == TIMING.sub("", second)
    assert TIMING.search(second) is not None
