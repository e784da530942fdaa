"""Registers the pure model's records as bus messages (``fom`` itself does not know the bus)."""

from __future__ import annotations

from bus import register
from fom.engines.base import ShotOutcome, StepReport, WorldView
from fom.knowledge import KnowledgeSnapshot
from fom.patterns import PatternParams
from fom.state import Opponent, SelfState

__all__ = [
    "KnowledgeSnapshot",
    "Opponent",
    "PatternParams",
    "SelfState",
    "ShotOutcome",
    "StepReport",
    "WorldView",
]

register("fom.self_state", SelfState)
register("fom.opponent", Opponent)
register("fom.world_view", WorldView)
register("fom.shot_outcome", ShotOutcome)
register("fom.step_report", StepReport)
register("fom.knowledge_snapshot", KnowledgeSnapshot)
register("fom.pattern_params", PatternParams)
