"""Worlds the bot plays in: the Engine contract, the dummy worlds and the conformance check.

Worlds are found by name in the ``fom.engines`` entry-point group (see ``fom.plugins``). An
entry point there loads a factory ``(seed: int, concurrency: int) -> Engine``: ``concurrency``
is the number of encounters the run plays at once, which a world may use or ignore.
"""

from __future__ import annotations

from fom import plugins
from fom.engines.base import END_REASONS, Engine, ShotOutcome, StepReport, WorldView
from fom.engines.conformance import EngineConformanceError, check_engine
from fom.engines.dummy import DummyGame, EnhancedDummyGame, SimulatedGame
from fom.errors import ConfigError

__all__ = [
    "END_REASONS",
    "DummyGame",
    "Engine",
    "EngineConformanceError",
    "EnhancedDummyGame",
    "ShotOutcome",
    "SimulatedGame",
    "StepReport",
    "WorldView",
    "check_engine",
    "dummy_world",
    "engine_names",
    "enhanced_world",
    "make_engine",
]


def dummy_world(seed: int, concurrency: int = 1) -> DummyGame:
    """The seed's world (``fom.engines`` entry point ``dummy``); it ignores ``concurrency``."""
    return DummyGame(seed)


def enhanced_world(seed: int, concurrency: int = 1) -> EnhancedDummyGame:
    """Three weapons, ``concurrency`` enemies alive at once (entry point ``enhanced``)."""
    return EnhancedDummyGame(seed, concurrency=max(int(concurrency), 1))


def engine_names() -> tuple[str, ...]:
    """The worlds registered in the ``fom.engines`` entry-point group, sorted."""
    return plugins.names(plugins.ENGINES_GROUP)


def _not_callable(obj: object) -> str | None:
    return None if callable(obj) else f"is a {type(obj).__name__}, not a factory of engines"


def make_engine(name: str, seed: int, concurrency: int = 1) -> Engine:
    """Build the world registered as ``name`` (e.g. "dummy", "enhanced"); ConfigError if unknown."""
    factory = plugins.load(plugins.ENGINES_GROUP, name, _not_callable)
    engine = factory(seed, concurrency)  # type: ignore[operator]
    if not isinstance(engine, Engine):
        raise ConfigError(
            f"{plugins.ENGINES_GROUP} plug-in {name!r} made a {type(engine).__name__}, "
            "which does not implement the Engine protocol"
        )
    return engine
