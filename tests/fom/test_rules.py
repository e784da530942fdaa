"""The rules written once: the planner's model and the engine play a tick identically."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fom import rules
from fom.engines.dummy import SimulatedGame
from fom.hitmodel import (
    ENEMY_HEALTH,
    SELF_HEALTH,
    WEAPONS,
    hit_probability,
    mean_hit_probability,
)
from fom.level import CanonicalLevel, default_level
from fom.planning import PLANNER_AIM_NOISE, EncounterRoot, EncounterSimulator, decode_action
from fom.streams import RowStreams

CHASE = -1
"""An action code for the tests: step to the neighbour nearest the enemy (onto it: a bump)."""


def _chase(level: CanonicalLevel, node: int, enemy: int) -> int:
    """The firing action whose target is the neighbour (or node) nearest the enemy's node."""
    moves = range(level.neighbors.shape[1])
    targets = [decode_action(level, node, 2 * k, hold=True)[0] for k in moves]
    return 2 * int(np.argmin([level.distance[t, enemy] for t in targets])) + 1


def play_both(seed: int, weapon: str, actions: list[int]) -> int:
    """Play ``actions`` in the engine and in EncounterSimulator.step from the same state, fed
    the same uniforms; assert every tick agrees. Returns the number of ticks played.

    The model runs with holding fire among its actions (the engine's full action set) and with
    the drawn outcome as its reward, so each tick's reward is the engine's own outcome."""
    level = default_level()
    # The planner assumes a zero-mean aim error of spread PLANNER_AIM_NOISE: give the engine's
    # weapon exactly that (no drift), so with the same draws both aim errors are the same.
    spec = dataclasses.replace(WEAPONS[weapon], drift=0.0, noise=PLANNER_AIM_NOISE)
    game = SimulatedGame(
        seed, weapons=(spec,), spawn_every=0, concurrency=1, timeout=1000, teleport_prob=0.0
    )
    (enemy,) = game.observe().opponents
    root = EncounterRoot(weapon, game.projection(0).node, SELF_HEALTH, enemy.node, ENEMY_HEALTH, 0)
    sim = EncounterSimulator(
        level, [root], 1, belief=False, hold=True, mean_reward=False, tick_cost=0.0
    )
    batch = sim.roots(1)
    for tick, code in enumerate(actions):
        node = int(batch[0, 0])
        action = _chase(level, node, enemy.node) if code == CHASE else code
        target, fire = decode_action(level, node, action, hold=True)
        key, counter = game.stream_position(0)
        game.move(0, target)
        game.look_at(0, 0.0)
        shot = game.shoot(0) if fire else None
        (report,) = game.advance()
        assert shot is None or shot.fired
        # The planner draws a whole tick (shot first, then return fire) every step; line its
        # draws up with the engine's, which skips the shot's when it holds fire.
        start = counter if fire else counter - rules.SHOT_DRAWS
        batch, reward, dead = sim.step(batch, np.array([action]), RowStreams([key], start))
        dealt = shot.damage if shot is not None else 0.0
        assert (int(batch[0, 0]), batch[0, 1], batch[0, 2]) == (
            report.self_node,
            report.self_health,
            report.enemy_health,
        ), f"tick {tick}"
        assert reward[0] == dealt / ENEMY_HEALTH - report.damage_taken / SELF_HEALTH
        assert bool(dead[0]) == (report.reason == "died")
        if report.done:
            return tick + 1
    return len(actions)


weapons = st.sampled_from(sorted(WEAPONS))
codes = st.integers(CHASE, 2 * default_level().neighbors.shape[1] - 1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), weapons, st.lists(codes, min_size=1, max_size=40))
def test_planner_model_and_engine_agree_tick_by_tick(
    seed: int, weapon: str, actions: list[int]
) -> None:
    play_both(seed, weapon, actions)


@pytest.mark.parametrize("seed", range(12))
def test_chasing_into_the_enemy_bumps_in_both(seed: int) -> None:
    # Walking at the enemy ends on its node's doorstep: every later step is a bump.
    assert play_both(seed, ("shotgun", "rocket", "railgun")[seed % 3], [CHASE] * 40) > 1


def test_move_rules() -> None:
    level = default_level()
    node = 0
    nbr = int(level.neighbors[node, 0])
    far = int(np.flatnonzero(~level.adjacency[node])[-1])
    assert far != node
    legal = rules.legal_moves(level.adjacency, np.full(3, node), np.array([node, nbr, far]))
    assert legal.tolist() == [True, True, False]
    assert rules.bump(np.array([0, 0]), np.array([nbr, nbr]), np.array([nbr, 5])).tolist() == [
        0,
        nbr,
    ]
    assert rules.bump(0, nbr, nbr) == 0 and rules.bump(0, nbr, 5) == nbr  # an engine's one move


def test_shot_and_return_fire_rules() -> None:
    u = np.array([[0.3, 0.3, 0.3], [0.0, 0.0, 0.0], [0.99, 0.0, 0.0]])  # z > 0; hit draws
    hit, error, dealt, health = rules.shoot(
        u, np.array([True, True, False]), 0.1, 0.2, 0.0, 5.0, 40.0, 30.0, np.array([100.0, 20, 100])
    )
    assert np.allclose(error, 0.1)  # drift + noise * z - aim_offset, noise 0
    assert hit.tolist() == [False, True, False]  # a high draw misses; holding fire never hits
    assert dealt.tolist() == [0.0, 30.0, 0.0] and health.tolist() == [100.0, 0.0, 100.0]
    one = rules.shoot([0.3, 0.0, 0.0], True, 0.1, 0.2, 0.0, 5.0, 40.0, 30.0, 20.0)  # scalars
    assert [float(x) for x in one] == [1.0, float(error[1]), 30.0, 0.0]
    taken = rules.return_fire(np.array([0.0, 0.0, 0.99]), np.array([0.0, 5, 5]), 1.0, 0.5, 20.0)
    assert taken.tolist() == [0.0, 20.0, 0.0]  # a dead enemy does not fire back


@pytest.mark.parametrize("weapon", sorted(WEAPONS))
def test_mean_reward_is_the_mean_of_the_engines_outcomes(weapon: str) -> None:
    # FMC's reward is the mean over a tick's draws of what the engine's rules do to the fight:
    # over many draws, from states where the enemy may die this tick or not, the health the
    # walkers' own (drawn) steps remove from the enemy minus the health they lose averages to
    # the model's reward (tick cost 0), with the draws moving the walkers (belief=False).
    level = default_level()
    rng = np.random.default_rng(7)
    n = 40_000
    for node, enemy, enemy_hp in ((4, 3, 100.0), (6, 3, 30.0), (0, 8, 35.0), (2, 5, 5.0)):
        root = EncounterRoot(weapon, node, SELF_HEALTH, enemy, enemy_hp, 0.0)
        sim = EncounterSimulator(level, [root], n, belief=False, tick_cost=0)
        before = sim.roots(n)
        after, reward, _ = sim.step(before, np.zeros(n, dtype=np.int64), rng)  # stay
        assert np.ptp(reward) == 0.0  # a function of the state, not of the draws
        outcome = (before[:, 2] - after[:, 2]) / ENEMY_HEALTH - (before[:, 1] - after[:, 1]) / (
            SELF_HEALTH
        )
        se = outcome.std() / np.sqrt(n)
        assert abs(outcome.mean() - reward[0]) < 4 * se + 1e-12, (node, enemy, enemy_hp)



@pytest.mark.parametrize("weapon", sorted(WEAPONS))
def test_a_belief_path_earns_the_mean_of_the_drawn_paths(weapon: str) -> None:
    # A belief walker (the default) carries the chances of each count of hits landed and draws
    # nothing: over a path of moves, its return (tick cost included) and its mean healths must
    # be the mean of what walkers moved by the engine's draws earn on the same path, kills and
    # the end of return fire after a lethal hit included. Few enough ticks that the bot cannot
    # die (the belief has no self death). The drawn return is read off the drawn healths.
    level = default_level()
    n = 40_000
    moves = np.array([0, 1, 2])
    for node, enemy, enemy_hp in ((4, 3, 100.0), (6, 3, 30.0), (0, 8, 65.0)):
        root = EncounterRoot(weapon, node, SELF_HEALTH, enemy, enemy_hp, 0.0)
        belief = EncounterSimulator(level, [root], 1, tick_cost=0.5, horizon=len(moves))
        drawn = EncounterSimulator(level, [root], n, belief=False)
        rng = np.random.default_rng(11)
        b, d = belief.roots(1), drawn.roots(n)
        b_ret, d_ret = 0.0, np.zeros(n)
        for move in moves:
            b, r, _ = belief.step(b, np.array([move]), rng)
            b_ret += float(r[0])
            after, _, _ = drawn.step(d, np.full(n, move), rng)
            d_ret += (d[:, 2] - after[:, 2]) / ENEMY_HEALTH - (d[:, 1] - after[:, 1]) / SELF_HEALTH
            d_ret -= 0.5 * (d[:, 2] > 0)  # the tick cost while the enemy is up
            d = after
        assert (d[:, 1] > 0).all()  # nobody died: the comparison is exact in expectation
        for got, samples in ((b_ret, d_ret), (b[0, 1], d[:, 1]), (b[0, 2], d[:, 2])):
            se = samples.std() / np.sqrt(n)
            assert abs(samples.mean() - got) < 4 * se + 1e-9, (node, enemy, enemy_hp)
        assert b[0, 11:].sum() == pytest.approx(1.0)  # the chances stay a distribution


def test_a_belief_step_draws_nothing() -> None:
    level = default_level()
    sim = EncounterSimulator(level, [EncounterRoot("rocket", 4, 100, 3, 100, 0.0)], 8)
    actions = np.arange(8) % level.neighbors.shape[1]
    a = sim.step(sim.roots(8), actions, np.random.default_rng(1))
    b = sim.step(sim.roots(8), actions, np.random.default_rng(2))
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_mean_hit_probability_averages_the_gaussian_aim_error() -> None:
    rng = np.random.default_rng(3)
    for mean, spread, distance in ((0.0, 0.15, 10.0), (0.2, 0.1, 20.0), (-0.3, 0.05, 5.0)):
        errors = mean + spread * rng.standard_normal(200_000)
        sampled = hit_probability(errors, distance, 25.0).mean()
        assert mean_hit_probability(mean, spread, distance, 25.0) == pytest.approx(
            sampled, abs=2e-3
        )


def test_expected_tick_caps_a_kill_and_stops_return_fire() -> None:
    removed, taken = rules.expected_tick(
        True, 0.0, 0.0, np.array([0.0, 0.0]), 40.0, 30.0, np.array([10.0, 0.0]), 1.0, 0.5, 20.0
    )
    p = mean_hit_probability(0.0, 0.0, 0.0, 40.0)
    assert removed.tolist() == [p * 10.0, 0.0]  # at most what is left; nothing from the dead
    assert taken.tolist() == [(1 - p) * 0.5 * 20.0, 0.0]  # return fire only if it survives
