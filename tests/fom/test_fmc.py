"""Tests of the FMC planner (fom.fmc) on the vectorised test worlds (fom.testing_worlds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fom.fmc import (
    Decision,
    FractalMonteCarlo,
    MonteCarlo,
    clone_targets,
    plan_batch,
    plan_batch_mc,
    relativize,
)
from fom.testing_worlds import Corridor, PointMass, TrapGrid, play_episodes

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------------------------- relativize


@given(st.floats(-1e9, 1e9, allow_nan=False), st.integers(1, 40))
def test_relativize_constant_is_ones(value: float, n: int) -> None:
    assert np.array_equal(relativize(np.full(n, value)), np.ones(n))


@given(arrays(np.float64, st.integers(1, 40), elements=finite))
def test_relativize_is_positive_and_monotone(x: np.ndarray) -> None:
    scores = relativize(x)
    assert np.all(scores > 0) and np.all(np.isfinite(scores))
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(scores[order]) >= 0)


def test_relativize_formula() -> None:
    z = math.sqrt(1.5)  # x = [0, 1, 2]: mean 1, std sqrt(2/3)
    expected = [math.exp(-z), 1.0, 1.0 + math.log(1.0 + z)]
    assert np.allclose(relativize([0.0, 1.0, 2.0]), expected)
    assert np.allclose(relativize([[0.0, 1.0, 2.0], [5.0, 5.0, 5.0]]), [expected, [1, 1, 1]])


def test_relativize_mask_uses_only_masked_statistics() -> None:
    x = np.array([0.0, 1.0, 2.0, -1000.0])
    masked = relativize(x, np.array([True, True, True, False]))
    assert np.allclose(masked[:3], relativize(x[:3]))
    assert 0 <= masked[3] < masked[0]  # far below the alive mean: exp(z) may underflow


# ------------------------------------------------------------------------ clone mechanics


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(2, 24))
def test_companions_alive_and_dead_always_clone(seed: int, groups: int, walkers: int) -> None:
    rng = np.random.default_rng(seed)
    dead = rng.random((groups, walkers)) < 0.6
    dead[np.arange(groups), rng.integers(walkers, size=groups)] = False  # one alive per group
    reward = rng.normal(size=(groups, walkers))
    reward[dead] = 1e9  # dead walkers with a huge reward still clone
    obs = rng.normal(size=(groups, walkers, 3))
    clone, companion = clone_targets(
        reward, obs, dead, rng.random((2, groups, walkers)), np.full((groups, walkers), 0.999)
    )
    assert not np.take_along_axis(dead, companion, axis=1).any()
    assert clone[dead].all()


def test_no_clone_when_virtual_rewards_are_equal() -> None:
    dead = np.zeros((2, 6), dtype=bool)
    clone, _ = clone_targets(
        np.ones((2, 6)),
        np.zeros((2, 6, 1)),
        dead,
        np.random.default_rng(0).random((2, 2, 6)),
        np.zeros((2, 6)),
    )
    assert not clone.any()


def test_dead_walkers_are_replaced_by_alive_ones() -> None:
    # From x=0 only "+1" (action 2) survives: -2/-1 fall off the cliff, +2 lands in a pit.
    world = Corridor()
    decision = FractalMonteCarlo(world, walkers=32, horizon=1, seed=3).decide()
    assert decision.action == 2
    assert decision.counts[2] == 32
    assert decision.alive_fraction < 1.0 and decision.clone_rate >= 1.0 - decision.alive_fraction


class CountingGenerator(np.random.Generator):
    """A Generator that records the size of every ``random`` call."""

    def __init__(self, seed: int) -> None:
        super().__init__(np.random.PCG64(seed))
        self.random_sizes: list[object] = []

    def random(self, size=None, dtype=np.float64, out=None):  # type: ignore[override]
        self.random_sizes.append(size)
        return super().random(size, dtype, out)


def test_exactly_one_clone_draw_per_walker_per_step() -> None:
    groups, walkers, horizon = 3, 16, 7
    rng = CountingGenerator(0)
    world = TrapGrid(groups=groups)
    decisions = plan_batch(world, groups, walkers, horizon, rng=rng)
    steps = decisions[0].steps
    assert steps == horizon
    # Per step, one call: per walker row, the distance partner's and the companion's draws,
    # then the clone test's; nothing else draws uniforms.
    assert rng.random_sizes == [(3, groups * walkers)] * steps


# ---------------------------------------------------------------------------- decisions


class Frozen:
    """A world where nothing changes: no reward, no death, every walker looks the same."""

    discrete = True

    def __init__(self, pattern: list[int]) -> None:
        self.pattern = np.array(pattern)

    def roots(self, n: int) -> np.ndarray:
        return np.zeros(n)

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.resize(self.pattern, n)

    def step(self, batch, actions, rng):  # type: ignore[no-untyped-def]
        return batch, np.zeros(len(batch)), np.zeros(len(batch), dtype=bool)

    def observe(self, batch: np.ndarray) -> np.ndarray:
        return batch[:, None]

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        return batch[index]


def test_discrete_decision_is_the_true_mode() -> None:
    # Mean 2.2 and median 3 would both differ from the mode, 0.
    pattern = [0, 0, 0, 4, 4, 3, 3, 5, 0, 0, 5, 4, 3, 5]
    decision = FractalMonteCarlo(Frozen(pattern), walkers=14, horizon=3, seed=0).decide()
    assert decision.counts == tuple(np.bincount(pattern))
    assert decision.action == 0 and decision.clone_rate == 0.0


def test_continuous_decision_is_the_mean_root_action() -> None:
    world = PointMass()
    plain = plan_batch(world, 1, 16, 1, reward_scale=0.0, distance_scale=0.0, rng=5)[0]
    first = world.sample_actions(16, np.random.default_rng(5))
    assert plain.action.shape == (1,)
    assert np.allclose(plain.action, first.mean(axis=0))
    assert plain.counts == ()


def test_all_dead_stops_early() -> None:
    decision = FractalMonteCarlo(PointMass(wall=0.0), walkers=8, horizon=10, seed=0).decide()
    assert decision.steps == 1 and decision.samples == 8
    assert decision.alive_fraction == 0.0 and decision.depth == 0.0


@pytest.mark.parametrize("kind", ["int", "seedsequence", "generator"])
def test_same_seed_same_decisions(kind: str) -> None:
    def seed() -> object:
        return {
            "int": 11,
            "seedsequence": np.random.SeedSequence(11),
            "generator": np.random.default_rng(11),
        }[kind]

    runs: list[list[Decision]] = [[], []]
    for run in runs:
        world = TrapGrid()
        planner = FractalMonteCarlo(world, walkers=32, horizon=10, seed=seed())  # type: ignore[arg-type]
        for _ in range(5):
            run.append(planner.decide())
            world.act([run[-1].action])
    assert runs[0] == runs[1]


def test_decide_is_plan_batch_with_one_group() -> None:
    world = Corridor()
    single = FractalMonteCarlo(world, walkers=20, horizon=6, seed=4).decide()
    assert plan_batch(world, 1, 20, 6, rng=4) == [single]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.one_of(st.none(), st.integers(1, 300)))
def test_budget_respected(walkers: int, horizon: int, max_samples: int | None) -> None:
    budget = walkers * horizon if max_samples is None else min(max_samples, walkers * horizon)
    decision = FractalMonteCarlo(
        TrapGrid(), walkers=walkers, horizon=horizon, max_samples=max_samples, seed=0
    ).decide()
    assert 0 < decision.samples <= budget
    assert decision.samples == decision.walkers * decision.steps
    mc = MonteCarlo(Corridor(), walkers=walkers, horizon=horizon, seed=0).decide()
    assert 0 < mc.samples <= walkers * horizon


def test_invalid_sizes_raise() -> None:
    with pytest.raises(ValueError):
        FractalMonteCarlo(Corridor(), walkers=0)
    with pytest.raises(ValueError):
        plan_batch(Corridor(), 1, 8, 4, max_samples=0)


def test_balance_trades_walkers_for_depth() -> None:
    planner = FractalMonteCarlo(
        TrapGrid(), walkers=64, horizon=10, max_samples=400, seed=0, balance=True
    )
    decisions = [planner.decide() for _ in range(4)]
    assert decisions[0].depth < 10 and decisions[-1].depth >= 10
    assert decisions[-1].walkers < 64
    assert all(d.samples <= 400 for d in decisions)


# ----------------------------------------------------------------------- batch of groups


class Tagged:
    """A batch world: a 1-D walk whose per-row (scale, doomed) tag sets reward and death."""

    discrete = True

    def __init__(self, tags: list[tuple[float, bool]]) -> None:
        self.tags = np.array(tags, dtype=np.float64)

    def roots(self, n: int) -> np.ndarray:
        groups = len(self.tags)
        rows = np.repeat(self.tags, n // groups, axis=0)
        return np.column_stack([np.zeros(n), rows])  # x, scale, doomed

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(3, size=n)

    def step(self, batch, actions, rng):  # type: ignore[no-untyped-def]
        moved = batch.copy()
        moved[:, 0] += actions - 1
        return moved, moved[:, 1] * moved[:, 0], moved[:, 2] > 0

    def observe(self, batch: np.ndarray) -> np.ndarray:
        return batch[:, :1]

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        return batch[index]


def test_batch_groups_are_independent() -> None:
    base = plan_batch(Tagged([(1.0, False), (1.0, False), (1.0, False)]), 3, 24, 8, rng=9)
    other = plan_batch(Tagged([(1.0, False), (-5.0, False), (0.0, True)]), 3, 24, 8, rng=9)
    assert other[0] == base[0]
    assert other[1] != base[1]
    assert other[2].steps == 1 and other[2].alive_fraction == 0.0
    assert base[0].action == 2 and other[1].action == 0  # rightwards pays, unless scaled by -5


def test_plan_batch_matches_independent_worlds() -> None:
    world = TrapGrid(groups=4)
    decisions = plan_batch(world, 4, 16, 5, rng=1)
    assert len(decisions) == 4 and all(isinstance(d, Decision) for d in decisions)
    assert len({d.counts for d in decisions}) > 1  # different draws per group


def test_plan_batch_mc_groups_are_independent() -> None:
    base = plan_batch_mc(Tagged([(1.0, False), (1.0, False), (1.0, False)]), 3, 24, 8, rng=9)
    other = plan_batch_mc(Tagged([(1.0, False), (-5.0, False), (0.0, True)]), 3, 24, 8, rng=9)
    assert other[0] == base[0]
    assert other[2].steps == 1 and other[2].samples == 24 and other[2].alive_fraction == 0.0
    assert other[1] != base[1] and other[1].best_reward > 0  # -5 * x pays going left
    assert all(d.clone_rate == 0.0 and d.samples == 24 * 8 for d in base)


def test_monte_carlo_is_plan_batch_mc_with_one_group() -> None:
    single = MonteCarlo(TrapGrid(), walkers=16, horizon=6, seed=5).decide()
    assert single == plan_batch_mc(TrapGrid(), 1, 16, 6, rng=5)[0]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 30), st.integers(1, 10), st.one_of(st.none(), st.integers(1, 200)))
def test_plan_batch_mc_budget(walkers: int, horizon: int, max_samples: int | None) -> None:
    budget = walkers * horizon if max_samples is None else min(max_samples, walkers * horizon)
    for d in plan_batch_mc(TrapGrid(groups=3), 3, walkers, horizon, max_samples, rng=0):
        assert 0 < d.samples <= budget and d.steps >= 1


# ------------------------------------------------------------------- FMC beats MC


def _compare(make_world, walkers: int, horizon: int, steps: int, episodes: int = 20):  # type: ignore[no-untyped-def]
    """Mean returns of FMC and MC over ``episodes`` seeds; the z-score of their difference."""
    world = make_world(episodes)
    gen = np.random.default_rng(1)
    fmc = play_episodes(
        world,
        lambda: [d.action for d in plan_batch(world, episodes, walkers, horizon, rng=gen)],
        steps,
    )
    mc = np.zeros(episodes)
    for seed in range(episodes):
        single = make_world(1)
        planner = MonteCarlo(single, walkers=walkers, horizon=horizon, seed=seed)
        mc[seed] = play_episodes(single, lambda p=planner: [p.decide().action], steps)[0]
    se = math.sqrt(fmc.var(ddof=1) / episodes + mc.var(ddof=1) / episodes)
    return fmc.mean(), mc.mean(), (fmc.mean() - mc.mean()) / max(se, 1e-9)


def test_fmc_beats_monte_carlo_in_the_corridor() -> None:
    fmc, mc, z = _compare(lambda g: Corridor(groups=g), walkers=64, horizon=15, steps=40)
    assert fmc > mc and z > 3, (fmc, mc, z)


def test_fmc_beats_monte_carlo_in_the_trap_grid() -> None:
    fmc, mc, z = _compare(lambda g: TrapGrid(groups=g), walkers=64, horizon=25, steps=40)
    assert fmc > mc and z > 3, (fmc, mc, z)
