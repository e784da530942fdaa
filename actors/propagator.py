"""The Universal Learning Propagator: merges TIPs' deltas additively into pattern parameters.

theta <- theta + alpha * delta commutes, so the order deltas arrive in does not matter and no
TIP ever waits for another. A non-finite or wrongly shaped delta is rejected with an event.
"""

from __future__ import annotations

import logging

from actors.actor import Actor
from actors.channels import PatternDelta, PatternMerged, PatternRejected, PatternUpdated
from bus import Envelope
from fom.errors import InvalidDelta, StateFileError
from fom.patterns import PatternStore, save_patterns

__all__ = ["Propagator"]

log = logging.getLogger("fom.ulp")


class Propagator(Actor):
    """Owns the PatternStore; publishes ``pattern.updated`` after every merge."""

    topics = ("pattern.delta",)
    capacity = 1 << 16

    def __init__(self, store: PatternStore, save_path: str | None = None) -> None:
        self.store = store
        self.save_path = save_path
        self.save_error: str | None = None

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case PatternDelta(signature=sig, delta=delta, tip=tip, tick=tick):
                try:
                    params = self.store.merge(sig, delta)
                except InvalidDelta as exc:
                    await self.publish(
                        "event.pattern.rejected", PatternRejected(tick, sig, tip, str(exc))
                    )
                    return
                await self.publish("pattern.updated", PatternUpdated(params))
                await self.publish(
                    "event.pattern.merged",
                    PatternMerged(
                        tick=tick,
                        signature=sig,
                        version=params.version,
                        merges=params.merges,
                        params=params.as_dict(),
                        delta={
                            n: float(v) for n, v in zip(params.names, delta.tolist(), strict=False)
                        },
                    ),
                )
            case other:
                raise TypeError(f"the ULP cannot handle {type(other).__name__}")

    async def on_stop(self) -> None:
        if not self.save_path:
            return
        try:
            save_patterns(self.store, self.save_path)
        except (OSError, StateFileError) as exc:
            self.save_error = f"cannot save patterns to {self.save_path}: {exc}"
            log.error(self.save_error)
        else:
            log.info("patterns saved to %s", self.save_path)
