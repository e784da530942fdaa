"""Perception: observes the world each tick and tells CoreAgent about opponents nobody fights yet.

The World sends what the bot sees with its clock (``WorldTick.sighting``: the answer to
``Observe``, pushed rather than asked for, which saves a request and its reply every tick).
Perception keeps no memory of its own: what a TIP starts from is the snapshot CoreAgent builds
from the percept (the bot's projection and the opponent as seen), a copy that no other actor
can change.
"""

from __future__ import annotations

from actors.actor import Actor
from actors.channels import Percept, WorldTick
from actors.supervision import NEVER_RESTART
from bus import Envelope

__all__ = ["Perception"]


class Perception(Actor):
    """Publishes what the World says the bot sees as a percept."""

    restart = NEVER_RESTART  # a lost percept would stall the lockstep: a crash ends the run

    topics = ("world.tick",)

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case WorldTick(tick=tick, ended=ended, sighting=sighting):
                view = sighting.view
                await self.publish(
                    "percept",
                    Percept(tick, view.self_state, view.opponents, sighting.projections, ended),
                )
            case other:
                raise TypeError(f"perception cannot handle {type(other).__name__}")
