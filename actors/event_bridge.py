"""EventBridge: forwards every event (and dead letter) of the driver's bus to a NATS bus, on the
same subject, so any NATS client can follow a running match (``event.>``) live."""

from __future__ import annotations

import logging

from actors.actor import Actor
from bus import DEAD_LETTER_TOPIC, Bus, Envelope

__all__ = ["EventBridge"]

log = logging.getLogger("actors.event_bridge")


class EventBridge(Actor):
    """A sink like the EventLog (blocking mailbox, drained on stop) whose output is NATS."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 16
    drain_on_stop = True

    def __init__(self, remote: Bus) -> None:
        self.remote = remote
        self.sent = 0
        """Events handed to NATS (buffered by nats-py while it reconnects)."""
        self.lost = 0
        """Events NATS refused (its reconnect buffer was full, or the connection closed)."""

    async def receive(self, envelope: Envelope) -> None:
        try:
            await self.remote.publish(envelope.topic, envelope.message, sender=envelope.sender)
        except Exception as exc:  # counted, and said once in a while: never a silent drop
            self.lost += 1
            if self.lost == 1 or self.lost % 1000 == 0:
                log.warning("%d event(s) not sent to NATS: %r", self.lost, exc)
            return
        self.sent += 1
