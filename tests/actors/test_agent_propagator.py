"""The ULP: additive merges commute; bad deltas are rejected with an event, pattern untouched."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import Runtime
from actors.channels import PatternDelta, PatternRejected, PatternUpdated
from actors.propagator import Propagator
from bus import Bus
from fom.patterns import PatternStore

SIGS = ("combat/shotgun", "combat/rocket", "combat/railgun")
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
delta_st = st.tuples(st.sampled_from(SIGS), st.lists(finite, min_size=2, max_size=2))

TWO = ("aim_offset", "flank_bias")
"""A two-parameter layout: the ULP's mechanics do not depend on the names."""


@settings(max_examples=60, deadline=None)
@given(
    deltas=st.lists(delta_st, min_size=1, max_size=25),
    alpha=st.floats(min_value=1e-3, max_value=10.0),
    data=st.data(),
)
def test_any_order_of_the_same_deltas_gives_the_same_parameters(
    deltas: list[tuple[str, list[float]]], alpha: float, data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(deltas))))
    initial = {"aim_offset": 0.25, "flank_bias": -1.5}
    a = PatternStore(names=TWO, alpha=alpha, initial=initial)
    b = PatternStore(names=TWO, alpha=alpha, initial=initial)
    for sig, d in deltas:
        a.merge(sig, np.array(d))
    for i in order:
        sig, d = deltas[i]
        b.merge(sig, np.array(d))
    pa, pb = a.all(), b.all()
    assert pa.keys() == pb.keys() == {sig for sig, _ in deltas}
    for sig in pa:
        np.testing.assert_allclose(pa[sig].values, pb[sig].values, rtol=0, atol=1e-12)
        assert pa[sig].merges == pb[sig].merges == sum(s == sig for s, _ in deltas)
        # and the merge is the documented theta + alpha * sum(delta), up to rounding
        expect = np.array([initial[n] for n in TWO]) + alpha * np.sum(
            [d for s, d in deltas if s == sig], axis=0
        )
        np.testing.assert_allclose(pa[sig].values, expect, rtol=1e-9, atol=1e-6)


async def _next(sub: Any) -> Any:
    return (await asyncio.wait_for(sub.get(), timeout=5)).message


BAD_DELTAS = [
    pytest.param(np.array([np.nan, 0.1]), id="nan"),
    pytest.param(np.array([0.1, np.inf]), id="inf"),
    pytest.param(np.array([0.1, 0.2, 0.3]), id="too-long"),
    pytest.param(np.array([0.1]), id="too-short"),
    pytest.param(np.zeros((2, 1)), id="2-d"),
    pytest.param(np.array([1, 2], dtype=np.int64), id="int-dtype"),
]


@pytest.mark.parametrize("bad", BAD_DELTAS)
async def test_ulp_rejects_a_bad_delta_and_leaves_the_pattern_untouched(bad: np.ndarray) -> None:
    sig = "combat/shotgun"
    store = PatternStore(names=TWO, alpha=0.5)
    bus = Bus()
    async with Runtime(bus) as rt:
        watch = bus.subscribe("event.pattern.rejected", "pattern.updated", capacity=64)
        rt.spawn(Propagator(store), name="ulp")

        await bus.publish("pattern.delta", PatternDelta(sig, np.array([0.2, -0.4]), "tip-0", 0, 3))
        first = await _next(watch)
        assert isinstance(first, PatternUpdated) and first.params.version == 1
        before = store.get(sig)

        await bus.publish("pattern.delta", PatternDelta(sig, bad, "tip-1", 1, 4))
        answer = await _next(watch)  # every delta is answered, merged or not (for CoreAgent)
        assert isinstance(answer, PatternUpdated) and answer.encounter == 1
        assert answer.params.version == before.version
        np.testing.assert_array_equal(answer.params.values, before.values)
        rejected = await _next(watch)
        assert isinstance(rejected, PatternRejected)
        assert (rejected.signature, rejected.tip, rejected.tick) == (sig, "tip-1", 4)
        assert rejected.reason
        after = store.get(sig)
        assert after.version == before.version and after.merges == before.merges
        np.testing.assert_array_equal(after.values, before.values)

        # A bad delta for a pattern never seen does not create it either.
        await bus.publish("pattern.delta", PatternDelta("combat/bfg", bad, "tip-2", 2, 5))
        answer = await _next(watch)
        assert isinstance(answer, PatternUpdated) and answer.params.version == 0
        assert isinstance(await _next(watch), PatternRejected)
        assert "combat/bfg" not in store

        # The ULP is still alive and merging: the next good delta is version 2, and the
        # rejected ones contributed nothing.
        await bus.publish("pattern.delta", PatternDelta(sig, np.array([0.1, 0.1]), "tip-3", 3, 6))
        second = await _next(watch)
        assert isinstance(second, PatternUpdated)
        assert second.params.version == 2 and second.params.merges == 2
        np.testing.assert_allclose(second.params.values, [0.5 * 0.3, 0.5 * -0.3], atol=1e-15)
        assert watch.get_nowait() is None
        assert rt.failures == 0


async def test_ulp_rejection_is_an_event_in_the_stream() -> None:
    """The rejection reaches the EventLog as a ``pattern.rejected`` event."""
    from actors.event_log import EventLog

    events: list[dict[str, Any]] = []
    seen = asyncio.Event()

    def listen(event: dict[str, Any]) -> None:
        events.append(event)
        if event["type"] == "pattern.rejected":
            seen.set()

    store = PatternStore(names=TWO)
    bus = Bus()
    async with Runtime(bus) as rt:
        rt.spawn(EventLog(None, listeners=(listen,)), name="event-log")
        rt.spawn(Propagator(store), name="ulp")
        bad = np.array([np.nan, np.nan])
        await bus.publish("pattern.delta", PatternDelta("combat/rocket", bad, "tip-9", 9, 12))
        await asyncio.wait_for(seen.wait(), timeout=5)
    (event,) = [e for e in events if e["type"] == "pattern.rejected"]
    assert event["tip"] == "tip-9" and event["signature"] == "combat/rocket"
    assert event["tick"] == 12 and "finite" in event["reason"]
    assert not any(e["type"] == "pattern.merged" for e in events)
    assert "combat/rocket" not in store


async def test_a_ulp_that_crashes_on_a_delta_still_answers_it() -> None:
    """CoreAgent waits for an answer to every ended encounter's delta: a crash must not hang it."""

    class FaultyStore(PatternStore):
        def merge(self, signature: str, delta: np.ndarray) -> Any:
            if signature == "combat/broken":
                raise RuntimeError("the store broke")
            return super().merge(signature, delta)

    bus = Bus()
    async with Runtime(bus) as rt:
        watch = bus.subscribe("pattern.updated", "event.actor.failed", capacity=64)
        rt.spawn(Propagator(FaultyStore(names=TWO, alpha=0.5)), name="ulp")
        await bus.publish(
            "pattern.delta", PatternDelta("combat/broken", np.array([0.1, 0.1]), "tip-7", 7, 3)
        )
        messages = [await _next(watch), await _next(watch)]
        (answer,) = [m for m in messages if isinstance(m, PatternUpdated)]
        assert answer.encounter == 7 and answer.params.version == 0
        assert any(getattr(m, "actor", None) == "ulp" for m in messages)
        # restarted, it merges the next delta
        await bus.publish(
            "pattern.delta", PatternDelta("combat/rocket", np.array([0.2, 0.0]), "tip-8", 8, 4)
        )
        merged = await _next(watch)
        assert isinstance(merged, PatternUpdated) and merged.params.version == 1


async def test_a_ulp_whose_store_cannot_be_read_either_answers_with_the_initial_values() -> None:
    """The merge crashes and so does ``peek``: the answer still goes out (initial values,
    version 0), and the failure reported is the merge's, not the one met while answering."""

    class UnreadableStore(PatternStore):
        def merge(self, signature: str, delta: np.ndarray) -> Any:
            raise RuntimeError("the merge broke")

        def peek(self, signature: str) -> Any:
            raise RuntimeError("the peek broke")

    bus = Bus()
    async with Runtime(bus) as rt:
        watch = bus.subscribe("pattern.updated", "event.actor.failed", capacity=64)
        initial = {"aim_offset": 0.25, "flank_bias": -1.5}
        rt.spawn(Propagator(UnreadableStore(names=TWO, alpha=0.5, initial=initial)), name="ulp")
        await bus.publish(
            "pattern.delta", PatternDelta("combat/rocket", np.array([0.1, 0.1]), "tip-7", 7, 3)
        )
        messages = [await _next(watch), await _next(watch)]
    (answer,) = [m for m in messages if isinstance(m, PatternUpdated)]
    assert answer.encounter == 7 and answer.params.signature == "combat/rocket"
    assert answer.params.version == 0 and answer.params.as_dict() == initial
    (failure,) = [m for m in messages if not isinstance(m, PatternUpdated)]
    assert failure.actor == "ulp" and failure.error == "the merge broke"
