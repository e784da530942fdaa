"""The encounter simulator FMC plans over: the engine's rules, vectorised."""

from __future__ import annotations

import numpy as np

from fom.fmc import FractalMonteCarlo, plan_batch
from fom.level import default_level
from fom.planning import EncounterRoot, EncounterSimulator, decode_action


def _sim(*roots: EncounterRoot, walkers: int = 4) -> EncounterSimulator:
    return EncounterSimulator(default_level(), list(roots), walkers)


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
    for k in range(level.neighbors.shape[1]):
        target, _ = decode_action(level, 0, 2 * k)
        out, _, _ = sim.step(sim.roots(1), np.array([2 * k]), rng)
        expected = 0 if target == 1 else target  # node 1 holds the enemy: bump, stay
        assert int(out[0, 0]) == expected
        assert target == 0 or level.adjacency[0, target]


def test_holding_fire_never_deals_damage_and_death_is_reported() -> None:
    sim = _sim(EncounterRoot("rocket", 4, 1, 0, 100, 0.0), walkers=200)
    batch = sim.roots(200)
    out, reward, dead = sim.step(batch, np.zeros(200, dtype=np.int64), np.random.default_rng(1))
    assert (out[:, 2] == 100).all()  # action 0 = stay and hold
    assert dead.any() and (dead == (out[:, 1] <= 0)).all()
    assert (reward[dead] < 0).all()


def test_flank_bias_penalises_exposure() -> None:
    level = default_level()
    exposed = int(np.argmax(level.exposure))
    calm = _sim(EncounterRoot("railgun", exposed, 100, 0, 100, 0.0), walkers=1)
    wary = _sim(EncounterRoot("railgun", exposed, 100, 0, 100, 2.0), walkers=1)
    action = np.array([0])
    _, r_calm, _ = calm.step(calm.roots(1), action, np.random.default_rng(5))
    _, r_wary, _ = wary.step(wary.roots(1), action, np.random.default_rng(5))
    assert r_wary[0] == r_calm[0] - 2.0 * level.exposure[exposed]


def test_fmc_prefers_firing_to_holding() -> None:
    sim = _sim(EncounterRoot("railgun", 4, 100, 5, 100, 0.0), walkers=64)
    fires = 0
    for seed in range(10):
        d = FractalMonteCarlo(sim, walkers=64, horizon=4, seed=seed).decide()
        fires += decode_action(default_level(), 4, int(d.action))[1]
    assert fires >= 8


def test_batched_plans_match_one_group_at_a_time_in_shape() -> None:
    roots = [EncounterRoot("shotgun", n, 100, (n + 3) % 9, 100, 0.5) for n in range(5)]
    decisions = plan_batch(_sim(*roots, walkers=16), 5, 16, 4, rng=3)
    assert len(decisions) == 5
    assert all(d.samples == 16 * 4 for d in decisions)
