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
from typing import ClassVar

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
    """Applies a GcPolicy to the process's collector while its runtime runs.

    The collector is global, so tuners that overlap (two runtimes in one process) share it: the
    young threshold is the largest any of them asks for, and CPython's settings come back when
    the last one exits, whatever the order they exit in.
    """

    __slots__ = ("_bucket", "_young", "policy")

    _active: ClassVar[list[GcTuner]] = []
    _saved: ClassVar[tuple[int, int, int] | None] = None
    _froze: ClassVar[bool] = False

    def __init__(self, policy: GcPolicy) -> None:
        self.policy = policy
        self._bucket = -1
        self._young = 0

    def apply(self) -> None:
        """Join the active tuners; the first saves the collector's settings and freezes."""
        cls = GcTuner
        if not cls._active:
            cls._saved = gc.get_threshold()
            if self.policy.freeze and gc.isenabled():
                gc.collect()
                gc.freeze()
                cls._froze = True
        self._young = cls._saved[0] if cls._saved else 0
        cls._active.append(self)

    def resize(self, actors: int) -> None:
        """Follow the number of live actors; the threshold changes only at powers of two."""
        saved = GcTuner._saved
        if actors.bit_length() == self._bucket or saved is None or self not in GcTuner._active:
            return
        self._bucket = actors.bit_length()
        self._young = self.policy.young_threshold(actors, saved[0])
        self._sync()

    def restore(self) -> None:
        """Leave the active tuners; the last puts the collector back as the first found it."""
        cls = GcTuner
        if self not in cls._active:
            return
        cls._active.remove(self)
        self._bucket = -1
        if cls._active:
            self._sync()
            return
        assert cls._saved is not None
        gc.set_threshold(*cls._saved)
        if cls._froze:
            gc.unfreeze()
        cls._saved, cls._froze = None, False

    @staticmethod
    def _sync() -> None:
        saved = GcTuner._saved
        assert saved is not None
        gc.set_threshold(max(t._young for t in GcTuner._active), *saved[1:])
