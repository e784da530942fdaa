"""The lead rule every built-in learner uses to learn its pattern's ``lead_gain``.

A TIP aims at the target's bearing plus ``aim_offset`` plus ``lead_gain * motion``, where
``motion`` (ShotOutcome.motion, degrees) is how far the target moves across the bot's view
over the aim's lead horizon (a lead gain of 1 is the geometric lead: aim where the target will
be when the bullet leaves). The shot's signed error then says how much more lead it needed:
after every fired shot ``lead_gain += lr * error * motion / (motion^2 + MOTION_FLOOR)``, the
normalised LMS step on the lead's share of the error (aim_offset takes the constant share).
A target that does not move across the view (motion 0: every simulated world) teaches nothing,
so the gain keeps its starting value there.
"""

from __future__ import annotations

import math

__all__ = ["LEAD_PRIOR", "MOTION_FLOOR", "lead_step"]

LEAD_PRIOR = 0.0
"""The starting lead gain of every built-in learner: no lead (aim where the target is now),
the same uninformed prior as aim_offset's 0; what a lead is worth is for learning to find."""
MOTION_FLOOR = 1.0
"""Degrees squared added to motion^2, so a barely moving target gives a small step."""


def lead_step(error: float, motion: float, lr: float) -> float:
    """The change of lead_gain after one fired shot with signed ``error`` (0.0 if unusable)."""
    if not (math.isfinite(error) and math.isfinite(motion)) or motion == 0.0:
        return 0.0
    return lr * error * motion / (motion * motion + MOTION_FLOOR)
