"""The FractalAI recipe on Atari (fom.fmc.horizon, worker processes) with ale-py's real ROMs."""

from __future__ import annotations

import os

import numpy as np
import pytest
from processes import left

pytest.importorskip("ale_py")

from fom.engines.atari import AtariSimulator, walker_outcomes
from fom.errors import EngineError
from fom.fmc import Decision, HorizonPlanner, plan_to_horizon


def _play(
    processes: int, steps: int, seed: int = 3, obs: str = "ram"
) -> tuple[list[int], list[int], float]:
    """Actions, samples and score of ``steps`` Boxing decisions planned with ``processes``."""
    real = AtariSimulator("boxing", seed=0)
    with AtariSimulator(
        "boxing", seed=0, loss_is_death=True, processes=processes, obs=obs  # type: ignore[arg-type]
    ) as sim:  # fmt: skip
        planner = HorizonPlanner(sim, walkers=6, horizon=4, max_samples=30)
        actions, samples = [], []
        for i in range(steps):
            sim.import_root(real.export_root())
            decision = planner.decide(np.random.SeedSequence(seed, spawn_key=(i,)))
            real.act(decision.action)
            actions.append(decision.action)
            samples.append(decision.samples)
    return actions, samples, real.score


def test_one_and_two_processes_give_the_same_actions_for_a_seed() -> None:
    one = _play(1, 25)
    assert one == _play(2, 25)
    assert one != _play(1, 25, seed=4)  # the seed matters, so the equality above says something


def test_pixel_distances_are_the_same_in_two_processes() -> None:
    assert _play(1, 8, obs="pixels") == _play(2, 8, obs="pixels")


def test_budget_stays_within_its_cap_and_walkers_reach_the_horizon() -> None:
    sim = AtariSimulator("boxing", seed=0, loss_is_death=True)
    rng = np.random.default_rng(0)
    for _ in range(30):  # into the fight
        sim.act(int(rng.integers(sim.n_actions)))
    walkers, horizon = 6, 5
    ample, tight = 20 * walkers * horizon, 2 * walkers
    spent = []
    for i in range(8):
        d = plan_to_horizon(sim, walkers, horizon, ample, rng=i)
        assert d.depth >= horizon  # stopped because the walkers reached the horizon ...
        assert d.samples < ample  # ... long before the cap
        spent.append(d.samples)
        capped = plan_to_horizon(sim, walkers, horizon, tight, rng=i)
        assert capped.samples <= tight and capped.depth < horizon
    assert len(set(spent)) > 1  # samples per step adapt to what the swarm meets


def test_walkers_adapt_between_decisions_within_bounds() -> None:
    sim = AtariSimulator("pong", seed=0)
    planner = HorizonPlanner(sim, walkers=8, horizon=12, max_samples=24)  # cap short of horizon
    seen = []
    for i in range(4):
        d = planner.decide(i)
        assert d.samples <= 24 and d.walkers == (8 if i == 0 else seen[-1])
        seen.append(planner.walkers)
    assert min(seen) >= 2 and seen[-1] < 8  # fewer, deeper walkers after hitting the cap


def test_min_walkers_is_the_floor_the_swarm_shrinks_to() -> None:
    sim = AtariSimulator("pong", seed=0, loss_is_death=True)
    short = Decision(0, samples=100, walkers=8, steps=40, depth=3.0, mean_reward=0.0,
                     best_reward=0.0, clone_rate=0.5, alive_fraction=0.5)  # fmt: skip
    reference = HorizonPlanner(sim, walkers=8, horizon=12, max_samples=100)
    reference._adapt(short)  # the cap spent at depth 3 of 12
    assert reference.walkers == 2  # ceil(8 * 3 / 12)
    floored = HorizonPlanner(sim, walkers=8, horizon=12, max_samples=100, min_walkers=5)
    floored._adapt(short)
    assert floored.walkers == 5
    for bad in (1, 9):
        with pytest.raises(ValueError, match="min_walkers"):
            HorizonPlanner(sim, walkers=8, horizon=12, max_samples=100, min_walkers=bad)


def test_loss_is_death_kills_the_walker_that_was_punched() -> None:
    plain = AtariSimulator("boxing", seed=0)
    strict = AtariSimulator("boxing", seed=0, loss_is_death=True)
    rng = np.random.default_rng(1)
    batch_a, batch_b = plain.roots(16), strict.roots(16)
    for _ in range(150):
        actions = plain.sample_actions(16, rng)
        batch_a, reward_a, dead_a = plain.step(batch_a, actions, rng)
        batch_b, reward_b, dead_b = strict.step(batch_b, actions, rng)
        assert np.array_equal(reward_a, reward_b)
        assert np.array_equal(dead_b, dead_a | (reward_a < 0))
        if (reward_a < 0).any():
            break
    else:
        pytest.fail("no walker was punched in 150 random steps")


def test_worker_processes_stop_on_close_and_on_an_exception() -> None:
    sim = AtariSimulator("pong", seed=0, processes=3)
    pids = sim.worker_pids
    assert sim.processes == 3 and len(pids) == 2
    with pytest.raises(RuntimeError, match="boom"), sim:
        plan_to_horizon(sim, 6, 3, 60, rng=0)
        raise RuntimeError("boom")
    assert not left(pids)
    sim.close()  # idempotent


def test_a_dead_worker_is_a_clear_error_not_a_hang() -> None:
    with AtariSimulator("pong", seed=0, processes=2) as sim:
        (pid,) = sim.worker_pids
        assert pid is not None
        os.kill(pid, 9)
        with pytest.raises(EngineError, match="worker 1"):
            for i in range(3):  # the first step after the kill may still be queued
                plan_to_horizon(sim, 6, 3, 60, rng=i)


def test_scoring_the_last_point_is_a_win_not_a_death() -> None:
    rewards = np.array([1.0, -1.0, 0.0, 1.0, 0.0])
    over = np.array([True, True, True, False, True])
    lives = np.zeros(5, dtype=np.int64)
    won_before = np.array([False, False, False, False, True])
    got, dead, won = walker_outcomes(rewards, over, lives, lives, won_before, can_win=True)
    assert won.tolist() == [True, False, False, False, True]
    assert dead.tolist() == [False, True, True, False, False]
    assert got.tolist() == [1.0, -1.0, 0.0, 1.0, 0.0]  # a walker that has won earns no more
    got, dead, won = walker_outcomes(rewards + won_before, over, lives, lives, won_before,
                                     can_win=True)  # fmt: skip
    assert got[4] == 0.0 and not dead[4]
    _, dead, won = walker_outcomes(rewards, over, lives, lives, won_before & False, can_win=False)
    assert not won.any() and dead.tolist() == [True, True, True, False, True]
