"""Perception: observes the world each tick, keeps the KnowledgeBase, publishes percepts."""

from __future__ import annotations

from actors.actor import Actor
from actors.channels import Observe, Percept, Sighting, WorldTick
from bus import Envelope
from fom.knowledge import KnowledgeBase

__all__ = ["Perception"]


class Perception(Actor):
    """Asks the World what the bot sees and tells CoreAgent about opponents nobody fights yet."""

    topics = ("world.tick",)

    def __init__(self, request_timeout: float, memory: int = 4096) -> None:
        self.knowledge = KnowledgeBase(limit=memory)
        self.request_timeout = request_timeout

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case WorldTick(tick=tick):
                sighting: Sighting = await self.request(
                    "world.observe", Observe(tick, unengaged=True), timeout=self.request_timeout
                )
                view = sighting.view
                self.knowledge.update(tick, view.self_state, view.opponents)
                await self.publish(
                    "percept",
                    Percept(tick, view.self_state, view.opponents, sighting.projections),
                )
            case other:
                raise TypeError(f"perception cannot handle {type(other).__name__}")
