"""The walker pool: one micro-batch per tick in the lockstep world, plan.done telemetry."""

from __future__ import annotations

from typing import Any

from fom.app import run_async
from fom.config import RunConfig


async def test_requests_of_a_tick_are_planned_in_one_batch() -> None:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=40, tips=8, planner="fmc", walkers=8, horizon=3, seed=2, quiet=True)
    result = await run_async(config, listeners=(events.append,))
    plans = [e for e in events if e["type"] == "plan.done"]
    shots = [e for e in events if e["type"] == "tip.shot"]
    assert plans and all(e["planner"] == "fmc" and e["walkers"] == 8 for e in plans)
    by_tick: dict[int, int] = {}
    for e in shots:
        by_tick[e["tick"]] = by_tick.get(e["tick"], 0) + 1
    batches: dict[int, list[int]] = {}
    for e in plans:
        batches.setdefault(e["tick"], []).append(e["requests"])
    started = {e["tick"] for e in events if e["type"] == "tip.started"}
    for tick, count in by_tick.items():
        # Continuing TIPs ask together; TIPs started this tick ask once spawned: a 2nd batch.
        assert sum(batches[tick]) == count
        assert len(batches[tick]) <= 2
    quiet = [t for t in by_tick if t not in started]
    assert len(quiet) > 5 and all(batches[t] == [by_tick[t]] for t in quiet)
    assert all(e["samples"] == e["requests"] * 8 * 3 for e in plans)
    assert result.summary.decisions <= sum(e["requests"] for e in plans)  # finished TIPs only


async def test_fmc_planner_takes_less_damage_than_it_would_standing_in_the_open() -> None:
    """FMC plans through the encounter simulator: exposure lower than the graph planner's."""
    fmc = await run_async(RunConfig(ticks=200, tips=4, planner="fmc", seed=1, quiet=True))
    graph = await run_async(RunConfig(ticks=200, tips=4, planner="graph", seed=1, quiet=True))
    assert fmc.summary.exposure < graph.summary.exposure


async def test_mc_planner_runs_in_the_pool_at_the_same_budget() -> None:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=30, tips=4, planner="mc", walkers=8, horizon=3, seed=2, quiet=True)
    result = await run_async(config, listeners=(events.append,))
    plans = [e for e in events if e["type"] == "plan.done"]
    assert plans and all(e["planner"] == "mc" and e["walkers"] == 8 for e in plans)
    assert all(0 < e["samples"] <= e["requests"] * 8 * 3 for e in plans)  # dead rollouts stop
    assert result.summary.decisions > 0 and result.failures == 0
