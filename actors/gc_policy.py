"""GcPolicy: how a Runtime tunes CPython's cyclic garbage collector while it runs.

A request and its reply live for one round of messages. With a few actors a round is short,
and those objects die in the young generation. With thousands of actors in lockstep, one round
allocates more than CPython's young generations hold (700 objects, then 10 x 700), so everything
in flight is promoted and nearly every round ends in a full collection over the state of every
live actor: at 4096 TIPs that cost a third of the run. Scaling the youngest generation with the
number of live actors keeps one round's objects young, whatever the number of actors.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

__all__ = ["GcPolicy", "GcTuner"]


@dataclass(frozen=True, slots=True)
class GcPolicy:
    """The collector settings a Runtime applies on entry and restores on exit."""

    young_per_actor: int = 16
    """Size of the youngest generation per live actor, rounded up to a power of two of actors;
    never below CPython's own threshold."""
    freeze: bool = True
    """Move the objects alive when the runtime starts (modules, configuration, the world) out
    of the collector's sight with ``gc.freeze``, so full collections skip them."""

    def __post_init__(self) -> None:
        if self.young_per_actor < 0:
            raise ValueError(f"young_per_actor must be >= 0, got {self.young_per_actor}")

    def young_threshold(self, actors: int, floor: int) -> int:
        """The youngest generation's threshold for ``actors`` live actors."""
        return max(floor, self.young_per_actor << max(actors, 1).bit_length())


class GcTuner:
    """Applies a GcPolicy to the process's collector, follows the actor count, restores it."""

    __slots__ = ("_bucket", "_froze", "_saved", "policy")

    def __init__(self, policy: GcPolicy) -> None:
        self.policy = policy
        self._saved: tuple[int, ...] | None = None
        self._bucket = -1
        self._froze = False

    def apply(self) -> None:
        """Save the collector's settings and freeze the objects alive now (if asked)."""
        self._saved = gc.get_threshold()
        if self.policy.freeze and gc.isenabled():
            gc.collect()
            gc.freeze()
            self._froze = True

    def resize(self, actors: int) -> None:
        """Follow the number of live actors; the threshold changes only at powers of two."""
        if self._saved is None or actors.bit_length() == self._bucket:
            return
        self._bucket = actors.bit_length()
        young, *older = self._saved
        gc.set_threshold(self.policy.young_threshold(actors, young), *older)

    def restore(self) -> None:
        """Put the collector back as ``apply`` found it."""
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        if self._froze:
            gc.unfreeze()
        self._saved, self._bucket, self._froze = None, -1, False
