"""Atari games through ale-py: an FMC simulator and a playable game in one object.

:class:`AtariSimulator` owns one ALE emulator. The *real* game lives in a saved root state
(``reset``, ``act``, ``score``); FMC walkers are saved states too, stepped one after the
other on the same emulator (restore, act, clone: inherent to ALE, which has one machine).
Because the screen is not part of a saved state, every state travels with its observation
(128 RAM bytes, or a grey screen averaged over ``pixel_block`` x ``pixel_block`` blocks).
Sticky actions are off, states are cloned with the emulator RNG, a frame-skip of
``frameskip`` frames is the reaction time, and losing a life counts as death (optionally a
negative reward too). With ``processes > 1`` the walkers of a step are split between this
process and worker processes, each with its own emulator (:mod:`fom.engines.atari_workers`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from ale_py import Action, ALEInterface, ALEState, LoggerMode, roms

from fom.engines.atari_workers import AtariWorkers, WorkerSettings
from fom.errors import UnknownGame

__all__ = [
    "MAX_EPISODE_FRAMES",
    "AtariBatch",
    "AtariSimulator",
    "available_games",
    "resolve_game",
    "walker_outcomes",
]

MAX_EPISODE_FRAMES = 108_000
"""ALE's usual limit on an episode: 30 minutes of play at 60 frames per second."""

ObsKind = Literal["ram", "pixels"]
RAM_SIZE = 128
SCREEN_SHAPE = (210, 160)


@cache
def available_games() -> tuple[str, ...]:
    """Return the ROM ids that ship with ale-py (snake_case, e.g. ``space_invaders``)."""
    return tuple(sorted(roms.get_all_rom_ids()))


def _normalise(name: str) -> str:
    """Reduce a game name to lowercase letters and digits, without Gym decorations."""
    key = name.strip().lower()
    key = re.sub(r"^ale/", "", key)
    key = re.sub(r"-v\d+$", "", key)
    key = re.sub(r"(noframeskip|deterministic)$", "", key)
    return re.sub(r"[^a-z0-9]", "", key)


def resolve_game(name: str) -> str:
    """Map a user's game name ("Pong", "space_invaders", "SpaceInvaders") to its ROM id.

    Case, separators and Gym decorations ("ALE/Pong-v5") are ignored. Raises
    :class:`fom.errors.UnknownGame`, listing the closest known names, when nothing matches.
    """
    table = {_normalise(game): game for game in available_games()}
    key = _normalise(name)
    if key in table:
        return table[key]
    close = [table[k] for k in difflib.get_close_matches(key, list(table), n=5, cutoff=0.6)]
    hint = (
        f"; did you mean {', '.join(close)}?"
        if close
        else (f"; known games: {', '.join(available_games())}")
    )
    raise UnknownGame(f"unknown Atari game {name!r}{hint}")


def walker_outcomes(
    rewards: np.ndarray,
    over: np.ndarray,
    lives_before: np.ndarray,
    lives: np.ndarray,
    won_before: np.ndarray,
    *,
    can_win: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rewards, dead, won) of one walker step. Death is a lost life or the game's end; in a game
    that can be won (``can_win``, the simulator's ``loss_is_death``) also a negative reward, and
    a step that ends the game by scoring is a win instead: the walker lives on, and a walker that
    has won earns nothing more. (Counting the winning point as death made the swarm refuse the
    last point of Pong at 20-0.)"""
    won = won_before | (can_win & over & (rewards > 0))
    rewards = np.where(won_before, 0.0, rewards)
    dead = (over & ~won) | (lives < lives_before)
    if can_win:
        dead |= rewards < 0
    return rewards, dead, won


@dataclass(frozen=True, slots=True)
class AtariBatch:
    """Walkers of an Atari game: saved emulator states with their observations and lives."""

    states: list[ALEState]
    obs: np.ndarray
    """``(n, d)`` uint8: RAM bytes or a downsampled grey screen, read right after the step."""
    lives: np.ndarray
    """``(n,)`` int64: lives left in each state (a drop means death)."""
    won: np.ndarray
    """``(n,)`` bool: the game ended on a step that scored, with ``loss_is_death`` (a win, not a
    death: the walker stays, its reward frozen)."""

    def __len__(self) -> int:
        """Number of walkers."""
        return len(self.states)


class AtariSimulator:
    """An Atari game as an FMC :class:`~fom.fmc.Simulator` that can also be played.

    ``act(action)`` plays the real game from the root; ``roots``/``step``/``observe``/``take``
    let FMC plan from it. Actions are indices into the game's minimal action set.
    """

    discrete = True

    def __init__(
        self,
        game: str,
        frameskip: int = 5,
        obs: ObsKind = "ram",
        seed: int = 0,
        max_episode_frames: int = MAX_EPISODE_FRAMES,
        pixel_block: int = 4,
        loss_is_death: bool = False,
        processes: int = 1,
    ) -> None:
        """Load the ROM (resolved with :func:`resolve_game`) and reset the game with ``seed``.

        ``loss_is_death``: a walker step with a negative reward is death too (the reference's
        rule for games that can be won, such as Boxing and Pong). ``processes``: step walkers
        in this process and ``processes - 1`` workers, each with its own emulator; call
        :meth:`close` (or use ``with``) to stop them.
        """
        if obs not in ("ram", "pixels"):
            raise ValueError(f"obs must be 'ram' or 'pixels', got {obs!r}")
        if frameskip < 1 or pixel_block < 1 or processes < 1:
            raise ValueError("frameskip, pixel_block and processes must be >= 1")
        self.game = resolve_game(game)
        self.frameskip = frameskip
        self.obs_kind: ObsKind = obs
        self.pixel_block = pixel_block
        ALEInterface.setLoggerMode(LoggerMode.Error)
        self._ale = ALEInterface()
        self._ale.setFloat("repeat_action_probability", 0.0)
        self._ale.setInt("frame_skip", frameskip)
        self._ale.setInt("max_num_frames_per_episode", max_episode_frames)
        self._rom_path = str(roms.get_rom_path(self.game))
        self._seed: int | None = None
        self._actions: list[Action] = []  # the minimal action set, read when the ROM loads
        self._screen = np.empty(SCREEN_SHAPE, dtype=np.uint8)
        self.loss_is_death = loss_is_death
        self._workers: AtariWorkers | None = None
        self.reset(seed)
        if processes > 1:
            settings = WorkerSettings(self.game, frameskip, obs, max_episode_frames, pixel_block)
            self._workers = AtariWorkers(processes - 1, settings)

    # ----------------------------------------------------------------- playing the game

    @property
    def ale(self) -> ALEInterface:
        """The underlying emulator (its current state is whatever was stepped last)."""
        return self._ale

    @property
    def n_actions(self) -> int:
        """Size of the minimal action set."""
        return len(self._actions)

    @property
    def obs_size(self) -> int:
        """Length of one observation vector."""
        if self.obs_kind == "ram":
            return RAM_SIZE
        return (SCREEN_SHAPE[0] // self.pixel_block) * (SCREEN_SHAPE[1] // self.pixel_block)

    @property
    def score(self) -> float:
        """Reward collected by ``act`` since the last ``reset``."""
        return self._score

    @property
    def lives(self) -> int:
        """Lives left in the real game."""
        return self._root_lives

    @property
    def game_over(self) -> bool:
        """Whether the real game has ended (or hit ``max_episode_frames``)."""
        return self._game_over

    @property
    def frame(self) -> int:
        """Frames played in the real game's episode."""
        return self._root_state.getEpisodeFrameNumber()

    @property
    def observation(self) -> np.ndarray:
        """The real game's current observation (a copy)."""
        return self._root_obs.copy()

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode; a new ``seed`` reloads the ROM with that emulator seed."""
        ale = self._ale
        if self._seed is None or (seed is not None and seed != self._seed):
            seed = 0 if seed is None else int(seed)
            ale.setInt("random_seed", seed)
            ale.loadROM(self._rom_path)
            self._actions = list(ale.getMinimalActionSet())
            self._seed = seed
        else:
            ale.reset_game()
        self._capture_root(0.0)

    def act(self, action: int) -> tuple[float, bool]:
        """Play ``action`` (``frameskip`` frames) in the real game; return (reward, game over)."""
        if self._game_over:
            return 0.0, True
        ale = self._ale
        ale.restoreState(self._root_state)
        reward = float(ale.act(self._actions[int(action)]))
        self._capture_root(self._score + reward)
        return reward, self._game_over

    def export_root(self) -> bytes:
        """The real game's current state (emulator RNG included) as bytes, to plan elsewhere."""
        return bytes(self._root_state.serialize())

    def import_root(self, state: bytes, score: float = 0.0) -> None:
        """Make ``state`` (from ``export_root`` of the same game) the root to plan from."""
        self._ale.restoreState(ALEState(state))
        self._capture_root(score)

    def _capture_root(self, score: float) -> None:
        """Save the emulator's current state as the real game's root."""
        ale = self._ale
        self._root_state = ale.cloneState(include_rng=True)
        self._root_obs = np.empty(self.obs_size, dtype=np.uint8)
        self._read_obs(self._root_obs[None])
        self._root_lives = int(ale.lives())
        self._score = score
        self._game_over = bool(ale.game_over())

    # -------------------------------------------------------------------- FMC simulator

    def roots(self, n: int) -> AtariBatch:
        """``n`` copies of the real game's current state."""
        return AtariBatch(
            [self._root_state] * n,
            np.repeat(self._root_obs[None], n, axis=0),
            np.full(n, self._root_lives, dtype=np.int64),
            np.zeros(n, dtype=bool),
        )

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform random action indices."""
        return rng.integers(len(self._actions), size=n)

    def step(
        self, batch: AtariBatch, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[AtariBatch, np.ndarray, np.ndarray]:
        """Restore, act and clone every walker; who died and who won is :func:`walker_outcomes`.
        With worker processes the rows are split into
        contiguous chunks, the first stepped here and one sent to each worker."""
        states, acts = batch.states, actions.tolist()
        workers = self._workers
        if workers is None or len(states) < 2:
            new, rewards, lives, over, obs = self.step_states(states, acts)
        else:
            bounds = np.linspace(0, len(states), len(workers) + 2).astype(int)
            for k in range(len(workers)):
                lo, hi = bounds[k + 1], bounds[k + 2]
                workers.submit(k, [bytes(st.serialize()) for st in states[lo:hi]], acts[lo:hi])
            parts = [self.step_states(states[: bounds[1]], acts[: bounds[1]])]
            for k in range(len(workers)):
                got, *rest = workers.collect(k)
                parts.append(([ALEState(b) for b in got], *rest))
            new = [st for part in parts for st in part[0]]
            rewards, lives, over, obs = (np.concatenate([p[i] for p in parts]) for i in range(1, 5))
        rewards, dead, won = walker_outcomes(
            rewards, over, batch.lives, lives, batch.won, can_win=self.loss_is_death
        )
        return AtariBatch(new, obs, lives, won), rewards, dead

    def step_states(
        self, states: list[ALEState], actions: list[int]
    ) -> tuple[list[ALEState], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Step saved states on this emulator: (new states, rewards, lives, game over, obs)."""
        ale, action_set = self._ale, self._actions
        n = len(states)
        new: list[ALEState] = []
        rewards = np.empty(n)
        lives = np.empty(n, dtype=np.int64)
        game_over = np.empty(n, dtype=bool)
        obs = np.empty((n, self.obs_size), dtype=np.uint8)
        screens = (
            np.empty((n, *SCREEN_SHAPE), dtype=np.uint8) if self.obs_kind == "pixels" else None
        )
        for i, (state, action) in enumerate(zip(states, actions, strict=True)):
            ale.restoreState(state)
            rewards[i] = ale.act(action_set[action])
            lives[i] = ale.lives()
            game_over[i] = ale.game_over()
            new.append(ale.cloneState(include_rng=True))
            if screens is None:
                ale.getRAM(obs[i])
            else:
                ale.getScreenGrayscale(screens[i])
        if screens is not None:
            obs[:] = self._downsample(screens)
        return new, rewards, lives, game_over, obs

    def observe(self, batch: AtariBatch) -> np.ndarray:
        """Observations as ``(n, d)`` float64 (RAM bytes or grey levels)."""
        return batch.obs.astype(np.float64)

    def take(self, batch: AtariBatch, index: np.ndarray) -> AtariBatch:
        """Gather walkers (cloning shares the immutable saved states)."""
        states = batch.states
        return AtariBatch(
            [states[i] for i in index.tolist()],
            batch.obs[index],
            batch.lives[index],
            batch.won[index],
        )

    def put(self, batch: AtariBatch, index: np.ndarray, rows: AtariBatch) -> AtariBatch:
        """``batch`` with its rows ``index`` replaced by ``rows`` (the walkers that stepped)."""
        states = list(batch.states)
        for i, state in zip(index.tolist(), rows.states, strict=True):
            states[i] = state
        obs, lives, won = batch.obs.copy(), batch.lives.copy(), batch.won.copy()
        obs[index], lives[index], won[index] = rows.obs, rows.lives, rows.won
        return AtariBatch(states, obs, lives, won)

    # ----------------------------------------------------------------- worker processes

    @property
    def processes(self) -> int:
        """Processes stepping the walkers: this one and its workers."""
        return 1 if self._workers is None else 1 + len(self._workers)

    @property
    def worker_pids(self) -> list[int | None]:
        """Process ids of the worker processes (empty with one process)."""
        return [] if self._workers is None else self._workers.pids

    def close(self) -> None:
        """Stop the worker processes (idempotent; the game stays playable in one process)."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def __enter__(self) -> AtariSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------- helpers

    def _read_obs(self, out: np.ndarray) -> None:
        """Fill ``out`` (shape ``(1, d)``) with the emulator's current observation."""
        if self.obs_kind == "ram":
            self._ale.getRAM(out[0])
        else:
            self._ale.getScreenGrayscale(self._screen)
            out[0] = self._downsample(self._screen[None])[0]

    def _downsample(self, screens: np.ndarray) -> np.ndarray:
        """Average ``(n, 210, 160)`` grey screens over blocks; return ``(n, d)`` uint8.

        Sums strided slices (``block`` adds per axis) rather than reducing a 5-D view,
        which is several times faster for small blocks.
        """
        b = self.pixel_block
        rows, cols = SCREEN_SHAPE[0] // b, SCREEN_SHAPE[1] // b
        wide = np.uint16 if b * b * 255 <= np.iinfo(np.uint16).max else np.uint32
        grey = screens[:, : rows * b, : cols * b].astype(wide)
        grey = sum(grey[:, i::b] for i in range(b))
        grey = sum(grey[:, :, j::b] for j in range(b))
        return (grey // (b * b)).astype(np.uint8).reshape(len(screens), -1)
