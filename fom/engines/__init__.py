"""Worlds the bot plays in: the Engine contract, the dummy worlds and the conformance check."""

from __future__ import annotations

from fom.engines.base import END_REASONS, Engine, ShotOutcome, StepReport, WorldView
from fom.engines.conformance import EngineConformanceError, check_engine
from fom.engines.dummy import DummyGame, EnhancedDummyGame, SimulatedGame
from fom.errors import ConfigError

__all__ = [
    "END_REASONS",
    "ENGINES",
    "DummyGame",
    "Engine",
    "EngineConformanceError",
    "EnhancedDummyGame",
    "ShotOutcome",
    "SimulatedGame",
    "StepReport",
    "WorldView",
    "check_engine",
    "make_engine",
]

ENGINES: tuple[str, ...] = ("dummy", "enhanced")


def make_engine(name: str, seed: int, concurrency: int = 1) -> Engine:
    """Build a world by name: "dummy" (the seed's; ignores concurrency) or "enhanced"."""
    if name == "dummy":
        return DummyGame(seed)
    if name == "enhanced":
        return EnhancedDummyGame(seed, concurrency=max(int(concurrency), 1))
    raise ConfigError(f"unknown world {name!r}; choose one of {', '.join(ENGINES)}")
