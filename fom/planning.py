"""A vectorised Simulator of encounters in the simulated world, so TIPs can plan with FMC.

A walker is the state of one encounter: the bot projection's node and health and the enemy's
health (the enemy holds its node). An action is a move target (stay, or the k-th neighbour)
with fire or hold, encoded as ``2 * k + fire``. Reward is damage dealt minus damage taken
(in units of full health) minus ``flank_bias`` times the exposure of the node stepped to.
A step plays the engines' rules (:mod:`fom.rules`: the bump rule, the shot, return fire at the
post-move node), with the aim error the planner expects once its pattern's ``aim_offset`` is
learned: zero mean, ``PLANNER_AIM_NOISE`` spread. Its draws are one ``rng.random`` call of
``rules.TICK_DRAWS`` uniforms per row, in the engine's order, so ``rng`` may be a Generator or
a :class:`fom.streams.RowStreams`.

Many encounters are planned at once: ``EncounterSimulator(level, roots, walkers)`` lays the
``groups`` roots out in blocks of ``walkers`` rows, as :func:`fom.fmc.plan_batch` expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fom import rules
from fom.engines.doom.monsters import weapon_spec
from fom.hitmodel import ENEMY_HEALTH, SELF_HEALTH
from fom.level import CanonicalLevel

__all__ = ["PLANNER_AIM_NOISE", "EncounterRoot", "EncounterSimulator", "decode_action"]

PLANNER_AIM_NOISE = 0.15
"""Spread of the aim error the planner assumes (it does not know the hidden drift)."""

# Columns of a batch row: state first, then per-encounter constants carried along (rows must be
# independent for FMC's cloning, so every row holds its own context).
_NODE, _HP, _ENEMY_HP, _ENEMY_NODE, _BIAS, _RANGE, _DAMAGE, _ENEMY_DAMAGE, _ENEMY_ACC = range(9)
_COLUMNS = 9


@dataclass(frozen=True, slots=True)
class EncounterRoot:
    """The state one plan starts from."""

    weapon: str
    self_node: int
    self_health: float
    enemy_node: int
    enemy_health: float
    flank_bias: float


def decode_action(level: CanonicalLevel, node: int, action: int) -> tuple[int, bool]:
    """The (move target, fire) of an action index taken at ``node``."""
    target = int(level.neighbors[node, action // 2])
    return (node if target < 0 else target), bool(action % 2)


class EncounterSimulator:
    """FMC's Simulator over a batch of encounters (struct of arrays: one float row each)."""

    discrete = True

    def __init__(self, level: CanonicalLevel, roots: list[EncounterRoot], walkers: int) -> None:
        self.level = level
        self.walkers = walkers
        self.n_actions = 2 * level.neighbors.shape[1]
        rows = np.empty((len(roots), _COLUMNS))
        for i, r in enumerate(roots):
            w = weapon_spec(r.weapon)
            rows[i] = (
                r.self_node, r.self_health, r.enemy_health, r.enemy_node, max(r.flank_bias, 0.0),
                w.range, w.damage, w.enemy_damage, w.enemy_accuracy,
            )  # fmt: skip
        self._roots = rows
        extent = np.ptp(level.positions, axis=0)
        self._positions = level.positions / np.where(extent > 0, extent, 1.0)

    def roots(self, n: int) -> np.ndarray:
        """Every root repeated ``walkers`` times (``n`` must be groups * walkers)."""
        if n != len(self._roots) * self.walkers:
            raise ValueError(f"expected {len(self._roots) * self.walkers} rows, got {n}")
        return np.repeat(self._roots, self.walkers, axis=0)

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform action indices."""
        return rng.integers(0, self.n_actions, size=n)

    def step(
        self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One tick of every encounter, as the engine plays it (bump rule included)."""
        level = self.level
        node = batch[:, _NODE].astype(np.intp)
        enemy = batch[:, _ENEMY_NODE].astype(np.intp)
        target = level.neighbors[node, actions // 2]
        target = rules.bump(node, np.where(target < 0, node, target), enemy)
        u = rng.random((rules.TICK_DRAWS, len(batch)))
        _, _, dealt, enemy_hp = rules.shoot(
            u, actions % 2 == 1, 0.0, 0.0, PLANNER_AIM_NOISE, level.distance[target, enemy],
            batch[:, _RANGE], batch[:, _DAMAGE], batch[:, _ENEMY_HP],
        )  # fmt: skip
        exposure = level.exposure[target]
        taken = rules.return_fire(
            u[rules.SHOT_DRAWS], enemy_hp, exposure, batch[:, _ENEMY_ACC], batch[:, _ENEMY_DAMAGE]
        )
        out = batch.copy()
        out[:, _NODE] = target
        out[:, _HP] = batch[:, _HP] - taken
        out[:, _ENEMY_HP] = enemy_hp
        reward = (dealt / ENEMY_HEALTH - taken / SELF_HEALTH) - batch[:, _BIAS] * exposure
        return out, reward, ~rules.alive(out[:, _HP])

    def observe(self, batch: np.ndarray) -> np.ndarray:
        """Folded position of the projection, and both healths (for walker distances)."""
        node = batch[:, _NODE].astype(np.intp)
        health = batch[:, [_HP, _ENEMY_HP]] / np.array([SELF_HEALTH, ENEMY_HEALTH])
        return np.concatenate([self._positions[node], health], axis=1)

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` (cloning)."""
        return batch[index]
