"""Plain facts about the world: the bot's own state and one record per opponent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Opponent", "SelfState"]


@dataclass(frozen=True, slots=True)
class SelfState:
    """The bot (or one of its per-encounter projections): where it stands and how it fares."""

    node: int
    floor: int
    position: np.ndarray
    health: float
    ammo: int
    deaths: int


@dataclass(frozen=True, slots=True)
class Opponent:
    """One enemy as last seen: identity (= encounter id), weapon class, place and health."""

    id: int
    weapon: str
    node: int
    floor: int
    position: np.ndarray
    health: float
    last_seen: int
