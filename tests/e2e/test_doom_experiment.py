"""``python -m experiments.doom``'s agents and report on a real headless ViZDoom game: every
agent plays, and the report holds each one's row and the learned trigger table."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("vizdoom", reason="the doom experiment needs the vizdoom package")

from experiments.doom import AGENTS, Job, plot_curves, report, run_job


def test_every_agent_plays_and_the_report_shows_it(tmp_path: Path) -> None:
    rows = [run_job(Job("deadly_corridor", agent, seed, 100))
            for agent in AGENTS for seed in (0, 1)]  # fmt: skip
    assert all(r["episodes"] >= 0 for r in rows)
    fom = [r for r in rows if r["agent"] == "fom"]
    assert all(r["final"] and r["hit_rate"] > 0 for r in fom)  # it fired, hit and merged
    plot = tmp_path / "curves.png"
    plot_curves(rows, str(plot))
    text = report(rows, 2, 100, str(plot))
    assert plot.stat().st_size > 0
    for agent in AGENTS:
        assert f"| {agent} |" in text
    assert "## Learned trigger rests" in text and "| deadly_corridor | combat/" in text
