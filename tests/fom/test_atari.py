"""Tests of the Atari engine (fom.engines.atari) with the ROMs that ship with ale-py."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ale_py")

from fom.engines.atari import AtariSimulator, resolve_game
from fom.errors import FomError, UnknownGame
from fom.fmc import FractalMonteCarlo


@pytest.fixture(scope="module")
def pong() -> AtariSimulator:
    return AtariSimulator("Pong", seed=0)


@pytest.mark.parametrize(
    ("name", "rom"),
    [
        ("Pong", "pong"),
        ("pong", "pong"),
        ("space_invaders", "space_invaders"),
        ("SpaceInvaders", "space_invaders"),
        ("MsPacman", "ms_pacman"),
        ("ALE/Breakout-v5", "breakout"),
    ],
)
def test_resolve_game(name: str, rom: str) -> None:
    assert resolve_game(name) == rom


def test_unknown_game_lists_close_matches() -> None:
    with pytest.raises(UnknownGame, match="space_invaders") as caught:
        resolve_game("SpaceInvader")
    assert isinstance(caught.value, FomError) and isinstance(caught.value, LookupError)
    with pytest.raises(UnknownGame, match="pong"):
        AtariSimulator("Pongg")


def _fmc_actions(seed: int, steps: int = 30) -> tuple[list[int], float]:
    sim = AtariSimulator("pong", seed=0)
    planner = FractalMonteCarlo(sim, walkers=8, horizon=5, seed=seed)
    actions = []
    for _ in range(steps):
        action = planner.decide().action
        actions.append(action)
        sim.act(action)
    return actions, sim.score


def test_fmc_on_pong_is_deterministic_for_a_seed() -> None:
    first = _fmc_actions(seed=7)
    assert first == _fmc_actions(seed=7)
    assert all(0 <= a < 6 for a in first[0])


def test_restore_and_replay_reproduce_ram_and_screen(pong: AtariSimulator) -> None:
    pong.reset(0)
    for action in (1, 2, 2, 3):
        pong.act(action)
    ale = pong.ale
    state = ale.cloneState(include_rng=True)
    minimal = ale.getMinimalActionSet()
    plan = [2, 3, 0, 4, 5, 1, 2, 2, 3, 0]

    def replay() -> tuple[list[np.ndarray], list[np.ndarray]]:
        ale.restoreState(state)
        rams, screens = [], []
        for action in plan:
            ale.act(minimal[action])
            rams.append(ale.getRAM().copy())
            screens.append(ale.getScreenRGB().copy())
        return rams, screens

    first, second = replay(), replay()
    for a, b in zip(first[0] + first[1], second[0] + second[1], strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("obs", ["ram", "pixels"])
def test_stepping_a_batch_is_reproducible(obs: str) -> None:
    sim = AtariSimulator("pong", obs=obs, seed=0)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    actions = [sim.sample_actions(4, rng) for _ in range(6)]
    runs = []
    for _ in range(2):
        batch = sim.roots(4)
        trace = []
        for step_actions in actions:
            batch, reward, dead = sim.step(batch, step_actions, rng)
            trace.append((sim.observe(batch), reward, dead))
        runs.append(trace)
    assert sim.observe(batch).shape == (4, sim.obs_size)
    for (o1, r1, d1), (o2, r2, d2) in zip(*runs, strict=True):
        assert np.array_equal(o1, o2) and np.array_equal(r1, r2) and np.array_equal(d1, d2)
    assert not np.array_equal(runs[0][-1][0][0], sim.observation.astype(float))  # it moved


def test_lost_life_is_death() -> None:
    sim = AtariSimulator("breakout", seed=0)
    assert sim.lives == 5
    batch = sim.roots(2)
    rng = np.random.default_rng(0)
    batch, _, dead = sim.step(batch, np.array([1, 1]), rng)  # FIRE launches the ball
    for _ in range(200):
        if dead.any():
            break
        batch, _, dead = sim.step(batch, np.array([0, 0]), rng)  # the paddle never moves
    assert dead.all()
    assert np.all(batch.lives == 4)
    assert sim.lives == 5  # planning never touches the real game


def test_real_game_is_unaffected_by_planning(pong: AtariSimulator) -> None:
    pong.reset(0)
    pong.act(1)
    before = pong.observation
    FractalMonteCarlo(pong, walkers=4, horizon=3, seed=0).decide()
    assert np.array_equal(pong.observation, before)
    reward, over = pong.act(0)
    assert reward == 0.0 and not over and pong.frame == 2 * pong.frameskip
