"""The Engine contract (DESIGN): what Perception and the World actor need from a game."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from fom.errors import EngineError
from fom.level import CanonicalLevel
from fom.state import Opponent, SelfState

__all__ = [
    "END_REASONS",
    "Engine",
    "ShotOutcome",
    "StepReport",
    "WorldView",
    "finite_number",
    "take_shot",
]

END_REASONS: tuple[str, ...] = ("killed", "died", "timeout", "closed")


@dataclass(frozen=True, slots=True)
class ShotOutcome:
    """One shot of an encounter: whether it fired and hit, and where it landed (signed error)."""

    encounter: int
    fired: bool
    hit: bool
    error: float  # drift + noise - aim_offset: what the shooter sees; 0.0 when not fired
    damage: float
    distance: float
    motion: float = 0.0  # the target's apparent motion over the aim's lead horizon (degrees,
    # signed like aim_offset): what a lead_gain of 1 adds to the aim; 0.0 for targets that
    # do not move across the bot's view (the simulated worlds) or when not fired
    refire: bool = False  # fired with the trigger held since the decision before (Doom's
    # refire spread); False in worlds without one


@dataclass(frozen=True, slots=True)
class StepReport:
    """What one tick did to one encounter; ``reason`` is "" while it goes on."""

    encounter: int
    damage_taken: float  # since the previous report of this encounter
    exposure: float  # exposure (1 - cover) of the projection's node when the enemy fired
    self_health: float
    enemy_health: float
    self_node: int
    enemy_node: int
    done: bool
    reason: str  # "", "killed", "died", "timeout", "closed"


@dataclass(frozen=True, slots=True)
class WorldView:
    """What the bot perceives at one tick: itself and the alive opponents it can see."""

    tick: int
    self_state: SelfState
    opponents: tuple[Opponent, ...]


@runtime_checkable
class Engine(Protocol):
    """A game the bot plays; one projection of the bot per encounter (= opponent id)."""

    level: CanonicalLevel
    weapons: tuple[str, ...]
    tick: int

    def reset(self, seed: int | None = None) -> WorldView:
        """Start a fresh match (same seed, same match) and return the first view."""
        ...

    def observe(self) -> WorldView:
        """The bot's own state and the alive opponents, sorted by id."""
        ...

    def projection(self, encounter: int) -> SelfState:
        """The bot's projection (avatar) on that encounter's floor."""
        ...

    def move(self, encounter: int, node: int) -> None:
        """One step: ``node`` must be the projection's node or a neighbour, else EngineError."""
        ...

    def look_at(self, encounter: int, aim_offset: float, lead_gain: float = 0.0) -> None:
        """Aim at the encounter's enemy, nudged by ``aim_offset`` to compensate recoil, plus
        ``lead_gain`` times the target's apparent motion (ShotOutcome.motion) to lead it."""
        ...

    def shoot(self, encounter: int) -> ShotOutcome:
        """Fire once at the encounter's enemy (at most one shot per encounter per tick)."""
        ...

    def close(self, encounter: int) -> None:
        """End an encounter early (its TIP crashed); reported as "closed" by the next advance."""
        ...

    def advance(self) -> tuple[StepReport, ...]:
        """One tick: enemies fire back, encounters end, spawns; reports sorted by encounter."""
        ...

    def save_state(self) -> object:
        """An opaque deep copy of the whole match, RNG states included."""
        ...

    def restore_state(self, state: object) -> None:
        """Return to a state from save_state; the same calls then give the same outcomes."""
        ...


def finite_number(name: str, value: object) -> float:
    """``value`` as a float; EngineError naming ``name`` unless it is a finite number (the
    check of look_at's aim_offset and lead_gain)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise EngineError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise EngineError(f"{name} must be finite, got {value!r}")
    return number


def take_shot(engine: Engine, encounter: int, rest: bool) -> ShotOutcome:
    """Shoot at ``encounter``; with ``rest``, letting the trigger go after the press through
    the engine's ``shoot_rested`` where it has one (Doom's: a gun that strays when held)."""
    rested = getattr(engine, "shoot_rested", None) if rest else None
    return rested(encounter) if rested is not None else engine.shoot(encounter)
