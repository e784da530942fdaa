"""The shot model: weapon classes with a hidden recoil drift, and vectorised hit probabilities.

The probabilities :mod:`fom.rules` builds a tick's rules on (the engines and the FMC simulator
both play those rules). A shot's signed aim error is ``drift + noise - aim_offset`` (aim units);
the chance to hit is a gaussian of that error (width ``AIM_WIDTH``) times a range factor
``1 / (1 + (distance / range)^4)`` that is about 1 well inside the weapon's range and falls
steeply beyond it; ``mean_hit_probability`` is that chance averaged over a gaussian error.
Enemies fire back with a chance that grows linearly with the exposure
(1 - cover) of the node the bot stands on; full cover still leaks ``COVER_LEAK`` of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "AIM_WIDTH",
    "COVER_LEAK",
    "ENEMY_HEALTH",
    "SELF_HEALTH",
    "WEAPONS",
    "Weapon",
    "enemy_hit_probability",
    "hit_probability",
    "mean_hit_probability",
    "shot_hit_probability",
]

AIM_WIDTH = 0.25
COVER_LEAK = 0.1
ENEMY_HEALTH = 100.0
SELF_HEALTH = 100.0


@dataclass(frozen=True, slots=True)
class Weapon:
    """A weapon class: hidden recoil drift and noise (aim units), range (m), damage both ways."""

    name: str
    drift: float
    noise: float
    range: float
    damage: float
    enemy_damage: float
    enemy_accuracy: float


WEAPONS: dict[str, Weapon] = {
    w.name: w
    for w in (
        Weapon("shotgun", drift=0.35, noise=0.10, range=15.0, damage=35.0,
               enemy_damage=20.0, enemy_accuracy=0.55),
        Weapon("rocket", drift=-0.25, noise=0.10, range=25.0, damage=30.0,
               enemy_damage=25.0, enemy_accuracy=0.45),
        Weapon("railgun", drift=0.15, noise=0.08, range=40.0, damage=40.0,
               enemy_damage=18.0, enemy_accuracy=0.6),
    )
}  # fmt: skip


def hit_probability(
    aim_error: ArrayLike, distance: ArrayLike, weapon_range: ArrayLike, width: ArrayLike = AIM_WIDTH
) -> np.ndarray:
    """Chance a shot hits: falls with |aim_error| (gaussian of ``width``) and with distance."""
    err = np.asarray(aim_error, dtype=np.float64)
    d = np.maximum(np.asarray(distance, dtype=np.float64), 0.0)
    r = np.asarray(weapon_range, dtype=np.float64)
    w = np.asarray(width, dtype=np.float64)
    aim = np.exp(-0.5 * np.square(err / w))
    return aim / (1.0 + np.square(np.square(d / r)))


def mean_hit_probability(
    mean_error: ArrayLike,
    spread: ArrayLike,
    distance: ArrayLike,
    weapon_range: ArrayLike,
    width: ArrayLike = AIM_WIDTH,
) -> np.ndarray:
    """``hit_probability`` averaged over a gaussian aim error of ``mean_error`` and ``spread``.

    The gaussian aim factor integrates in closed form: with ``v = width^2 + spread^2``,
    ``E[exp(-e^2 / (2 width^2))] = sqrt(width^2 / v) * exp(-mean^2 / (2 v))``.
    """
    m = np.asarray(mean_error, dtype=np.float64)
    w2 = np.square(np.asarray(width, dtype=np.float64))
    v = w2 + np.square(np.asarray(spread, dtype=np.float64))
    aim = np.sqrt(w2 / v) * np.exp(-0.5 * m * m / v)
    return aim * hit_probability(0.0, distance, weapon_range, width)


def enemy_hit_probability(exposure: ArrayLike, enemy_accuracy: ArrayLike) -> np.ndarray:
    """Chance an enemy's shot hits the bot: grows linearly with the exposure of its node."""
    e = np.clip(np.asarray(exposure, dtype=np.float64), 0.0, 1.0)
    acc = np.clip(np.asarray(enemy_accuracy, dtype=np.float64), 0.0, 1.0)
    return acc * (COVER_LEAK + (1.0 - COVER_LEAK) * e)


def shot_hit_probability(weapon: Weapon, aim_error: ArrayLike, distance: ArrayLike) -> np.ndarray:
    """``hit_probability`` with a weapon's range and the default width."""
    return hit_probability(aim_error, distance, weapon.range, AIM_WIDTH)
