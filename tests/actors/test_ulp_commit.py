"""The ordered ULP: a tick's deltas are merged in encounter order once CoreAgent commits them,
so what each ``pattern.updated`` (and ``pattern.merged``) says after each delta, its version
and its parameters, is the same whatever order the deltas arrived in."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from actors import Runtime
from actors.channels import CommitDeltas, PatternDelta, PatternUpdated
from actors.propagator import Propagator
from bus import Bus
from fom.match import merge_ended
from fom.patterns import PatternStore

SIG = "combat/rocket"


def _deltas(n: int) -> list[PatternDelta]:
    rng = np.random.default_rng(5)
    return [PatternDelta(SIG, rng.normal(size=2) * 10.0 ** rng.integers(-8, 8, 2), f"tip-{e}", e, 3)
            for e in range(n)]  # fmt: skip


async def _ulp_updates(order: list[int], deltas: list[PatternDelta]) -> list[Any]:
    store = PatternStore(alpha=0.37, initial={"aim_offset": 0.1, "flank_bias": 0.2})
    answered: list[Any] = []
    async with Runtime(Bus()) as rt:
        updates = rt.bus.subscribe("pattern.updated", name="probe")
        rt.spawn(Propagator(store, ordered=True), name="ulp")
        for i in order[: len(order) // 2]:
            await rt.bus.publish("pattern.delta", deltas[i])
        await rt.bus.publish("pattern.commit", CommitDeltas(tuple(range(len(deltas)))))
        await rt.settle()
        assert updates.get_nowait() is None, "merged before every delta of the commit came"
        for i in order[len(order) // 2 :]:
            await rt.bus.publish("pattern.delta", deltas[i])
        for _ in deltas:
            update = (await asyncio.wait_for(updates.get(), 5)).message
            assert isinstance(update, PatternUpdated)
            p = update.params
            answered.append((update.encounter, p.version, p.merges, p.values.tobytes()))
    return answered


def test_the_merge_does_not_depend_on_arrival_order() -> None:
    deltas = _deltas(12)
    fresh = PatternStore(alpha=0.37, initial={"aim_offset": 0.1, "flank_bias": 0.2})
    rows = [(d.encounter, d.signature, d.delta, d.tip, d.tick) for d in deltas[::-1]]
    expect = [(e, p.version, p.merges, p.values.tobytes()) for e, p, _ in merge_ended(fresh, rows)]
    assert [e for e, *_ in expect] == list(range(len(deltas)))
    rng = np.random.default_rng(1)
    for _ in range(4):
        order = [int(i) for i in rng.permutation(len(deltas))]
        assert asyncio.run(_ulp_updates(order, deltas)) == expect
