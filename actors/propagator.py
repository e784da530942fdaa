"""The Universal Learning Propagator: merges TIPs' deltas additively into pattern parameters.

theta <- theta + alpha * delta commutes (up to rounding), and no TIP ever waits for another.
The rule is :func:`fom.match.merge_delta`; a non-finite or wrongly shaped delta is rejected
with an event. Every delta is answered with ``pattern.updated`` (merged or not), which is how
CoreAgent learns parameters and knows an encounter is settled.

``ordered`` (what a run uses): deltas are held until CoreAgent's ``pattern.commit`` names the
encounters of a tick that have all reported, then merged in encounter order
(:func:`fom.match.merge_ended`): the parameters are the same to the last bit whatever order
the deltas arrived in (TIPs on several worker processes). Unordered, each delta is merged as
it comes and commits are ignored.
"""

from __future__ import annotations

import logging

import numpy as np

from actors.actor import Actor
from actors.channels import CommitDeltas, PatternDelta, PatternUpdated, WorldTick
from bus import Envelope
from fom.errors import StateFileError
from fom.match import merge_delta, merge_ended
from fom.patterns import PatternParams, PatternStore, save_patterns

__all__ = ["Propagator"]

log = logging.getLogger("fom.ulp")


class Propagator(Actor):
    """Owns the PatternStore; publishes ``pattern.updated`` after every delta."""

    topics = ("pattern.delta", "pattern.commit")
    capacity = 1 << 16

    def __init__(
        self,
        store: PatternStore,
        save_path: str | None = None,
        save_every: int | None = None,
        *,
        ordered: bool = False,
    ) -> None:
        self.store = store
        self.ordered = ordered
        self._held: dict[int, PatternDelta] = {}
        """Encounter -> its delta, until a commit names it (``ordered``)."""
        self._commits: list[tuple[int, ...]] = []
        """Commits waiting for a delta they name, in the order they came."""
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
            case PatternDelta(encounter=encounter) as held if self.ordered:
                self._held[encounter] = held
                await self._commit()
            case CommitDeltas(encounters=encounters):
                if self.ordered:
                    self._commits.append(encounters)
                    await self._commit()
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

    async def _commit(self) -> None:
        """Merge the waiting commits whose deltas have all come, in order, each in encounter
        order; answer each delta with ``pattern.updated`` and its event."""
        held = self._held
        while self._commits and all(e in held for e in self._commits[0]):
            deltas = [held.pop(e) for e in self._commits.pop(0)]
            rows = [(d.encounter, d.signature, d.delta, d.tip, d.tick) for d in deltas]
            try:
                merged = merge_ended(self.store, rows)
            except Exception:  # still answer: CoreAgent waits for every ended encounter
                for d in deltas:
                    await self._answer_anyway(d.signature, d.encounter)
                raise
            for encounter, params, record in merged:
                await self.publish("pattern.updated", PatternUpdated(params, encounter))
                await self.publish(f"event.{record.TYPE}", record)

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
