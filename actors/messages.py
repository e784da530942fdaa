"""Messages the runtime itself publishes: ``actor.failed``, the event record of a crash.

The record is defined once, with the other event records (``fom.events.records``), so a crash
folded live and one read back from a recording are the same type.
"""

from __future__ import annotations

from bus import register
from fom.events.records import ActorFailed

__all__ = ["ActorFailed"]

register(ActorFailed.TYPE, ActorFailed)
