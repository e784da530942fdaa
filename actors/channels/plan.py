"""Messages on the planner's channel: ``plan.request`` (a PlanProblem) and its PlanChoice reply."""

from __future__ import annotations

from bus import register
from fom.planners import PlanChoice, PlanProblem

__all__ = ["PlanChoice", "PlanProblem"]

register("plan.request", PlanProblem)
register("plan.reply", PlanChoice)
