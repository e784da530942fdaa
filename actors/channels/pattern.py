"""Messages on the learning channel: deltas to the ULP and merged parameters back."""

from __future__ import annotations

import numpy as np

from actors.channels.model import PatternParams
from bus import message

__all__ = ["CommitDeltas", "PatternDelta", "PatternUpdated"]


@message("pattern.delta")
class PatternDelta:
    """An encounter's additive correction to its pattern's parameters."""

    signature: str
    delta: np.ndarray
    tip: str
    encounter: int
    tick: int


@message("pattern.updated")
class PatternUpdated:
    """A pattern's parameters after the ULP handled ``encounter``'s delta (merged or rejected),
    or as loaded when the run starts (``encounter`` -1)."""

    params: PatternParams
    encounter: int


@message("pattern.commit")
class CommitDeltas:
    """CoreAgent to the ULP: these encounters (of one tick) have all sent their deltas; merge
    them now, in encounter order (:func:`fom.match.merge_ended`), so the parameters never
    depend on the order the deltas arrived in."""

    encounters: tuple[int, ...]
