"""Messages on the world's channels: the clock, observations and actions (``world.*``)."""

from __future__ import annotations

from actors.channels.model import Opponent, SelfState, ShotOutcome, StepReport, WorldView
from bus import message

__all__ = [
    "Act",
    "ActResult",
    "CloseEncounter",
    "Observe",
    "Opponent",
    "SelfState",
    "ShotOutcome",
    "Sighting",
    "StepReport",
    "TickReady",
    "WorldFinished",
    "WorldTick",
    "WorldView",
]


@message("world.clock")
class WorldTick:
    """The world clock moved to ``tick``: perceive and decide (topic ``world.tick``)."""

    tick: int


@message("world.observe")
class Observe:
    """Request for a WorldView; ``unengaged`` leaves out opponents a TIP is already fighting."""

    tick: int
    unengaged: bool


@message("world.sighting")
class Sighting:
    """The reply to Observe: the view and, for each opponent in it, the bot's projection."""

    view: WorldView
    projections: tuple[SelfState, ...]


@message("world.act")
class Act:
    """A TIP's action for one tick of its encounter: one step, an aim correction, fire or hold."""

    encounter: int
    tick: int
    move_to: int
    aim_offset: float
    fire: bool


@message("world.act_result")
class ActResult:
    """The reply to an Act once the tick is resolved: the shot and what the tick did."""

    tick: int
    shot: ShotOutcome
    report: StepReport


@message("world.ready")
class TickReady:
    """CoreAgent has handled the percept of ``tick``; ``engage`` lists encounters it started."""

    tick: int
    engage: tuple[int, ...]


@message("world.close")
class CloseEncounter:
    """End an encounter whose TIP crashed; its partial learning is dropped."""

    encounter: int
    reason: str


@message("world.finished")
class WorldFinished:
    """The world ran its last tick."""

    ticks: int
