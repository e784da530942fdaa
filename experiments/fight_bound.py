"""How fast any planner can kill under the match's rules: the bound on kills per tick.

An encounter's length, if the bot never dies, depends only on where it shoots from: each tick it
steps (stay or a neighbour; the enemy's node bumps) and fires with the hit chance of the
post-move distance (``fom.hitmodel.mean_hit_probability``, aim learned: no drift left, the
weapon's noise). The expected number of ticks to bring the enemy down from full health,
``T(node, health) = 1 + min over moves m of [p(m) T(m, health - damage) + (1 - p(m)) T(m,
health)]``, is solved exactly (value iteration over the level's nodes; health levels are
finite), for the fastest policy and for the graph planner's walk along its path, averaged over
the spawn's start pairs (the bot's node, the enemy on another node) and the world's weapons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from fom.hitmodel import ENEMY_HEALTH, WEAPONS, Weapon, mean_hit_probability
from fom.level import CanonicalLevel, default_level

__all__ = ["WORLD_WEAPONS", "expected_ticks"]

WORLD_WEAPONS: dict[str, tuple[str, ...]] = {
    "dummy": ("shotgun", "rocket"),
    "enhanced": ("shotgun", "rocket", "railgun"),
}
"""The enemies' weapons of each simulated world (fom.engines.dummy)."""

Policy = Callable[[int, int], int]
"""(bot node, enemy node) -> the node the bot steps to."""


def _ticks(level: CanonicalLevel, w: Weapon, enemy: int, policy: Policy | None) -> np.ndarray:
    """Expected ticks to kill from full health, per start node (``policy`` None: fastest)."""
    n = level.n
    moves = [[int(t) for t in level.neighbors[i] if t >= 0] for i in range(n)]
    lands = [[i if t == enemy else t for t in moves[i]] for i in range(n)]
    p = mean_hit_probability(0.0, w.noise, level.distance[:, enemy], w.range)
    hits = int(np.ceil(ENEMY_HEALTH / w.damage))
    value = np.zeros((hits + 1, n))  # value[k, node]: k hits still needed; value[0] = 0
    for k in range(1, hits + 1):
        v = np.zeros(n)
        for _ in range(200):  # T = 1 + p T(k-1) + (1 - p) T(k), solved by iteration
            options = [
                [1.0 + p[m] * value[k - 1, m] + (1.0 - p[m]) * v[m] for m in lands[i]]
                for i in range(n)
            ]
            if policy is None:
                new = np.array([min(o) for o in options])
            else:
                new = np.array(
                    [o[lands[i].index(_land(policy(i, enemy), i, enemy))]
                     for i, o in enumerate(options)]
                )  # fmt: skip
            if np.allclose(new, v, atol=1e-12, rtol=0.0):
                break
            v = new
        value[k] = v
    return value[hits]


def _land(target: int, node: int, enemy: int) -> int:
    """Where a step to ``target`` ends (the enemy's node bumps)."""
    return node if target == enemy else target


def expected_ticks(world: str, policy: Policy | None = None) -> float:
    """Mean expected ticks to a kill over start pairs and weapons (``policy`` None: fastest)."""
    level = default_level()
    out = []
    for name in WORLD_WEAPONS[world]:
        for enemy in range(level.n):
            ticks = _ticks(level, WEAPONS[name], enemy, policy)
            out += [ticks[s] for s in range(level.n) if s != enemy]
    return float(np.mean(out))


def graph_policy(flank_bias: float) -> Policy:
    """The graph planner's step: the next node of its flank-biased shortest path."""
    level = default_level()

    def step(node: int, enemy: int) -> int:
        path = level.shortest_path(node, enemy, flank_bias)
        return path[1] if len(path) > 1 else path[0]

    return step


def bounds(worlds: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Per world: (fastest policy's expected ticks per kill, the graph planner's at bias 0)."""
    return {w: (expected_ticks(w), expected_ticks(w, graph_policy(0.0))) for w in worlds}
