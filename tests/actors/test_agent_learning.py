"""The ``fom`` learner beats ``static`` on the default world by a statistical margin."""

from __future__ import annotations

import math
from typing import Any

from fom.app import run_async
from fom.config import RunConfig
from fom.patterns import PARAM_NAMES

SEEDS = range(6)
FIRST = 120  # finished encounters whose accuracy is compared


async def _accuracy(learner: str, seed: int) -> float:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=250, seed=seed, learner=learner, planner="graph", quiet=True)
    result = await run_async(config, listeners=(events.append,))
    assert result.summary.encounters >= FIRST
    finished = sorted((e for e in events if e["type"] == "tip.finished"), key=lambda e: e["seq"])
    assert len(finished) == result.summary.encounters
    first = finished[:FIRST]
    shots = sum(e["shots"] for e in first)
    assert shots > 0
    return sum(e["hits"] for e in first) / shots


async def test_fom_learner_is_more_accurate_than_static() -> None:
    diffs = [await _accuracy("fom", s) - await _accuracy("static", s) for s in SEEDS]
    n = len(diffs)
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    se = sd / math.sqrt(n)
    assert mean > 3 * se, f"paired accuracy gain {mean:.3f} +- {se:.3f} (diffs {diffs})"
    assert mean > 0.05, f"the gain is too small to call learning: {diffs}"


async def test_static_learner_never_changes_its_pattern() -> None:
    """The control: ``static`` sends zero deltas, so its patterns stay at their initial values."""
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=80, seed=0, learner="static", planner="graph", quiet=True)
    result = await run_async(config, listeners=(events.append,))
    assert result.summary.encounters > 0
    for p in result.summary.patterns.values():
        assert p.params == dict.fromkeys(PARAM_NAMES, 0.0)
    learned = await run_async(
        RunConfig(ticks=80, seed=0, learner="fom", planner="graph", quiet=True)
    )
    assert any(p.params["aim_offset"] != 0.0 for p in learned.summary.patterns.values())
