"""The encounter simulator FMC plans over: the engine's rules, vectorised."""

from __future__ import annotations

import numpy as np

from fom.fmc import FractalMonteCarlo, plan_batch
from fom.level import default_level
from fom.planning import EncounterRoot, EncounterSimulator, decode_action


def _sim(*roots: EncounterRoot, walkers: int = 4, **model: object) -> EncounterSimulator:
    return EncounterSimulator(default_level(), list(roots), walkers, **model)  # type: ignore[arg-type]


def test_roots_lay_groups_out_in_blocks() -> None:
    sim = _sim(
        EncounterRoot("shotgun", 0, 100, 8, 100, 0.0), EncounterRoot("rocket", 4, 50, 2, 80, 1.0)
    )
    batch = sim.roots(8)
    assert batch.shape[0] == 8
    assert (batch[:4, 0] == 0).all() and (batch[4:, 0] == 4).all()


def test_actions_move_along_edges_and_bump_into_the_enemy() -> None:
    level = default_level()
    sim = _sim(EncounterRoot("shotgun", 0, 100, 1, 100, 0.0), walkers=1)
    rng = np.random.default_rng(0)
    assert sim.n_actions == level.neighbors.shape[1]  # moves only: every one fires
    for k in range(level.neighbors.shape[1]):
        target, fire = decode_action(level, 0, k)
        assert fire and decode_action(level, 0, 2 * k, hold=True) == (target, False)
        out, _, _ = sim.step(sim.roots(1), np.array([k]), rng)
        expected = 0 if target == 1 else target  # node 1 holds the enemy: bump, stay
        assert int(out[0, 0]) == expected
        assert target == 0 or level.adjacency[0, target]


def test_holding_fire_never_deals_damage_and_death_is_reported() -> None:
    sim = _sim(EncounterRoot("rocket", 4, 1, 0, 100, 0.0), walkers=200, hold=True)
    batch = sim.roots(200)
    out, reward, dead = sim.step(batch, np.zeros(200, dtype=np.int64), np.random.default_rng(1))
    assert (out[:, 2] == 100).all()  # action 0 = stay and hold
    assert dead.any() and (dead == (out[:, 1] <= 0)).all()
    assert (reward[dead] < 0).all()


def test_reward_prices_exposure_through_return_fire_not_flank_bias() -> None:
    level = default_level()
    exposed, covered, enemy = 4, 6, 3  # the open centre, a covered corner, both 10 m from 3
    assert level.exposure[exposed] > 0.9 and level.exposure[covered] < 0.2
    assert level.distance[exposed, enemy] == level.distance[covered, enemy]

    def reward(node: int, bias: float) -> float:
        sim = _sim(EncounterRoot("railgun", node, 100, enemy, 100, bias), walkers=1)
        _, r, _ = sim.step(sim.roots(1), np.array([0]), np.random.default_rng(5))  # stay
        return float(r[0])

    assert reward(exposed, 0.0) == reward(exposed, 2.0)  # flank_bias is the graph planner's
    # Same shot odds, more return fire when exposed.
    assert reward(exposed, 0.0) < reward(covered, 0.0)


def test_fmc_prefers_firing_to_holding() -> None:
    sim = _sim(EncounterRoot("railgun", 4, 100, 5, 100, 0.0), walkers=64, hold=True)
    fires = 0
    for seed in range(10):
        d = FractalMonteCarlo(sim, walkers=64, horizon=4, seed=seed).decide()
        fires += decode_action(default_level(), 4, int(d.action), hold=True)[1]
    assert fires >= 8


def test_batched_plans_match_one_group_at_a_time_in_shape() -> None:
    roots = [EncounterRoot("shotgun", n, 100, (n + 3) % 9, 100, 0.5) for n in range(5)]
    decisions = plan_batch(_sim(*roots, walkers=16), 5, 16, 4, rng=3)
    assert len(decisions) == 5
    assert all(d.samples == 16 * 4 for d in decisions)
