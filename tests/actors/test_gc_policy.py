"""GcPolicy: the runtime follows the actor count with the collector and puts it back after."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator

import pytest

from actors import Actor, ActorEscalation, Exhausted, GcPolicy, RestartPolicy, Runtime
from bus import Envelope
from fom.app import run
from fom.cli import build_parser
from fom.config import RunConfig


class Idle(Actor):
    """Does nothing until it is stopped."""

    async def receive(self, envelope: Envelope) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[int, int, int]]:
    """A known threshold to start from; the test's own settings are undone afterwards."""
    saved = gc.get_threshold()
    gc.set_threshold(1000, 7, 9)
    try:
        yield gc.get_threshold()
    finally:
        gc.set_threshold(*saved)


def test_young_threshold_grows_with_actors_by_powers_of_two() -> None:
    policy = GcPolicy(young_per_actor=16)
    assert policy.young_threshold(1, floor=700) == 700
    assert policy.young_threshold(100, floor=700) == 16 * 128
    assert policy.young_threshold(4096, floor=700) == 16 * 8192
    assert policy.young_threshold(4095, floor=700) == 16 * 4096
    with pytest.raises(ValueError, match="young_per_actor"):
        GcPolicy(young_per_actor=-1)


async def test_runtime_follows_actor_count_and_restores(collector: tuple[int, int, int]) -> None:
    frozen_before = gc.get_freeze_count()
    async with Runtime(gc=GcPolicy(young_per_actor=8)) as rt:
        assert gc.get_freeze_count() > frozen_before
        refs = [rt.spawn(Idle()) for _ in range(300)]
        assert gc.get_threshold() == (8 * 512, 7, 9)  # the older generations are untouched
        for ref in refs[:250]:
            await rt.stop(ref)
        assert gc.get_threshold() == (1000, 7, 9)  # 50 actors: 8 * 64 is under the floor
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == frozen_before


async def test_runtime_restores_collector_when_an_actor_escalates(
    collector: tuple[int, int, int],
) -> None:
    class Boom(Actor):
        async def on_start(self) -> None:
            raise RuntimeError("boom")

    with pytest.raises(ExceptionGroup) as info:
        async with Runtime(gc=GcPolicy()) as rt:
            rt.spawn(Boom(), policy=RestartPolicy(0, on_exhausted=Exhausted.ESCALATE))
            await asyncio.Event().wait()  # cancelled by the escalation
    assert info.group_contains(ActorEscalation)
    assert gc.get_threshold() == collector


async def test_runtime_without_policy_leaves_collector_alone(
    collector: tuple[int, int, int],
) -> None:
    async with Runtime() as rt:
        for _ in range(300):
            rt.spawn(Idle())
        assert gc.get_threshold() == collector
    assert gc.get_threshold() == collector


@pytest.mark.skipif(
    sys.version_info >= (3, 14), reason="CPython 3.14 collects the old generation incrementally"
)
@pytest.mark.slow
def test_thousands_of_tips_do_not_collect_the_old_generation_every_tick() -> None:
    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    def full_collections(gc_tuning: bool) -> int:
        full.clear()
        gc.callbacks.append(count)
        try:
            run(RunConfig(ticks=12, tips=2048, planner="graph", quiet=True, gc_tuning=gc_tuning))
        finally:
            gc.callbacks.remove(count)
        return len(full)

    tuned, untuned = full_collections(True), full_collections(False)
    assert tuned <= 2  # the one before freezing, at most one more
    assert untuned > tuned + 2


def test_cli_turns_tuning_off() -> None:
    parser = build_parser(RunConfig, "fom-run")
    assert parser.parse_args([]).gc_tuning is True
    assert parser.parse_args(["--no-gc-tuning"]).gc_tuning is False


async def test_overlapping_runtimes_share_the_collector(collector: tuple[int, int, int]) -> None:
    small, large = Runtime(gc=GcPolicy(young_per_actor=8)), Runtime(gc=GcPolicy(young_per_actor=8))
    await small.__aenter__()
    await large.__aenter__()
    for _ in range(200):
        small.spawn(Idle())
    for _ in range(1000):
        large.spawn(Idle())
    assert gc.get_threshold() == (8 * 1024, 7, 9)  # the larger of the two asks
    await large.__aexit__(None, None, None)  # not the order they were entered in
    assert gc.get_threshold() == (8 * 256, 7, 9)
    await small.__aexit__(None, None, None)
    assert gc.get_threshold() == collector


async def test_actors_hosted_elsewhere_count_as_actors(collector: tuple[int, int, int]) -> None:
    """A driver whose TIPs live on workers tunes the collector for them (Runtime.hosted)."""
    async with Runtime(gc=GcPolicy(young_per_actor=8)) as rt:
        rt.spawn(Idle())
        assert gc.get_threshold() == (1000, 7, 9)
        rt.hosted(1000)  # 1,001 actors' worth of messages
        assert gc.get_threshold() == (8 * 1024, 7, 9)
        rt.hosted(0)
        assert gc.get_threshold() == (1000, 7, 9)
    assert gc.get_threshold() == collector
