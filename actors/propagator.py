"""The Universal Learning Propagator: merges TIPs' deltas additively into pattern parameters.

theta <- theta + alpha * delta commutes, so the order deltas arrive in does not matter and no
TIP ever waits for another. The rule is :func:`fom.match.merge_delta`; a non-finite or wrongly
shaped delta is rejected with an event. Every delta is answered with ``pattern.updated``
(merged or not), which is how CoreAgent learns parameters and knows an encounter is settled.
"""

from __future__ import annotations

import logging

import numpy as np

from actors.actor import Actor
from actors.channels import PatternDelta, PatternUpdated, WorldTick
from bus import Envelope
from fom.errors import StateFileError
from fom.match import merge_delta
from fom.patterns import PatternParams, PatternStore, save_patterns

__all__ = ["Propagator"]

log = logging.getLogger("fom.ulp")


class Propagator(Actor):
    """Owns the PatternStore; publishes ``pattern.updated`` after every delta."""

    topics = ("pattern.delta",)
    capacity = 1 << 16

    def __init__(
        self, store: PatternStore, save_path: str | None = None, save_every: int | None = None
    ) -> None:
        self.store = store
        self.save_path = save_path
        self.save_every = save_every
        """Also save at every tick that is a multiple of this (the run then adds ``world.tick``
        to the ULP's topics)."""
        self.save_error: str | None = None

    async def on_start(self) -> None:
        for params in self.store.all().values():  # loaded patterns, for CoreAgent's new TIPs
            await self.publish("pattern.updated", PatternUpdated(params, -1))

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case PatternDelta(signature=sig, delta=delta, tip=tip, encounter=encounter, tick=tick):
                try:
                    params, record = merge_delta(self.store, sig, delta, tip, tick)
                except Exception:  # still answer: CoreAgent waits for every ended encounter
                    await self._answer_anyway(sig, encounter)
                    raise
                await self.publish("pattern.updated", PatternUpdated(params, encounter))
                await self.publish(f"event.{record.TYPE}", record)
            case WorldTick(tick=tick) if self.save_every and tick and tick % self.save_every == 0:
                self._save()
            case WorldTick():
                pass
            case other:
                raise TypeError(f"the ULP cannot handle {type(other).__name__}")

    async def _answer_anyway(self, sig: str, encounter: int) -> None:
        """Answer a delta the merge crashed on with the pattern as it is, or as a new one starts
        if the store cannot even say that; never raise, so the merge's error is the one seen."""
        try:
            try:
                params = self.store.peek(sig)
            except Exception:
                log.exception("the ULP cannot read pattern %r; answering its initial values", sig)
                values = np.array(list(self.store.initial.values()), dtype=np.float64)
                values.setflags(write=False)
                params = PatternParams(sig, self.store.names, values, 0, 0)
            await self.publish("pattern.updated", PatternUpdated(params, encounter))
        except Exception:
            log.exception("the ULP could not answer the delta of encounter %d", encounter)

    async def on_stop(self) -> None:
        self._save()

    def _save(self) -> None:
        """Write the patterns to ``save_path`` (temporary file, then rename); note a failure."""
        if not self.save_path:
            return
        try:
            save_patterns(self.store, self.save_path)
        except (OSError, StateFileError) as exc:
            self.save_error = f"cannot save patterns to {self.save_path}: {exc}"
            log.error(self.save_error)
        else:
            log.info("patterns saved to %s", self.save_path)
