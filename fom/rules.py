"""The rules of a match, vectorised and written once: moves, the shot, return fire.

The simulated engines (:mod:`fom.engines.dummy`) play them on their encounter table and the
planner's model (:class:`fom.planning.EncounterSimulator`) on its walker rows, so the two cannot
drift. Every function takes arrays (one entry per encounter or walker) and the uniform draws it
needs as inputs: the engine feeds its counter-based encounter streams, the planner its
:class:`fom.streams.RowStreams`. One tick of an encounter, in order:

1. move (:func:`legal_moves`, :func:`bump`): to the node held at the start of the tick or a
   neighbour; stepping onto the enemy's node bumps into it, leaving the projection where it was;
2. shoot (:func:`shoot`, :data:`SHOT_DRAWS` uniforms): aim error ``drift + noise * z -
   aim_offset`` (``z`` standard normal from the first two draws), a hit when the third is below
   :func:`fom.hitmodel.hit_probability` at the post-move distance; enemy health floors at 0;
3. return fire (:func:`return_fire`, :data:`RETURN_FIRE_DRAWS` uniform): an enemy still alive
   fires at the projection's post-move node and hits with
   :func:`fom.hitmodel.enemy_hit_probability` of that node's exposure.

:func:`expected_tick` is the mean over those draws of what a tick removes from the enemy's health
and deals to the projection: the planner's reward, so a walker's return measures its moves
rather than the luck of its shots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fom.hitmodel import (
    AIM_WIDTH,
    WEAPONS,
    Weapon,
    enemy_hit_probability,
    hit_probability,
    mean_hit_probability,
)
from fom.streams import box_muller

__all__ = [
    "RETURN_FIRE_DRAWS",
    "SHOT_DRAWS",
    "TICK_DRAWS",
    "WeaponTable",
    "alive",
    "bump",
    "expected_tick",
    "legal_moves",
    "return_fire",
    "shoot",
]

SHOT_DRAWS = 3
"""Uniforms one shot consumes: two for the aim noise (Box-Muller), then one for the hit."""
RETURN_FIRE_DRAWS = 1
"""Uniforms the enemy's return fire consumes."""
TICK_DRAWS = SHOT_DRAWS + RETURN_FIRE_DRAWS
"""Uniforms of a tick with a shot: the shot's first, then return fire's (the engine's order)."""


@dataclass(frozen=True, slots=True)
class WeaponTable:
    """The weapon classes as columns (index = weapon index), for vectorised lookups."""

    specs: tuple[Weapon, ...]
    drift: np.ndarray
    noise: np.ndarray
    range: np.ndarray
    damage: np.ndarray
    enemy_damage: np.ndarray
    enemy_accuracy: np.ndarray

    @classmethod
    def of(cls, weapons: Iterable[str | Weapon]) -> WeaponTable:
        """The table of weapons given by name (looked up in WEAPONS) or as Weapon specs."""
        specs = [w if isinstance(w, Weapon) else WEAPONS[w] for w in weapons]
        columns = {
            name: np.array([getattr(w, name) for w in specs], dtype=np.float64)
            for name in ("drift", "noise", "range", "damage", "enemy_damage", "enemy_accuracy")
        }
        return cls(tuple(specs), **columns)

    @property
    def names(self) -> tuple[str, ...]:
        """The weapons' names, in index order."""
        return tuple(w.name for w in self.specs)


def legal_moves(adjacency: np.ndarray, origin: Any, target: Any) -> Any:
    """Whether each target is the node held at the start of the tick or one of its neighbours."""
    return (target == origin) | adjacency[origin, target]


def bump(node: Any, target: Any, enemy_node: Any) -> Any:
    """Where a (legal) step to ``target`` ends: the enemy's node is occupied, so it stays put.

    Int arrays or ints (arithmetic rather than np.where: an engine's single move stays cheap).
    """
    return target + (node - target) * (target == enemy_node)


def alive(health: Any) -> Any:
    """Whether a fighter is alive: an enemy can be shot and fires back only while it is."""
    return health > 0


def shoot(
    u: Sequence[Any],
    fire: Any,
    aim_offset: Any,
    drift: Any,
    noise: Any,
    distance: Any,
    weapon_range: Any,
    damage: Any,
    enemy_health: Any,
) -> tuple[Any, Any, Any, Any]:
    """Resolve shots; ``u`` holds SHOT_DRAWS uniforms per row. Return (hit, error, dealt, health).

    Rows that do not fire, or whose enemy is already down, neither hit nor deal damage (their
    draws are ignored); ``health`` is the enemy's health after the shot, floored at 0. Arrays
    (one entry per row) or, for an engine's single shot, scalars.
    """
    error = drift + noise * box_muller(u[0], u[1]) - aim_offset
    p = hit_probability(error, distance, weapon_range, AIM_WIDTH)
    hit = fire & alive(enemy_health) & (u[2] < p)
    dealt = hit * damage
    return hit, error, dealt, np.maximum(enemy_health - dealt, 0.0)


def return_fire(
    u: Any, enemy_health: Any, exposure: Any, enemy_accuracy: Any, enemy_damage: Any
) -> np.ndarray:
    """Damage each projection takes from its enemy's return fire; ``u`` is one uniform per row.

    ``exposure`` is that of the projection's post-move node; a dead enemy does not fire.
    """
    p = enemy_hit_probability(exposure, enemy_accuracy)
    return np.where(alive(enemy_health) & (u < p), enemy_damage, 0.0)


def expected_tick(
    fire: Any,
    mean_error: Any,
    spread: Any,
    distance: Any,
    weapon_range: Any,
    damage: Any,
    enemy_health: Any,
    exposure: Any,
    enemy_accuracy: Any,
    enemy_damage: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """The means over a tick's draws of (enemy health removed, damage taken), given its start.

    The shot's aim error is gaussian (``mean_error``, ``spread``); ``distance`` and ``exposure``
    are those of the post-move node. Health removed is capped by the enemy's health (a kill
    removes exactly what was left); return fire comes only when the shot did not kill, so
    ``taken = (1 - p_hit * lethal) * p_return * enemy_damage`` for an enemy alive at the start.
    """
    up = alive(enemy_health)
    p = fire * up * mean_hit_probability(mean_error, spread, distance, weapon_range, AIM_WIDTH)
    removed = p * np.minimum(damage, enemy_health)
    survives = 1.0 - p * (damage >= enemy_health)
    taken = up * survives * enemy_hit_probability(exposure, enemy_accuracy) * enemy_damage
    return removed, taken
