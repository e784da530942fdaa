"""The Actor base class: a mailbox, three hooks and helpers to talk on the bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from actors.supervision import RestartPolicy
from bus import Bus, Envelope, Overflow, Subscription

if TYPE_CHECKING:
    from actors.runtime import Runtime

__all__ = ["Actor", "address_of"]


def address_of(name: str) -> str:
    """The topic every actor receives on, whatever else it subscribes to."""
    return f"actor.{name}"


class Actor:
    """Subclass and override ``receive``; the Runtime runs one task per actor.

    Class attributes configure the actor's mailbox and supervision; ``topics`` are the patterns
    it subscribes to besides its own address. Messages are handled one at a time, in order.
    """

    topics: ClassVar[tuple[str, ...]] = ()
    capacity: ClassVar[int] = 1024
    overflow: ClassVar[Overflow] = Overflow.BLOCK
    restart: ClassVar[RestartPolicy] = RestartPolicy()
    drain_on_stop: ClassVar[bool] = False
    """Handle the frames already in the mailbox before ``on_stop`` (sinks such as the event log)."""

    name: str = ""
    bus: Bus
    runtime: Runtime
    mailbox: Subscription
    taken: list[Envelope]
    """The envelopes the ``receive`` under way took with ``take_waiting``: failed by the runtime
    if the actor crashes; set per instance by the runtime and emptied after each ``receive``."""

    async def on_start(self) -> None:
        """Called before the first message, and again after each supervised restart."""

    async def receive(self, envelope: Envelope) -> None:
        """Handle one message; dispatch on ``envelope.message`` with ``match``."""

    async def on_stop(self) -> None:
        """Called once when the actor stops (or before a restart), bounded by the stop timeout."""

    # -------------------------------------------------------------- helpers

    async def publish(self, topic: str, message: Any) -> int:
        """Publish ``message`` on ``topic`` as this actor."""
        return await self.bus.publish(topic, message, sender=self.name)

    async def request(self, topic: str, message: Any, *, timeout: float) -> Any:
        """Send a request as this actor and return the reply's message."""
        return await self.bus.request(topic, message, timeout=timeout, sender=self.name)

    def reply(self, envelope: Envelope, message: Any) -> bool:
        """Answer a request this actor received."""
        return self.bus.reply(envelope, message, sender=self.name)

    async def tell(self, name: str, message: Any) -> int:
        """Send ``message`` to the actor called ``name``."""
        return await self.bus.publish(address_of(name), message, sender=self.name)

    def take_waiting(self) -> list[Envelope]:
        """Take every envelope already queued in this actor's own mailbox (micro-batching)."""
        taken: list[Envelope] = []
        get = self.mailbox.get_nowait
        while (envelope := get()) is not None:
            taken.append(envelope)
        self.taken = taken
        return taken

    def stop(self) -> None:
        """Stop this actor once the message being handled returns."""
        self.runtime.stop_nowait(self.name)
