"""Messages of ``fom-fmc``: the game actor asks the walker pool to plan from a game state."""

from __future__ import annotations

from bus import message

__all__ = ["AtariPlanReply", "AtariPlanRequest", "GameFinished", "GameStep"]


@message("atari.plan_request")
class AtariPlanRequest:
    """Plan one decision from ``state`` (an emulator snapshot, RNG included)."""

    step: int
    state: bytes


@message("atari.plan_reply")
class AtariPlanReply:
    """FMC's decision and what it cost."""

    action: int
    samples: int
    depth: float
    elapsed_ms: float
    walkers: int = 0
    """Walkers the next decision uses (the adaptive swarm's size after this one)."""


@message("atari.step")
class GameStep:
    """One decision played in the real game."""

    tick: int
    action: int
    reward: float
    score: float
    lives: int
    samples: int
    depth: float
    elapsed_ms: float


@message("atari.finished")
class GameFinished:
    """The game ended or ran its steps."""

    tick: int
    game: str
    score: float
    steps: int
    game_over: bool
    samples: int
    samples_per_step: float
    walker_steps_per_s: float
    wall_s: float
