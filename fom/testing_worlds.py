"""Small vectorised worlds for testing and benchmarking planners (FMC against random shooting).

Each world is an FMC :class:`~fom.fmc.Simulator` (also a batch simulator) whose batch is a
plain numpy array of states, one row per walker. A world holds ``G`` *root* states, one per
independent problem (``G = 1`` for a single episode): ``roots(n)`` repeats each root
``n // G`` times in contiguous blocks, as :func:`fom.fmc.plan_batch` expects, and
``act(actions)`` moves the real roots, so a script can play ``G`` episodes side by side.

- :class:`Corridor`: a 1-D corridor with a cliff behind the start, pits to jump over and a
  goal at the far end that pays 1 per step once reached. Random paths fall in within steps.
- :class:`TrapGrid`: a 2-D grid with a random field of traps and a distant goal in the
  opposite corner, paying 1 per step once reached. Random paths neither get far nor survive.
- :class:`PointMass`: a continuous 1-D point driven by a force in [-1, 1] towards a target;
  exercises continuous decisions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Corridor", "PointMass", "TrapGrid", "VectorWorld", "play_episodes"]


class VectorWorld:
    """Base of the test worlds: ``G`` real root states, row-wise batches, ``act`` to play.

    Subclasses set ``start`` and ``discrete`` and implement ``sample_actions``, ``step`` and
    ``observe``; worlds are deterministic, so ``act`` needs no real randomness.
    """

    discrete: bool = True
    start: np.ndarray

    def __init__(self, groups: int = 1) -> None:
        """Put ``groups`` roots at the start state."""
        self.reset(groups)

    def reset(self, groups: int = 1) -> None:
        """Restart ``groups`` independent episodes from the start state."""
        if groups < 1:
            raise ValueError(f"groups must be >= 1, got {groups}")
        self.root = np.repeat(self.start[None], groups, axis=0)
        self.root_dead = np.zeros(groups, dtype=bool)

    @property
    def groups(self) -> int:
        """Number of independent roots (episodes)."""
        return len(self.root)

    def roots(self, n: int) -> np.ndarray:
        """Return ``n`` rows: each root repeated ``n // groups`` times, in blocks."""
        if n % self.groups:
            raise ValueError(f"{n} rows do not split into {self.groups} groups")
        return np.repeat(self.root, n // self.groups, axis=0)

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Gather rows (cloning)."""
        return batch[index]

    def act(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """Apply one action per root; return (rewards (G,), dead (G,)). Dead roots stay dead."""
        actions = np.asarray(actions)
        if self.discrete:
            actions = actions.reshape(self.groups)
        else:
            actions = actions.reshape(self.groups, -1)
        state, reward, dead = self.step(self.root, actions, np.random.default_rng(0))
        keep = self.root_dead
        self.root = np.where(keep.reshape((-1,) + (1,) * (state.ndim - 1)), self.root, state)
        reward = np.where(keep, 0.0, reward)
        self.root_dead = keep | dead
        return reward, self.root_dead.copy()

    def step(
        self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every row one step (implemented by each world)."""
        raise NotImplementedError


class Corridor(VectorWorld):
    """1-D corridor: cliff at x < 0, a pit every ``pit_every`` cells, goal at ``length``.

    Actions: 0 jump back (-2), 1 back (-1), 2 forward (+1), 3 jump forward (+2). Landing in a
    pit or off the cliff kills; with the default layout (pits at 2, 5, 8, ...) half the moves
    from any cell kill, so random paths die within a few steps. The goal is absorbing and
    pays 1 per step; nothing else pays, so a planner must look far to see it.
    """

    discrete = True
    n_actions = 4
    MOVES = np.array([-2, -1, 1, 2])

    def __init__(
        self, length: int = 20, first_pit: int = 2, pit_every: int = 3, groups: int = 1
    ) -> None:
        """Lay out the pits (never on the start or the goal)."""
        self.length = length
        self.pit = np.zeros(length + 1, dtype=bool)
        self.pit[first_pit:length:pit_every] = True
        self.pit[[0, length]] = False
        self.start = np.array(0, dtype=np.int64)
        super().__init__(groups)

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform random actions."""
        return rng.integers(self.n_actions, size=n)

    def step(
        self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Move every walker; the cliff and pits kill, the goal pays 1 per step and holds."""
        at_goal = batch >= self.length
        moved = np.where(at_goal, self.length, np.minimum(batch + self.MOVES[actions], self.length))
        dead = (moved < 0) | self.pit[np.maximum(moved, 0)]
        reward = (moved >= self.length).astype(np.float64)
        return moved, reward, dead

    def observe(self, batch: np.ndarray) -> np.ndarray:
        """Position as a (n, 1) float."""
        return batch.astype(np.float64)[:, None]


class TrapGrid(VectorWorld):
    """2-D ``size`` x ``size`` grid: start in one corner, goal in the opposite one, traps.

    Actions: 0 up, 1 down, 2 left, 3 right; walls block (the walker stays). Stepping on a
    trap kills; the goal is absorbing and pays 1 per step. Traps are drawn with density
    ``traps`` from ``layout_seed``, redrawn until the goal is reachable.
    """

    discrete = True
    n_actions = 4
    MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])

    def __init__(
        self, size: int = 10, traps: float = 0.2, layout_seed: int = 2, groups: int = 1
    ) -> None:
        """Draw a trap field with a free path from start to goal."""
        self.size = size
        self.start = np.array([0, 0], dtype=np.int64)
        self.goal = np.array([size - 1, size - 1], dtype=np.int64)
        rng = np.random.default_rng(layout_seed)
        while True:
            trap = rng.random((size, size)) < traps
            trap[0, 0] = trap[-1, -1] = False
            trap[:2, :2] = False  # a little room to start
            if self._reachable(trap):
                break
        self.trap = trap
        super().__init__(groups)

    def _reachable(self, trap: np.ndarray) -> bool:
        """Is the goal reachable from the start without stepping on a trap (BFS)?"""
        seen = np.zeros_like(trap)
        queue = deque([(0, 0)])
        seen[0, 0] = True
        while queue:
            r, c = queue.popleft()
            if (r, c) == (self.size - 1, self.size - 1):
                return True
            for dr, dc in self.MOVES:
                nr, nc = r + dr, c + dc
                if (
                    0 <= nr < self.size
                    and 0 <= nc < self.size
                    and not (seen[nr, nc] or trap[nr, nc])
                ):
                    seen[nr, nc] = True
                    queue.append((nr, nc))
        return False

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform random actions."""
        return rng.integers(self.n_actions, size=n)

    def step(
        self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Move every walker; walls block, traps kill, the goal pays 1 per step and holds."""
        at_goal = (batch == self.goal).all(axis=1, keepdims=True)
        moved = np.clip(batch + self.MOVES[actions], 0, self.size - 1)
        moved = np.where(at_goal, batch, moved)
        dead = self.trap[moved[:, 0], moved[:, 1]]
        reward = (moved == self.goal).all(axis=1).astype(np.float64)
        return moved, reward, dead

    def observe(self, batch: np.ndarray) -> np.ndarray:
        """Cell coordinates as a (n, 2) float."""
        return batch.astype(np.float64)


class PointMass(VectorWorld):
    """A continuous 1-D point mass: state (x, v), action a force in [-1, 1].

    Reward ``1 / (1 + |x - target|)`` per step, highest at the target; it dies when ``|x|``
    exceeds ``wall``. Used to test continuous (mean) decisions.
    """

    discrete = False

    def __init__(
        self, target: float = 2.0, wall: float = 5.0, dt: float = 0.5, groups: int = 1
    ) -> None:
        """Start at rest at the origin."""
        self.target, self.wall, self.dt = target, wall, dt
        self.start = np.array([0.0, 0.0])
        super().__init__(groups)

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform forces in [-1, 1], shape (n, 1)."""
        return rng.uniform(-1.0, 1.0, size=(n, 1))

    def step(
        self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Integrate one step (semi-implicit Euler)."""
        v = batch[:, 1] + self.dt * np.clip(actions[:, 0], -1.0, 1.0)
        x = batch[:, 0] + self.dt * v
        reward = 1.0 / (1.0 + np.abs(x - self.target))
        return np.stack([x, v], axis=1), reward, np.abs(x) > self.wall

    def observe(self, batch: np.ndarray) -> np.ndarray:
        """The (x, v) state."""
        return batch.astype(np.float64)


def play_episodes(world: VectorWorld, decide: Callable[[], list[Any]], steps: int) -> np.ndarray:
    """Play ``world.groups`` episodes for ``steps`` steps; return each episode's return.

    ``decide()`` returns one action per root (for example the actions of
    :func:`fom.fmc.plan_batch` decisions), planned from the world's current roots.
    """
    total = np.zeros(world.groups)
    for _ in range(steps):
        if world.root_dead.all():
            break
        reward, _ = world.act(np.asarray(decide()))
        total += reward
    return total
