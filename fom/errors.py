"""The model's exceptions: one shallow tree, so callers catch ``FomError`` or a precise case."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EngineConformanceError",
    "EngineError",
    "FomError",
    "InvalidDelta",
    "RunFailed",
    "StateFileError",
    "UnknownGame",
]


class FomError(Exception):
    """Raised when the FOM model cannot do what was asked; the base of every FOM exception."""


class RunFailed(FomError):
    """Raised when a run cannot go on because a part it cannot do without crashed."""


class InvalidDelta(FomError, ValueError):
    """Raised when a pattern delta has the wrong type, shape or dtype, or is not finite."""


class StateFileError(FomError):
    """Raised when a saved state file is missing, unreadable, corrupt or of the wrong format."""


class ConfigError(FomError, ValueError):
    """Raised when a configuration value (level, learner kind, engine name, ...) is invalid."""


class EngineError(FomError):
    """Raised when an engine is asked for an impossible action (bad move, unknown encounter)."""


class GameLost(EngineError):
    """Raised when a game died or hung in the middle of a search over it (the fmc-engine
    planner); its floor reports it and starts a new game at the next tick."""


class UnknownGame(FomError, LookupError):
    """Raised when a game is asked for by a name no installed engine knows."""


class EngineConformanceError(FomError):
    """Raised when an engine breaks the Engine contract; the message lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"engine is not conformant ({len(self.problems)} problem(s)):\n- "
            + "\n- ".join(self.problems)
        )
