"""experiments.planners and experiments.fight_bound: the section they write, the figures' shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.fight_bound import bounds, expected_ticks, graph_policy
from experiments.planners import (
    BEGIN,
    END,
    METRICS,
    PlannerRun,
    planners_section,
    run_planners,
    splice,
    summarise,
)
from fom.hitmodel import ENEMY_HEALTH, WEAPONS


def test_splice_appends_then_replaces_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "results.md"
    path.write_text("# results\n\nbefore\n")
    splice(path, [BEGIN, "first", END])
    assert path.read_text() == f"# results\n\nbefore\n\n{BEGIN}\nfirst\n{END}\n"
    path.write_text(path.read_text() + "\nafter\n")
    splice(path, [BEGIN, "second", END])
    text = path.read_text()
    assert "first" not in text and f"{BEGIN}\nsecond\n{END}" in text
    assert text.startswith("# results\n\nbefore\n") and text.endswith("\nafter\n")


def test_the_fastest_policy_bounds_the_graph_planners_walk() -> None:
    for world, (fastest, graph) in bounds(["dummy", "enhanced"]).items():
        fewest_hits = min(np.ceil(ENEMY_HEALTH / w.damage) for w in WEAPONS.values())
        assert fewest_hits < fastest <= graph, world
    # A planner that never moves is slower than the fastest policy.
    assert (
        expected_ticks("enhanced", lambda node, enemy: node) > bounds(["enhanced"])["enhanced"][0]
    )
    assert expected_ticks("enhanced", graph_policy(0.0)) == bounds(["enhanced"])["enhanced"][1]


COMPARED = (200, 201)


@pytest.fixture(scope="module")
def comparison() -> dict[tuple[str, str], list[PlannerRun]]:
    """graph and fmc on dummy over two seeds, played once for the module."""
    return run_planners(COMPARED, ("graph", "fmc"), worlds=("dummy",))


@pytest.mark.slow  # beside the other user of the module's fixture, which is slow
def test_summary_has_every_metric_and_fmcs_differences(
    comparison: dict[tuple[str, str], list[PlannerRun]],
) -> None:
    runs = comparison
    summary = summarise(runs)
    entry = summary["dummy"]
    assert set(METRICS) <= set(entry["graph"]) and entry["fmc"]["seeds"] == 2
    for metric in METRICS:
        d = entry["fmc_minus_graph"][metric]
        assert d["lo"] <= d["mean"] <= d["hi"]
    kills = [r.kills_per_tick for r in runs["dummy", "graph"]]
    assert entry["graph"]["kills_per_tick"]["mean"] == np.mean(kills)


@pytest.mark.slow
def test_the_section_holds_the_comparison_and_the_ablations_each_on_its_seeds(
    comparison: dict[tuple[str, str], list[PlannerRun]],
) -> None:
    runs = comparison
    ablations = run_planners((0, 1), ("fmc", "fmc, horizon 8"), worlds=("dummy",))
    lines = planners_section(runs, COMPARED, "cmd", ablations, (0, 1))
    text = "\n".join(lines)
    assert "runs on seeds 200..201 (2 seeds), the ablations on seeds 0..1 (2 seeds)" in text
    assert "| dummy | fmc - graph |" in text and "| dummy | fmc - fmc, horizon 8 |" in text
    assert "- `dummy`, fmc against graph:" in text and "against fmc, horizon 8" not in text
    per_seed = lines[lines.index("Per seed (kills per tick, damage ratio, deaths, time-outs):"):]
    assert any(line.startswith("| 200 |") for line in per_seed)
    assert not any(line.startswith("| 0 |") for line in per_seed)  # the ablations' seeds
    timeouts = sum(r.timeouts for r in runs["dummy", "fmc"])
    assert f"fmc {timeouts}" in text
