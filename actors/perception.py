"""Perception: observes the world each tick and tells CoreAgent about opponents nobody fights yet.

It keeps no memory of its own: what a TIP starts from is the snapshot CoreAgent builds from the
percept (the bot's projection and the opponent as seen), a copy that no other actor can change.
"""

from __future__ import annotations

from actors.actor import Actor
from actors.channels import Observe, Percept, Sighting, WorldTick
from actors.supervision import NEVER_RESTART
from bus import Envelope

__all__ = ["Perception"]


class Perception(Actor):
    """Asks the World what the bot sees and publishes it as a percept."""

    restart = NEVER_RESTART  # a lost percept would stall the lockstep: a crash ends the run

    topics = ("world.tick",)

    def __init__(self, request_timeout: float) -> None:
        self.request_timeout = request_timeout

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case WorldTick(tick=tick, ended=ended):
                sighting: Sighting = await self.request(
                    "world.observe", Observe(tick, unengaged=True), timeout=self.request_timeout
                )
                view = sighting.view
                await self.publish(
                    "percept",
                    Percept(tick, view.self_state, view.opponents, sighting.projections, ended),
                )
            case other:
                raise TypeError(f"perception cannot handle {type(other).__name__}")
