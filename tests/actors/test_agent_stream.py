"""The event stream's shape and the run summary; ``tips`` concurrent TIPs in steady state."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fom.app import run_async
from fom.config import RunConfig
from fom.dashboard.replay import read_events

SUMMARY_KEYS = {
    "ticks",
    "encounters",
    "shots",
    "hits",
    "accuracy",
    "damage_taken",
    "exposure",
    "max_active_tips",
    "decisions_per_s",
    "latency_ms",
    "patterns",
}
PATTERN_KEYS = {"encounters", "shots", "hits", "accuracy", "params"}


@pytest.mark.parametrize("fmt", ["jsonl", "msgpack"])
async def test_stream_is_contiguous_and_framed_by_run_started_and_finished(
    tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / f"events.{fmt}"
    config = RunConfig(
        ticks=120,
        tips=4,
        seed=2,
        planner="graph",
        quiet=True,
        events=str(path),
        events_format=fmt,
    )
    result = await run_async(config)
    events = list(read_events(path))
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert result.events == len(events)
    assert not result.interrupted

    first, last = events[0], events[-1]
    assert first["type"] == "run.started" and first["tick"] == 0
    assert first["config"]["ticks"] == 120 and first["config"]["seed"] == 2
    assert first["level"]["edges"] and first["patterns"] == {}
    assert last["type"] == "run.finished" and last["interrupted"] is False
    types = Counter(e["type"] for e in events)
    assert types["run.started"] == types["run.finished"] == 1
    assert types["world.tick"] == 120
    for e in events:
        assert {"seq", "tick", "time", "type"} <= e.keys()
    ticks = [e["tick"] for e in events if e["type"] == "world.tick"]
    assert ticks == list(range(120))

    summary = last["summary"]
    assert summary.keys() >= SUMMARY_KEYS
    assert set(summary["latency_ms"]) >= {"p50", "p99"}
    assert 0 <= summary["latency_ms"]["p50"] <= summary["latency_ms"]["p99"]
    assert summary["ticks"] == 120
    assert summary["decisions_per_s"] > 0

    # The summary agrees with the events it summarises.
    finished = [e for e in events if e["type"] == "tip.finished"]
    assert summary["encounters"] == len(finished) > 0
    assert summary["shots"] == sum(e["shots"] for e in finished)
    assert summary["hits"] == sum(e["hits"] for e in finished)
    assert summary["accuracy"] == pytest.approx(summary["hits"] / summary["shots"])
    assert summary["damage_taken"] == pytest.approx(sum(e["damage_taken"] for e in finished))
    assert 0.0 <= summary["exposure"] <= 1.0
    assert types["pattern.merged"] == len(finished)
    assert set(summary["patterns"]) == {e["signature"] for e in finished}
    last_params: dict[str, dict[str, float]] = {}
    for e in events:
        if e["type"] == "pattern.merged":
            last_params[e["signature"]] = e["params"]
    for sig, p in summary["patterns"].items():
        assert p.keys() >= PATTERN_KEYS
        mine = [e for e in finished if e["signature"] == sig]
        assert p["encounters"] == len(mine)
        assert p["shots"] == sum(e["shots"] for e in mine)
        assert p["hits"] == sum(e["hits"] for e in mine)
        assert p["accuracy"] == pytest.approx(p["hits"] / p["shots"] if p["shots"] else 0.0)
        assert p["params"] == last_params[sig]
        assert set(p["params"]) >= {"aim_offset", "flank_bias"}

    # Every TIP that started either finished or is still running when the match ends.
    started = {e["encounter"] for e in events if e["type"] == "tip.started"}
    assert {e["encounter"] for e in finished} <= started
    assert len(started) - len(finished) == summary["unfinished"]


async def test_zero_ticks_is_an_empty_but_well_formed_run() -> None:
    events: list[dict[str, Any]] = []
    result = await run_async(RunConfig(ticks=0, quiet=True), listeners=(events.append,))
    assert [e["type"] for e in events] == ["run.started", "run.finished"]
    assert [e["seq"] for e in events] == [0, 1]
    assert result.summary.ticks == 0 and result.summary.encounters == 0


@pytest.mark.parametrize("tips", [1, 8, 32])
async def test_tips_n_runs_n_concurrent_tips_in_steady_state(tips: int) -> None:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=100, tips=tips, seed=4, planner="graph", quiet=True)
    result = await run_async(config, listeners=(events.append,))
    assert result.summary.max_active_tips == tips
    active = [e["active_tips"] for e in events if e["type"] == "world.tick"]
    assert len(active) == 100 and max(active) <= tips
    steady = active[10:]
    assert sum(a == tips for a in steady) >= 0.9 * len(steady), steady
    # and the TIPs really act concurrently: tips distinct encounters shoot in a steady tick
    per_tick = Counter(e["tick"] for e in events if e["type"] == "tip.shot")
    assert sum(per_tick[t] == tips for t in range(10, 100)) >= 0.9 * 90
    assert result.summary.encounters > tips
