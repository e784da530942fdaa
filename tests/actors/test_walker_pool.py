"""The walker pool: one micro-batch per tick in the lockstep world, plan.done telemetry."""

from __future__ import annotations

from typing import Any

from actors.walker_pool import WalkerPool
from fom.app import run_async
from fom.config import RunConfig


async def test_one_plan_done_per_decision_and_every_request_of_a_tick_in_few_batches() -> None:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=40, tips=8, planner="fmc", walkers=8, horizon=3, seed=2, quiet=True)
    pools: list[WalkerPool] = []

    class CountingPool(WalkerPool):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            pools.append(self)

    result = await run_async(config, listeners=(events.append,), pool_factory=CountingPool)
    plans = [e for e in events if e["type"] == "plan.done"]
    shots = [e for e in events if e["type"] == "tip.shot"]
    assert plans and all(e["planner"] == "fmc" and e["walkers"] == 8 for e in plans)
    assert all(e["samples"] == 8 * 3 for e in plans)
    # one plan.done per decision (those of the last tick are answered but never played)
    assert len(plans) >= len(shots) == result.summary.decisions
    (pool,) = pools
    ticks = len({e["tick"] for e in shots})
    # Continuing TIPs ask together; TIPs started at a tick ask once spawned: about 2 batches.
    assert pool.batches <= 2 * ticks + 1 < len(plans)


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
