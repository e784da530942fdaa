"""Messages between Perception, CoreAgent and the TIPs (``percept``, ``tip.*``, ``core.*``)."""

from __future__ import annotations

from actors.channels.model import KnowledgeSnapshot, Opponent, PatternParams, SelfState
from bus import message

__all__ = ["Percept", "SummaryRequest", "TipStart"]


@message("percept")
class Percept:
    """What Perception saw at ``tick``: the bot, the opponents no TIP is fighting yet, the bot's
    projection on each of their floors (same order), and the encounters that ended at the
    previous tick (see WorldTick)."""

    tick: int
    self_state: SelfState
    opponents: tuple[Opponent, ...]
    projections: tuple[SelfState, ...]
    ended: tuple[int, ...]


@message("tip.start")
class TipStart:
    """A TIP's start: its encounter, a knowledge snapshot (its projection and its opponent as
    seen) and its pattern's parameters, all copies."""

    encounter: int
    tick: int
    run_seed: int
    weapon: str
    signature: str
    pattern: str
    """Where the encounter's learning goes: its kind's pattern (``signature``), or the one
    pattern its learner learns into (the monolithic baseline's network)."""
    knowledge: KnowledgeSnapshot
    params: PatternParams


@message("core.summary_request")
class SummaryRequest:
    """Ask CoreAgent for the run summary (reply: RunSummary)."""

    wall_s: float
