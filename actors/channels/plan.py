"""Messages on the planner's channel (``plan.request``)."""

from __future__ import annotations

from bus import message

__all__ = ["PlanReply", "PlanRequest"]


@message("plan.request")
class PlanRequest:
    """Plan one tick of an encounter: its state and the pattern knowledge the plan depends on."""

    encounter: int
    tick: int
    weapon: str
    self_node: int
    self_health: float
    enemy_node: int
    enemy_health: float
    aim_offset: float
    flank_bias: float


@message("plan.reply")
class PlanReply:
    """The planner's decision: where to step, whether to fire, and what it cost."""

    move_to: int
    fire: bool
    samples: int
    depth: int
