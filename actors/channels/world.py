"""Messages on the world's channels: the clock, observations and actions (``world.*``)."""

from __future__ import annotations

from actors.channels.model import Opponent, SelfState, ShotOutcome, StepReport, WorldView
from bus import message, register
from fom.match import Act, ActResult

__all__ = [
    "Act",
    "ActBatch",
    "ActBatchResult",
    "ActResult",
    "ActResults",
    "CloseEncounter",
    "Observe",
    "Opponent",
    "SelfState",
    "ShotOutcome",
    "Sighting",
    "StepReport",
    "TickReady",
    "WorldFinished",
    "WorldStalled",
    "WorldTick",
    "WorldView",
]


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


@message("world.clock")
class WorldTick:
    """The world clock moved to ``tick``: perceive and decide (topic ``world.tick``).

    ``ended`` lists the encounters that ended at the previous tick: CoreAgent starts new TIPs
    only once their deltas are merged, so what a new TIP starts from never depends on timing.
    ``sighting`` is what ``Observe(tick, unengaged=True)`` would answer, sent along so that
    Perception need not ask: two messages fewer on every tick's critical path.
    """

    tick: int
    ended: tuple[int, ...]
    sighting: Sighting


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


@message("world.stalled")
class WorldStalled:
    """Tick ``tick`` waited ``waited_s`` seconds for ``waiting_for``: the match stops."""

    tick: int
    waiting_for: str
    waited_s: float


@message("world.finished")
class WorldFinished:
    """The world ran its last tick; ``ended`` lists the encounters that ended at it."""

    ticks: int
    ended: tuple[int, ...] = ()


register("world.act", Act)
register("world.act_result", ActResult)


@message("world.act_batch")
class ActBatch:
    """Many encounters' actions for one tick in one request (those a worker process fights):
    answered with one ActBatchResult once the tick is resolved, not one reply per encounter.
    ``groups``, if given, puts each action in a group (0, 1, ...): the results then come as
    one encoded ActResults block per group, for a relay to pass on without decoding them."""

    acts: tuple[Act, ...]
    groups: tuple[int, ...] = ()


@message("world.act_results")
class ActResults:
    """The results of one group of an ActBatch, in encounter order (a block of its own)."""

    results: tuple[ActResult, ...]


@message("world.act_batch_result")
class ActBatchResult:
    """The reply to ActBatch: the result of each action that played, in encounter order (or,
    with groups, ``blocks``: each group's ActResults, encoded), and for each that could not (a
    closed encounter, an engine error) its encounter and why."""

    results: tuple[ActResult, ...]
    failed: tuple[int, ...] = ()
    errors: tuple[str, ...] = ()
    blocks: tuple[bytes, ...] = ()
