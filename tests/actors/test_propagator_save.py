"""Saving the patterns when the ULP stops: atomic on success, reported (not raised) on failure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from actors.propagator import Propagator
from fom.patterns import PatternStore, load_patterns

TWO = ("aim_offset", "flank_bias")
"""A two-parameter layout: the ULP's mechanics do not depend on the names."""


async def test_save_on_stop_writes_the_merged_patterns(tmp_path: Path) -> None:
    store = PatternStore(names=TWO)
    store.merge("combat/rocket", np.array([0.25, -0.5]))
    ulp = Propagator(store, str(tmp_path / "p.fom"))
    await ulp.on_stop()
    assert ulp.save_error is None
    assert load_patterns(tmp_path / "p.fom").get("combat/rocket").as_dict() == {
        "aim_offset": 0.25,
        "flank_bias": -0.5,
    }
    assert [p.name for p in tmp_path.iterdir()] == ["p.fom"]  # no temporary file left


async def test_a_save_that_fails_at_the_end_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    ulp = Propagator(PatternStore(names=TWO), str(blocker / "p.fom"))
    await ulp.on_stop()
    assert ulp.save_error is not None and "cannot save patterns" in ulp.save_error
