"""Messages between Perception, CoreAgent and the TIPs (``percept``, ``tip.*``, ``core.*``)."""

from __future__ import annotations

import numpy as np

from actors.channels.model import KnowledgeSnapshot, Opponent, PatternParams, SelfState
from bus import message

__all__ = ["Percept", "SummaryRequest", "TipReport", "TipStart"]


@message("percept")
class Percept:
    """What Perception saw at ``tick``: the bot, the opponents no TIP is fighting yet, and the
    bot's projection on each of their floors (same order)."""

    tick: int
    self_state: SelfState
    opponents: tuple[Opponent, ...]
    projections: tuple[SelfState, ...]


@message("tip.start")
class TipStart:
    """A TIP's start: its encounter, a knowledge snapshot and its pattern's parameters (copies)."""

    encounter: int
    tick: int
    run_seed: int
    weapon: str
    signature: str
    knowledge: KnowledgeSnapshot
    projection: SelfState
    params: PatternParams


@message("tip.report")
class TipReport:
    """A TIP's statistics when it finishes, for CoreAgent's match statistics."""

    tip: str
    encounter: int
    signature: str
    reason: str
    ticks: int
    shots: int
    hits: int
    damage_taken: float
    exposure_sum: float
    compute_flops: int
    latencies_ns: np.ndarray


@message("core.summary_request")
class SummaryRequest:
    """Ask CoreAgent for the run summary (reply: RunSummary)."""

    wall_s: float
