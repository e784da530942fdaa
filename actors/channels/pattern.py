"""Messages on the learning channel: deltas to the ULP and merged parameters back."""

from __future__ import annotations

import numpy as np

from actors.channels.model import PatternParams
from bus import message

__all__ = ["PatternDelta", "PatternUpdated"]


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
    """The parameters of a pattern after a merge (for new TIPs)."""

    params: PatternParams
