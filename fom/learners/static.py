"""The static baseline: plays with the pattern's parameters as given and never learns."""

from __future__ import annotations

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.learners.base import AimDecision, AimFlankLayout, EncounterObservation
from fom.learners.trigger import TRIGGER_PARAMS, rests
from fom.patterns import PatternParams

__all__ = ["StaticLearner"]


class StaticLearner(AimFlankLayout):
    """Never learns: act() returns the starting parameters, delta() is all zeros."""

    def __init__(
        self,
        params: PatternParams,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.params = params
        self.compute_flops = 0
        self._decision = AimDecision(
            aim_offset=_get(params, "aim_offset"),
            flank_bias=_get(params, "flank_bias"),
            lead_gain=_get(params, "lead_gain"),
            rest=rests(*(_get(params, n) for n in TRIGGER_PARAMS)),
        )

    def act(self, observation: EncounterObservation) -> AimDecision:
        """The pattern's parameters, unchanged."""
        return self._decision

    def update(self, outcome: ShotOutcome | None, report: StepReport | None) -> None:
        """Ignore the outcome (the static bot never learns)."""

    def delta(self) -> np.ndarray:
        """Zeros of the pattern's shape."""
        return np.zeros_like(self.params.values, dtype=np.float64)


def _get(params: PatternParams, name: str) -> float:
    """A named parameter, or 0.0 when the pattern does not have it."""
    return params.get(name) if name in params.names else 0.0
