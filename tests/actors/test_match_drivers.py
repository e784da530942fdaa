"""The actors and the synchronous driver play the same match; batching and the loop change nothing.

The actors drive :mod:`fom.match`; :mod:`fom.simulate` drives it with plain calls. For the same
seed and config they must end the same encounters, the same way, in the same order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from actors import Runtime
from actors import run as run_loop
from actors.walker_pool import WalkerPool
from bus import Bus, Envelope
from fom.app import run_async
from fom.config import RunConfig
from fom.events import TipFinished, event_dict, strip_wallclock
from fom.level import default_level
from fom.planners import FmcPlanner, PlanProblem
from fom.simulate import sync_match

PLANNERS = ("graph", "fmc", "mc")


def _config(planner: str, **fields: Any) -> RunConfig:
    base = dict(ticks=50, tips=6, seed=11, walkers=8, horizon=3, quiet=True, planner=planner)
    return RunConfig(**{**base, **fields})  # type: ignore[arg-type]


def _actor_stream(config: RunConfig, **options: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    async def main() -> None:
        await run_async(config, listeners=(events.append,), **options)

    run_loop(main(), use_uvloop=config.uvloop)
    return [strip_wallclock(e) for e in events]


def _finished(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k not in ("seq", "time")} for e in stream
            if e["type"] == "tip.finished"]  # fmt: skip


@pytest.mark.parametrize(
    ("planner", "learner"),
    [(p, "fom") for p in PLANNERS] + [("fmc", k) for k in ("static", "monolithic", "mlp")],
)
def test_the_sync_driver_and_the_actors_end_the_same_encounters(planner: str, learner: str) -> None:
    config = _config(planner, learner=learner)
    actors = _finished(_actor_stream(config))
    records: list[Any] = []
    sync_match(config, listener=records.append).play()
    sync = [
        strip_wallclock(event_dict(r, r.TYPE, 0, r.tick, 0.0)) for r in records
        if isinstance(r, TipFinished)
    ]  # fmt: skip
    sync = [{k: v for k, v in e.items() if k not in ("seq", "time")} for e in sync]
    assert len(actors) >= 10, "too few encounters ended to compare anything"
    assert {e["reason"] for e in actors} >= {"killed"}
    assert sync == actors


@pytest.mark.parametrize("planner", ["graph", "fmc"])
def test_same_stream_on_asyncio_and_on_uvloop(planner: str) -> None:
    pytest.importorskip("uvloop", reason="uvloop is not installed")
    on_uvloop = _actor_stream(_config(planner, uvloop=True))
    on_asyncio = _actor_stream(_config(planner, uvloop=False))
    strip = [{k: v for k, v in e.items() if k != "config"} for e in on_uvloop]
    assert strip == [{k: v for k, v in e.items() if k != "config"} for e in on_asyncio]


async def test_a_plan_does_not_depend_on_how_requests_are_batched() -> None:
    level = default_level()
    problems = [
        PlanProblem(e, 7, ("shotgun", "rocket", "railgun")[e % 3], e % level.n, 100.0,
                    (e + 3) % level.n, 60.0, 0.0, 0.3)
        for e in range(12)
    ]  # fmt: skip
    replies, batches = [], []
    for together in (True, False):
        async with Runtime(Bus()) as rt:
            pool = WalkerPool(FmcPlanner(walkers=16, horizon=4), level, seed=3, name="fmc",
                              walkers=16)  # fmt: skip
            rt.spawn(pool, name="pool")

            async def ask(p: PlanProblem, rt: Runtime = rt) -> object:
                return await rt.bus.request("plan.request", p, timeout=10.0)

            if together:  # all waiting at once: one batch
                replies.append(await asyncio.gather(*(ask(p) for p in reversed(problems))))
                replies[-1].reverse()
            else:  # one at a time: batches of one
                replies.append([await ask(p) for p in problems])
            batches.append(pool.batches)
    assert batches == [1, len(problems)]  # the two really were batched differently
    assert replies[0] == replies[1]
    assert len({(r.move_to, r.fire) for r in replies[0]}) > 1  # the plans differ by problem


class OneAtATime(WalkerPool):
    """A walker pool that plans only the request that woke it: one batch per request."""

    def take_waiting(self) -> list[Envelope]:
        return []


def test_a_run_plays_the_same_however_the_pool_batches() -> None:
    """A whole fmc run gives the same event stream with one batch per tick's requests as with
    one batch per request."""
    config = _config("fmc")
    streams, batches = [], []
    for cls in (WalkerPool, OneAtATime):
        pools: list[WalkerPool] = []

        def keep(*args: Any, cls: type[WalkerPool] = cls, pools: list = pools, **kw: Any) -> Any:
            pools.append(cls(*args, **kw))
            return pools[-1]

        streams.append(_actor_stream(config, pool_factory=keep))
        (pool,) = pools
        batches.append(pool.batches)
    planned = sum(e["type"] == "plan.done" for e in streams[1])
    assert batches[1] == planned > 2 * batches[0]  # one per request against several per batch
    assert streams[0] == streams[1]


def test_the_summary_counts_agree_with_the_stream() -> None:
    stream = _actor_stream(_config("fmc", ticks=40))
    summary = stream[-1]["summary"]
    shots = [e for e in stream if e["type"] == "tip.shot"]
    finished = [e for e in stream if e["type"] == "tip.finished"]
    assert summary["decisions"] == len(shots)
    assert summary["shots"] == sum(e["fired"] for e in shots)
    assert summary["hits"] == sum(e["hit"] for e in shots)
    assert summary["encounters"] == len(finished)
    assert summary["damage_taken"] == pytest.approx(sum(e["damage_taken"] for e in shots))


def test_the_sync_driver_and_the_actors_merge_the_same_parameters_bit_for_bit() -> None:
    """Both merge a tick's ended encounters in encounter order (fom.match.merge_ended)."""
    from fom.events import PatternMerged

    config = _config("fmc", tips=8, ticks=60)
    actors = [
        {k: v for k, v in e.items() if k not in ("seq", "time")}
        for e in _actor_stream(config) if e["type"] == "pattern.merged"
    ]  # fmt: skip
    records: list[Any] = []
    sync_match(config, listener=records.append).play()
    sync = [
        {k: v for k, v in strip_wallclock(event_dict(r, r.TYPE, 0, r.tick, 0.0)).items()
         if k not in ("seq", "time")}
        for r in records if isinstance(r, PatternMerged)
    ]  # fmt: skip
    assert len(actors) >= 10, "too few merges to compare anything"
    key = lambda e: (e["tick"], e["signature"], e["merges"])  # noqa: E731
    assert sorted(sync, key=key) == sorted(actors, key=key)
