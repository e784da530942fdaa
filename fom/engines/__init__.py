"""Worlds the bot plays in: the Engine contract, the dummy worlds and the conformance check.

Worlds are found by name in the ``fom.engines`` entry-point group (see ``fom.plugins``). An
entry point there loads a factory ``(seed: int, concurrency: int) -> Engine``: ``concurrency``
is the number of encounters the run plays at once, which a world may use or ignore.

A world named ``name:argument`` (``doom:deadly_corridor``) is the entry point ``name`` called
with the argument as a third parameter, and the world options (``frame_skip=``) as keywords;
the factory may carry a ``check_argument(argument)`` that raises ConfigError for a bad one, so
a configuration is checked before the run starts (:func:`check_world`).
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
    "check_world",
    "dummy_world",
    "engine_names",
    "enhanced_world",
    "make_engine",
    "split_world",
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


def split_world(name: str) -> tuple[str, str | None]:
    """``doom:deadly_corridor`` -> ("doom", "deadly_corridor"); ``dummy`` -> ("dummy", None)."""
    base, sep, argument = name.partition(":")
    return base, (argument if sep else None)


def _parameterised(base: str, argument: str | None) -> bool:
    """Whether world ``base`` takes an argument (its factory has ``check_argument``); checks
    ``argument`` (ConfigError, one line) or refuses one given to a world that takes none."""
    factory = plugins.load(plugins.ENGINES_GROUP, base, _not_callable)
    check = getattr(factory, "check_argument", None)
    if check is None:
        if argument is not None:
            raise ConfigError(f"world {base!r} takes no argument (got {base}:{argument})")
        return False
    if argument is not None:
        check(argument)
    return True


def check_world(name: str) -> None:
    """ConfigError (one line) unless ``name`` names a registered world, with a usable argument."""
    base, argument = split_world(name)
    plugins.require(plugins.ENGINES_GROUP, base)
    _parameterised(base, argument)


def make_engine(
    name: str, seed: int, concurrency: int = 1, **options: object
) -> Engine:
    """Build the world registered as ``name`` (e.g. "dummy", "enhanced", "doom:basic");
    ConfigError if unknown. ``options`` go to the worlds that take an argument."""
    base, argument = split_world(name)
    factory = plugins.load(plugins.ENGINES_GROUP, base, _not_callable)
    if _parameterised(base, argument):
        engine = factory(seed, concurrency, argument, **options)  # type: ignore[operator]
    else:
        engine = factory(seed, concurrency)  # type: ignore[operator]
    if not isinstance(engine, Engine):
        raise ConfigError(
            f"{plugins.ENGINES_GROUP} plug-in {name!r} made a {type(engine).__name__}, "
            "which does not implement the Engine protocol"
        )
    return engine
