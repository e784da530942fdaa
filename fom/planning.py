"""A vectorised Simulator of encounters in the simulated world, so TIPs can plan with FMC.

A walker is the state of one encounter: the bot projection's node and health and the enemy's
health (the enemy holds its node). An action is a move target: stay, or the k-th neighbour
(``k``); the projection fires every tick, since a shot costs nothing the fight counts (ammo
outlasts the time-out) and holding fire only gives the enemy time. ``hold=True`` adds holding
fire to the actions, encoded as ``2 * k + fire`` (the engine's full action set).

A step plays the engines' rules (:mod:`fom.rules`: the bump rule, the shot, return fire at the
post-move node), with the aim error the planner expects once its pattern's ``aim_offset`` is
learned: zero mean, ``PLANNER_AIM_NOISE`` spread.

By default (``belief=True``) a walker carries the *chances* of each count of hits landed since
the root instead of one drawn outcome, and its self health goes down by the mean damage taken:
a step has no draw at all, and a walker's return is the exact expected outcome of its moves
(health removed, damage taken, no return fire after a lethal hit, the chance the enemy is still
up). A path of moves then has one value, so the swarm compares paths, not the luck of their
shots; replanning every tick reacts to the shots that really land. ``belief=False`` lets the
draws move the walker (one ``rng.random`` call of ``rules.TICK_DRAWS`` uniforms per row, in the
engine's order; ``rng`` a Generator or a :class:`fom.streams.RowStreams`), earning the tick's
mean outcome from the drawn state (``mean_reward``) or the drawn outcome itself.

Reward, tick by tick: enemy health removed (a kill is worth 1 in all) minus damage taken (a
death costs 1 in all), minus ``tick_cost`` times the chance the enemy is still up: the price of
a tick spent on this enemy, without which standing far off in cover and winning slowly looks as
good as winning now. The pattern's ``flank_bias`` (the graph planner's exposure weight) is not
part of the reward: the model prices exposure already, through return fire
(``flank_penalty=True`` subtracts ``flank_bias * exposure`` a tick, as before issue 13).

Many encounters are planned at once: ``EncounterSimulator(level, roots, walkers)`` lays the
``groups`` roots out in blocks of ``walkers`` rows, as :func:`fom.fmc.plan_batch` expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fom import rules
from fom.engines.doom.monsters import weapon_spec
from fom.hitmodel import (
    ENEMY_HEALTH,
    SELF_HEALTH,
    enemy_hit_probability,
    mean_hit_probability,
)
from fom.level import CanonicalLevel

__all__ = [
    "HORIZON",
    "PLANNER_AIM_NOISE",
    "TICK_COST",
    "EncounterRoot",
    "EncounterSimulator",
    "decode_action",
    "tick_reward",
]

PLANNER_AIM_NOISE = 0.15
"""Spread of the aim error the planner assumes (it does not know the hidden drift)."""
HORIZON = 12
"""FMC's default horizon in ticks (an encounter's time-out); it sizes a belief row's columns."""
TICK_COST = 2.0
"""Reward lost per tick the enemy may still be up, in kills: kill speed first, the damage both
ways as the tie-break (the sweep of this price is in docs/results.md, issue 13)."""

# Columns of a batch row: state first, then per-encounter constants carried along (rows must be
# independent for FMC's cloning, so every row holds its own context).
_NODE, _HP, _ENEMY_HP, _ENEMY_NODE, _BIAS, _RANGE, _DAMAGE, _ENEMY_DAMAGE, _ENEMY_ACC = range(9)
_START_HP = 9
"""The enemy's health at the root (belief rows: the hit counts are counted from it)."""
_KILL_HITS = 10
"""Belief rows: the hits that bring the enemy down from its root health."""
_HITS = 11
"""Belief rows: first of the columns holding the chance of each count of hits landed since the
root (0 .. ``horizon``, the last one also holding more)."""


@dataclass(frozen=True, slots=True)
class EncounterRoot:
    """The state one plan starts from."""

    weapon: str
    self_node: int
    self_health: float
    enemy_node: int
    enemy_health: float
    flank_bias: float
    """The pattern's cover preference: the graph planner's; in this model's reward only with
    ``flank_penalty``."""


def tick_reward(removed: np.ndarray | float, taken: np.ndarray | float, up: np.ndarray | float,
                tick_cost: float = TICK_COST, enemy_health: float = ENEMY_HEALTH
                ) -> np.ndarray | float:  # fmt: skip
    """A tick's reward (scalars or arrays): the enemy's health ``removed`` (a kill of
    ``enemy_health`` is worth 1) minus the damage ``taken`` (a death costs 1), minus
    ``tick_cost`` times the chance ``up`` that the enemy is still up."""
    return removed / enemy_health - taken / SELF_HEALTH - tick_cost * up


def decode_action(
    level: CanonicalLevel, node: int, action: int, *, hold: bool = False
) -> tuple[int, bool]:
    """The (move target, fire) of an action index taken at ``node`` (``hold``: as encoded with
    holding fire among the actions)."""
    move, fire = divmod(action, 2) if hold else (action, 1)
    target = int(level.neighbors[node, move])
    return (node if target < 0 else target), bool(fire)


class EncounterSimulator:
    """FMC's Simulator over a batch of encounters (struct of arrays: one float row each)."""

    discrete = True

    def __init__(
        self,
        level: CanonicalLevel,
        roots: list[EncounterRoot],
        walkers: int,
        *,
        belief: bool = True,
        horizon: int = HORIZON,
        hold: bool = False,
        mean_reward: bool = True,
        tick_cost: float = TICK_COST,
        flank_penalty: bool = False,
    ) -> None:
        self.level = level
        self.walkers = walkers
        self.belief = belief
        self.hold = hold
        self.mean_reward = mean_reward
        self.flank_penalty = flank_penalty
        self.tick_cost = float(tick_cost)
        self.n_actions = (2 if hold else 1) * level.neighbors.shape[1]
        hits = max(int(horizon), 1) + 1 if belief else 0
        rows = np.zeros((len(roots), _HITS + hits))
        for i, r in enumerate(roots):
            w = weapon_spec(r.weapon)
            rows[i, :_HITS] = (
                r.self_node, r.self_health, r.enemy_health, r.enemy_node, max(r.flank_bias, 0.0),
                w.range, w.damage, w.enemy_damage, w.enemy_accuracy, r.enemy_health,
                np.ceil(r.enemy_health / w.damage) if r.enemy_health > 0 else 0.0,
            )  # fmt: skip
        if belief:
            rows[:, _HITS] = 1.0  # no hit landed yet, for sure
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
        move, fire = (actions // 2, actions % 2 == 1) if self.hold else (actions, True)
        target = level.neighbors[node, move]
        target = rules.bump(node, np.where(target < 0, node, target), enemy)
        distance = level.distance[target, enemy]
        exposure = level.exposure[target]
        if self.belief:
            out, removed, taken, up = self._believe(batch, fire, distance, exposure)
        else:
            out, removed, taken, up = self._draw(batch, fire, distance, exposure, rng)
        out[:, _NODE] = target
        reward = tick_reward(removed, taken, up, self.tick_cost)
        if self.flank_penalty:
            reward -= batch[:, _BIAS] * exposure
        return out, reward, ~rules.alive(out[:, _HP])

    def _draw(
        self,
        batch: np.ndarray,
        fire: np.ndarray | bool,
        distance: np.ndarray,
        exposure: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A tick whose draws decide the shot and the return fire, as in the engine.

        Returns the next rows and the tick's (health removed, damage taken, enemy was up): the
        tick's means from the drawn state (``mean_reward``) or what was drawn."""
        health = batch[:, _ENEMY_HP]
        weapon_range, damage = batch[:, _RANGE], batch[:, _DAMAGE]
        accuracy, enemy_damage = batch[:, _ENEMY_ACC], batch[:, _ENEMY_DAMAGE]
        u = rng.random((rules.TICK_DRAWS, len(batch)))
        _, _, dealt, enemy_hp = rules.shoot(
            u, fire, 0.0, 0.0, PLANNER_AIM_NOISE, distance, weapon_range, damage, health
        )
        taken = rules.return_fire(u[rules.SHOT_DRAWS], enemy_hp, exposure, accuracy, enemy_damage)
        if self.mean_reward:
            removed, taken_reward = rules.expected_tick(
                fire, 0.0, PLANNER_AIM_NOISE, distance, weapon_range, damage, health, exposure,
                accuracy, enemy_damage,
            )  # fmt: skip
        else:
            removed, taken_reward = dealt, taken
        out = batch.copy()
        out[:, _HP] = batch[:, _HP] - taken
        out[:, _ENEMY_HP] = enemy_hp
        return out, removed, taken_reward, rules.alive(health).astype(np.float64)

    def _believe(
        self,
        batch: np.ndarray,
        fire: np.ndarray | bool,
        distance: np.ndarray,
        exposure: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A tick over the chances of each count of hits landed, with no draw at all.

        Returns what :meth:`_draw` does, each term the exact mean over the engine's draws from
        the same chances; self health goes down by the mean damage taken."""
        chance = batch[:, _HITS:]
        rows, last = np.arange(len(batch)), chance.shape[1] - 1
        kill = batch[:, _KILL_HITS].astype(np.intp)  # hits that bring the enemy down
        reach = (kill >= 1) & (kill <= last + 1)
        lethal = np.where(reach, chance[rows, np.clip(kill - 1, 0, last)], 0.0)
        down = np.where(kill <= last, chance[rows, np.minimum(kill, last)], 0.0)
        up = 1.0 - down
        p = fire * mean_hit_probability(0.0, PLANNER_AIM_NOISE, distance, batch[:, _RANGE])
        damage = batch[:, _DAMAGE]
        final = batch[:, _START_HP] - damage * (kill - 1)  # what the lethal hit removes
        removed = p * (damage * (up - lethal) + final * lethal)
        shot = enemy_hit_probability(exposure, batch[:, _ENEMY_ACC]) * batch[:, _ENEMY_DAMAGE]
        taken = (up - p * lethal) * shot
        hit = chance * p[:, None]  # mass that lands one more hit this tick
        inside = kill <= last
        hit[rows[inside], kill[inside]] = 0.0  # a downed enemy takes no more hits
        out = batch.copy()
        moved = out[:, _HITS:]
        moved -= hit
        moved[:, 1:] += hit[:, :-1]
        moved[:, -1] += hit[:, -1]  # beyond the horizon: counted in the last column
        out[:, _HP] -= taken
        out[:, _ENEMY_HP] -= removed
        return out, removed, taken, up

    def observe(self, batch: np.ndarray) -> np.ndarray:
        """Folded position of the projection, and both healths (for walker distances)."""
        node = batch[:, _NODE].astype(np.intp)
        health = batch[:, [_HP, _ENEMY_HP]] / np.array([SELF_HEALTH, ENEMY_HEALTH])
        return np.concatenate([self._positions[node], health], axis=1)

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` (cloning)."""
        return batch[index]
