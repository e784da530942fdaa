"""Messages between a driver and the worker that hosts its world (``--world-on-worker``).

``world.host.<worker>``: a WorldOpen, WorldReset, WorldResolve or WorldClose request for the
run's engine, each answered with a WorldSnapshot (WorldOpen's also carries the level).
"""

from __future__ import annotations

from actors.channels.events import LevelInfo
from actors.channels.model import SelfState, StepReport, WorldView
from actors.channels.world import Act, ActResult
from bus import message

__all__ = [
    "WORLD_HOST",
    "WorldClose",
    "WorldOpen",
    "WorldReset",
    "WorldResolve",
    "WorldSnapshot",
]

WORLD_HOST = "world.host"
"""A worker's world service: ``world.host.<worker>``."""


@message("world_host.open")
class WorldOpen:
    """Build the run's engine (``fom.engines.make_engine(world, seed, tips, **options)``)."""

    run: str
    world: str
    seed: int
    tips: int
    options: dict[str, int]


@message("world_host.reset")
class WorldReset:
    """``engine.reset(seed)``."""

    run: str
    seed: int
    seq: int = 0
    """The request's number in its run (from 1; the same when sent again after a NATS
    reconnection): the host carries a number out once and answers it again from memory."""


@message("world_host.resolve")
class WorldResolve:
    """``fom.match.resolve_tick(engine, tick, acts)``: one tick, resolved where the engine is."""

    run: str
    tick: int
    acts: tuple[Act, ...]
    seq: int = 0
    """The request's number in its run (from 1; the same when sent again after a NATS
    reconnection): the host carries a number out once and answers it again from memory."""


@message("world_host.close")
class WorldClose:
    """``engine.close(encounter)``."""

    run: str
    encounter: int
    seq: int = 0
    """The request's number in its run (from 1; the same when sent again after a NATS
    reconnection): the host carries a number out once and answers it again from memory."""


@message("world_host.snapshot")
class WorldSnapshot:
    """What the engine says after a request: its view and the bot's projection for each
    opponent in it; after a WorldResolve, the tick's results (each action's, or the error
    that stopped it) and reports; after a WorldOpen, its level."""

    view: WorldView
    projections: tuple[SelfState, ...]
    results: tuple[ActResult, ...] = ()
    failed: tuple[int, ...] = ()
    errors: tuple[str, ...] = ()
    reports: tuple[StepReport, ...] = ()
    level: LevelInfo | None = None
