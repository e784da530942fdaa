"""A bridge from one bus to a NATS bus: every frame published on the local bus under the given
patterns is sent on NATS as it is, on the same subject (no decoding, no re-encoding); frames
published ``local_only`` (they came from NATS) are not sent back."""

from __future__ import annotations

import logging

from bus.bus import Bus, Subscription
from bus.mailbox import Mailbox
from bus.nats import NatsBus
from bus.topics import validate_pattern

__all__ = ["Bridge"]

log = logging.getLogger("bus.bridge")


class _Forward(Mailbox):
    """A mailbox that holds nothing: each frame offered goes straight out on NATS."""

    __slots__ = ("bridge",)
    forwards = True

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(1)
        self.bridge = bridge

    def offer(self, frame: bytes) -> bool:
        self.bridge.forward(frame)
        return True


class Bridge:
    """Forwards ``patterns`` from ``local`` to ``remote``; ``close`` stops it (idempotent)."""

    def __init__(self, local: Bus, remote: NatsBus, *patterns: str, name: str = "bridge") -> None:
        for pattern in patterns:
            validate_pattern(pattern)
        self.local = local
        self.remote = remote
        self.sent = 0
        """Frames handed to NATS (nats-py buffers them while it reconnects)."""
        self.lost = 0
        """Frames NATS refused (reconnect buffer full, connection closed): counted, not silent."""
        self._sub = Subscription(local, name, (), _Forward(self))
        local._subs.add(self._sub)
        for pattern in patterns:
            local.add_pattern(self._sub, pattern)

    def forward(self, frame: bytes) -> None:
        """Send one local frame on NATS under its own topic."""
        topic = self.local.codec.topic_of(frame)
        if topic is None:
            self.lost += 1
            return
        self.remote.send_raw(topic, frame, on_error=self._refused)
        self.sent += 1

    def _refused(self, error: Exception) -> None:
        self.sent -= 1
        self.lost += 1
        if self.lost == 1 or self.lost % 1000 == 0:
            log.warning("%d frame(s) not sent to NATS: %r", self.lost, error)

    def close(self) -> None:
        """Stop forwarding (frames already handed over still go out)."""
        self.local.unsubscribe(self._sub)
