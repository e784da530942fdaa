"""The event stream's shape; the run summary, the live dashboard and a replay of the recording
as one fold of it; ``tips`` concurrent TIPs in steady state."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import actors.dashboard
from actors.dashboard import DashboardActor
from actors.tip import Tip
from fom.app import run_async
from fom.config import RunConfig
from fom.dashboard import DashboardState
from fom.dashboard.replay import read_events
from fom.events import MatchStats, RunFinished, read_records, strip_wallclock, to_plain

SUMMARY_KEYS = {
    "ticks",
    "decisions",
    "kills",
    "damage_dealt",
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

    # The summary agrees with the events it summarises: counted from the raw dicts here...
    shots = [e for e in events if e["type"] == "tip.shot"]
    finished = [e for e in events if e["type"] == "tip.finished"]
    started = {e["encounter"] for e in events if e["type"] == "tip.started"}
    assert summary["decisions"] == len(shots) > 0
    assert summary["shots"] == sum(e["fired"] for e in shots)
    assert summary["hits"] == sum(e["hit"] for e in shots)
    assert summary["accuracy"] == pytest.approx(summary["hits"] / summary["shots"])
    assert summary["damage_taken"] == pytest.approx(sum(e["damage_taken"] for e in shots))
    assert summary["damage_dealt"] == pytest.approx(sum(e["damage"] for e in shots))
    assert summary["encounters"] == len(finished) > 0
    assert summary["kills"] == sum(e["reason"] == "killed" for e in finished)
    assert summary["max_active_tips"] == max(e["active_tips"] for e in events
                                             if e["type"] == "world.tick")
    assert 0.0 <= summary["exposure"] <= 1.0
    assert types["pattern.merged"] == len(finished)
    last_params: dict[str, dict[str, float]] = {}
    for e in events:
        if e["type"] == "pattern.merged":
            last_params[e["signature"]] = e["params"]
    for sig, p in summary["patterns"].items():
        assert p.keys() >= PATTERN_KEYS
        assert p["encounters"] == sum(e["signature"] == sig for e in finished)
        assert p["shots"] == sum(e["fired"] for e in shots if e["signature"] == sig)
        assert p["accuracy"] == pytest.approx(p["hits"] / p["shots"] if p["shots"] else 0.0)
        assert p["params"] == last_params[sig]
        assert set(p["params"]) >= {"aim_offset", "flank_bias"}
    # ... and every TIP that started either finished or is still running when the match ends.
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


# ------------------------------------------------ one fold: summary, dashboard, recording


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested plain value as {dotted path: leaf}."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _same(a: Any, b: Any) -> None:
    """Equal plain values; floats equal to rounding (sums folded in another order)."""
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys()
    for key, value in fa.items():
        if isinstance(value, float):
            assert fb[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
        else:
            assert fb[key] == value, key


class CrashingTip(Tip):
    """Raises on its 2nd tick when it fights encounter 2 (an actor.failed in the stream)."""

    async def request(self, topic: str, message: Any, *, timeout: float) -> Any:
        reply = await super().request(topic, message, timeout=timeout)
        if topic == "world.act":  # the result of one of its ticks
            self.seen = getattr(self, "seen", 0) + 1
            if self.name == "tip-2" and self.seen == 2:
                raise RuntimeError("injected")
        return reply


@pytest.mark.parametrize("tip", [Tip, CrashingTip])
async def test_the_summary_is_the_fold_of_the_recorded_stream(tmp_path: Path, tip: Any) -> None:
    path = tmp_path / "events.jsonl"
    config = RunConfig(ticks=150, tips=6, seed=5, planner="graph", quiet=True, events=str(path))
    result = await run_async(config, tip_factory=tip)
    stats = MatchStats()
    records = [record for record, _ in read_records(path)]
    for record in records:
        stats.fold(record)
    assert isinstance(records[-1], RunFinished) and stats.raw_events == 0
    assert stats.failed_tips == result.failures and (result.failures > 0) == (tip is CrashingTip)
    summary = to_plain(records[-1].summary)
    assert summary == to_plain(result.summary)
    _same(strip_wallclock(summary), strip_wallclock(to_plain(stats.summary(1.0))))


def _view(state: DashboardState) -> dict[str, Any]:
    """Everything a DashboardState shows that is not wall-clock time, as plain values."""
    level = state.level
    return {
        "tick": state.tick,
        "events": state.events,
        "last_seq": state.last_seq,
        "lost": (state.lost_events, state.reordered_events),
        "config": state.config,
        "level": None if level is None else (
            level.positions.tolist(), level.cover.tolist(), level.edges.tolist(),
            level.floor_height,
        ),
        "bot": (state.self_node, state.self_health, state.visible_opponents),
        "tips": (state.active_tips, state.max_active_tips),
        "enemies": {k: dataclasses.astuple(e) for k, e in state.enemies.items()},
        "paths": [dataclasses.astuple(p) for p in state.paths],
        "curves": {sig: [a.tolist() for a in c.arrays()] for sig, c in state.curves.items()},
        "weapons": state.weapons,
        "patterns": {sig: dataclasses.asdict(p) for sig, p in state.patterns.items()},
        "stats": {k: v for k, v in vars(state.stats).items() if k not in ("patterns",
                                                                            "latencies_ms")},
        "latencies": state.stats.latencies_ms.values().tolist(),
        "summary": to_plain(state.summary),
        "timings": (state.decisions_per_s, state.latency_p50_ms, state.latency_p99_ms),
    }


@pytest.mark.parametrize(("fmt", "planner"), [("msgpack", "fmc"), ("jsonl", "graph")])
async def test_the_live_dashboard_equals_the_replayed_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, planner: str
) -> None:
    kept: list[DashboardState] = []

    class KeptDashboard(DashboardActor):
        """The real dashboard actor, keeping its final state for the comparison."""

        async def on_stop(self) -> None:
            await super().on_stop()
            kept.append(self.state)

    monkeypatch.setattr(actors.dashboard, "DashboardActor", KeptDashboard)
    path = tmp_path / f"events.{fmt}"
    config = RunConfig(
        ticks=90, tips=4, seed=3, planner=planner, quiet=True, events=str(path),
        events_format=fmt, dashboard=str(tmp_path / "live.png"),
    )
    result = await run_async(config, tip_factory=CrashingTip)
    assert len(kept) == 1 and result.failures >= 1
    live = kept[0]
    replayed = DashboardState.from_events(read_events(path))
    assert live.finished and live.failures == live.stats.failed_tips == result.failures
    assert live.unknown_events == 0 and (live.stats.planned_requests > 0) == (planner == "fmc")
    assert live.enemies == {} and live.curves and live.paths and live.level is not None
    assert _view(live) == _view(replayed)
