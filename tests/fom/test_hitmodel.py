"""The shared shot model: monotone, bounded, vectorised."""

from __future__ import annotations

import numpy as np
import pytest

from fom.hitmodel import AIM_WIDTH, WEAPONS, enemy_hit_probability, hit_probability


def test_weapons_have_their_own_hidden_drift_and_range() -> None:
    assert {"shotgun", "rocket", "railgun"} <= set(WEAPONS)
    drifts = [w.drift for w in WEAPONS.values()]
    assert len(set(drifts)) == len(drifts) and any(d < 0 for d in drifts)
    assert len({w.range for w in WEAPONS.values()}) == len(WEAPONS)
    for name, w in WEAPONS.items():
        assert w.name == name and w.noise > 0 and w.damage > 0 and 0 < w.enemy_accuracy <= 1


def test_hit_probability_falls_with_aim_error_and_distance() -> None:
    err = np.linspace(0.0, 1.0, 21)
    p = hit_probability(err, 5.0, 20.0, AIM_WIDTH)
    assert (np.diff(p) < 0).all()
    assert np.allclose(p, hit_probability(-err, 5.0, 20.0, AIM_WIDTH))  # symmetric
    d = np.linspace(0.0, 80.0, 17)
    q = hit_probability(0.0, d, 20.0, AIM_WIDTH)
    assert (np.diff(q) < 0).all()
    assert q[0] == pytest.approx(1.0)
    assert hit_probability(0.0, 40.0, 20.0) < 0.1 < hit_probability(0.0, 10.0, 20.0)
    assert hit_probability(AIM_WIDTH, 0.0, 20.0) == pytest.approx(np.exp(-0.5))


def test_hit_probability_broadcasts_and_stays_in_unit_interval() -> None:
    rng = np.random.default_rng(1)
    err = rng.normal(0, 1, size=(50, 1))
    dist = rng.uniform(0, 100, size=(1, 7))
    p = hit_probability(err, dist, np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0]), 0.25)
    assert p.shape == (50, 7)
    assert ((p >= 0) & (p <= 1)).all()


def test_enemy_hits_grow_with_exposure() -> None:
    e = np.linspace(0, 1, 11)
    p = enemy_hit_probability(e, 0.6)
    assert (np.diff(p) > 0).all()
    assert p[-1] == pytest.approx(0.6)
    assert 0 < p[0] < 0.1  # full cover still leaks a little
    assert enemy_hit_probability(np.array([0.5, 0.5]), np.array([0.2, 0.8])).shape == (2,)
