"""ViZDoom worlds: ``fom-run --world doom:<scenario or .cfg>``.

The ``fom.engines`` entry point ``doom`` is :func:`doom_world`; ``doom:deadly_corridor`` calls it
with the scenario ``deadly_corridor``. vizdoom is imported only when a game starts.
"""

from __future__ import annotations

from fom.engines.doom.engine import DoomEngine, EpisodeEnd
from fom.engines.doom.floors import FloorFailure, FloorSet
from fom.engines.doom.mapgeom import UNITS_PER_METRE, MapGeometry, level_from_map
from fom.engines.doom.monsters import MONSTERS, MonsterClass, monster_of, weapon_spec
from fom.engines.doom.scenarios import builtin_scenarios, resolve_scenario

DEFAULT_SCENARIO = "deadly_corridor"
"""What ``--world doom`` plays."""
__all__ = [
    "DEFAULT_SCENARIO",
    "MONSTERS",
    "UNITS_PER_METRE",
    "DoomEngine",
    "EpisodeEnd",
    "FloorFailure",
    "FloorSet",
    "MapGeometry",
    "MonsterClass",
    "builtin_scenarios",
    "doom_world",
    "level_from_map",
    "monster_of",
    "resolve_scenario",
    "weapon_spec",
]


def doom_world(
    seed: int,
    concurrency: int = 1,
    scenario: str | None = None,
    *,
    frame_skip: int = 4,
    floors: int = 1,
) -> FloorSet:
    """The ``doom`` world: ``scenario`` is a built-in name or a .cfg path, by default
    DEFAULT_SCENARIO, played on ``floors`` games at once (``concurrency`` is ignored: a body
    fights every monster in sight)."""
    return FloorSet(scenario or DEFAULT_SCENARIO, seed, floors=floors, frame_skip=frame_skip)


def check_argument(scenario: str) -> None:
    """ConfigError (one line, listing the built-in scenarios) unless ``scenario`` resolves."""
    resolve_scenario(scenario)


doom_world.check_argument = check_argument  # type: ignore[attr-defined]
