"""Counter-based streams: RowStreams' draws, and plans that do not depend on their batch."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fom.fmc import plan_batch, plan_batch_mc
from fom.level import default_level
from fom.planning import EncounterRoot, EncounterSimulator
from fom.streams import RowStreams, plan_keys, stream_keys, stream_uniforms

KEYS = stream_keys(7, np.arange(5))


def test_draws_are_the_engine_streams_at_the_shared_counter() -> None:
    rows = RowStreams(KEYS, counter=4)
    u = rows.random((3, 5))
    for j in range(3):
        assert np.array_equal(u[j], stream_uniforms(KEYS, np.full(5, 4 + j)))
    assert rows.counter == 7


def test_a_row_draws_the_same_whatever_the_other_rows() -> None:
    alone, crowd = RowStreams(KEYS[2:3]), RowStreams(KEYS[::-1])
    for _ in range(3):
        a = (alone.random(1), alone.integers(3, 9, size=(2, 1)), alone.random((4, 1)))
        c = (crowd.random(5), crowd.integers(3, 9, size=(2, 5)), crowd.random((4, 5)))
        for x, y in zip(a, c, strict=True):
            assert np.array_equal(x[..., 0], y[..., 2])


def test_a_view_shares_the_counter_with_its_parent() -> None:
    parent, twin = RowStreams(KEYS), RowStreams(KEYS)
    view = parent.rows([3, 1])
    parent.random((2, 5))
    got = view.random(2)
    twin.random((2, 5))
    assert np.array_equal(got, twin.random(5)[[3, 1]])
    assert parent.counter == view.counter == 3
    view.integers(0, 3, size=(4, 2))  # four values per row, one draw each
    assert parent.counter == 7


@pytest.mark.parametrize("size", [None, 4, 6, (5, 2), (), (0,), (2, 4)])
def test_sizes_must_end_with_the_number_of_rows(size: object) -> None:
    rows = RowStreams(KEYS)
    for draw in (rows.random, lambda s: rows.integers(0, 3, size=s)):
        with pytest.raises(ValueError):
            draw(size)
    assert rows.counter == 0


def test_distributions() -> None:
    rows = RowStreams.for_groups(plan_keys(3, np.arange(40), np.zeros(40)), 500)
    u = rows.random((5, 20_000))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    k = rows.integers(2, 7, size=(4, 20_000))
    assert k.min() == 2 and k.max() == 6
    assert np.allclose(np.bincount(k.ravel())[2:] / k.size, 0.2, atol=0.01)
    assert abs(np.corrcoef(u[0], u[1])[0, 1]) < 0.03  # consecutive draws of a row
    assert abs(np.corrcoef(u[0, :-1], u[0, 1:])[0, 1]) < 0.03  # neighbouring rows


def test_plan_keys_are_distinct() -> None:
    enc, tick = np.meshgrid(np.arange(100), np.arange(100))
    keys = plan_keys(1, enc.ravel(), tick.ravel())
    engine = stream_keys(1, np.arange(100))
    assert len(set(keys.tolist()) | set(engine.tolist())) == 100 * 100 + 100
    assert not np.array_equal(plan_keys(2, [0], [0]), plan_keys(1, [0], [0]))
    rows = RowStreams.for_groups(keys[:50], 64)
    assert len(set(rows.keys.tolist())) == 50 * 64


# ------------------------------------------------------------------ batch-independent plans

LEVEL = default_level()
_roots = st.builds(
    lambda weapon, node, hop, hp, enemy_hp, bias: EncounterRoot(
        weapon, node, hp, (node + hop) % LEVEL.n, enemy_hp, bias
    ),
    st.sampled_from(["shotgun", "rocket", "railgun"]),
    st.integers(0, LEVEL.n - 1),
    st.integers(1, LEVEL.n - 1),
    st.sampled_from([5.0, 30.0, 100.0]),  # low health: whole groups die and drop out early
    st.sampled_from([10.0, 100.0]),
    st.sampled_from([0.0, 0.5]),
)


def _first(pair: tuple[int, EncounterRoot]) -> int:
    """The encounter id of a (id, root) pair."""
    return pair[0]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 50), _roots), min_size=1, max_size=5, unique_by=_first),
    st.randoms(use_true_random=False),
    st.sampled_from([plan_batch, plan_batch_mc]),
    st.sampled_from([2, 8]),  # with 2 walkers, low-health groups often die out early
)
def test_a_plan_does_not_depend_on_its_batch(
    problems: list[tuple[int, EncounterRoot]],
    shuffler: random.Random,
    planner: Callable[..., Any],
    walkers: int,
) -> None:
    horizon = 8
    encounters = np.array([e for e, _ in problems])
    keys = plan_keys(11, encounters, encounters * 3 + 1)

    def plan(order: list[int]) -> list[Any]:
        sim = EncounterSimulator(LEVEL, [problems[i][1] for i in order], walkers)
        rng = RowStreams.for_groups(keys[order], walkers)
        return planner(sim, len(order), walkers, horizon, rng=rng)

    together = plan(list(range(len(problems))))
    alone = [plan([i])[0] for i in range(len(problems))]
    assert together == alone
    order = list(range(len(problems)))
    shuffler.shuffle(order)
    subset = order[: max(1, len(order) - 1)]
    assert plan(subset) == [together[i] for i in subset]


def test_planners_need_one_stream_per_walker_row() -> None:
    sim = EncounterSimulator(LEVEL, [EncounterRoot("rocket", 0, 100, 3, 100, 0)], 8)
    keys = plan_keys(0, [0], [0])
    for planner in (plan_batch, plan_batch_mc):
        with pytest.raises(ValueError, match="row streams"):
            planner(sim, 1, 8, 4, rng=RowStreams.for_groups(keys, 4))
        with pytest.raises(ValueError, match="row streams"):  # the budget shrinks the swarm to 4
            planner(sim, 1, 8, 4, max_samples=4, rng=RowStreams.for_groups(keys, 8))
