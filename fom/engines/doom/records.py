"""The doom engine's own records: a finished episode, an open encounter, the match outside
the game (what save_state deep-copies next to the game's save file)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fom.engines.base import ShotOutcome
from fom.engines.doom.game import Frame

__all__ = ["Enc", "EpisodeEnd", "MatchState", "Saved"]


@dataclass(frozen=True, slots=True)
class EpisodeEnd:
    """One finished episode of a floor: ViZDoom's reward, the kills, whether the bot died."""

    floor: int
    episode: int
    tick: int
    reward: float
    kills: int
    died: bool
    patterns: tuple[str, ...]
    """The patterns of the encounters fought in it (sorted)."""
    shots: int = 0
    hits: int = 0
    damage_taken: float = 0.0


@dataclass(slots=True)
class Enc:
    """One open encounter: its monster and what the bot knows of it."""

    eid: int
    obj: int
    pattern: str
    threat: float
    health: float
    xy: np.ndarray
    vel: np.ndarray
    node: int
    lost: int = 0
    acted: bool = False
    closed: bool = False
    pending: float = 0.0


@dataclass(slots=True)
class MatchState:
    """Everything of the match outside the game itself (deep-copied by save_state)."""

    seed: int
    tick: int = 0
    episode: int = 0
    next_eid: int = 0
    deaths: int = 0
    open: dict[int, Enc] = field(default_factory=dict)
    by_obj: dict[int, int] = field(default_factory=dict)
    ended: dict[int, tuple[int, float, int]] = field(default_factory=dict)
    fought: set[str] = field(default_factory=set)
    tics: int = 0
    """Tics the last decision lasted."""
    tally: list = field(default_factory=lambda: [0, 0, 0.0])
    """The episode's shots, hits and damage taken so far."""
    episodes: list[EpisodeEnd] = field(default_factory=list)
    frame: Frame | None = None
    origin: int = 0
    driver: int | None = None
    move_to: int | None = None
    aim: float | None = None
    target: tuple | None = None
    """What the driver aims at: its target's position and velocity, the aim offset and the lead
    gain (the aim itself is taken when the tics until the bullet leaves are known)."""
    aim_range: float = 0.0
    motion: float = 0.0
    """The driver's target's apparent motion until the bullet leaves (degrees) when it aimed."""
    stepped: bool = False
    held: bool = False
    """Whether the gun's last press was a refire (the trigger held through its refire check)."""
    fire_at: int | None = None
    """The tic of the gun's last press while its refire check is ahead (body.REFIRE_CHECK)."""
    ready_at: int | None = None
    """The tic from which the gun is ready to fire (None: not known, or busy)."""
    rest: bool = False
    """Whether this decision's shot rests the trigger on the gun's refire check."""
    shot: ShotOutcome | None = None
    health: float = 0.0
    """The bot's health at the start of the decision."""
    kills: float = 0.0
    """KILLCOUNT at the start of the decision."""
    goal: int = 0
    """Where the body walks while no encounter drives it (the farthest node, then back)."""


@dataclass(frozen=True, slots=True)
class Saved:
    """A saved match: the game's save file (bytes) and the match outside it."""

    owner: int
    game: bytes
    match: MatchState
