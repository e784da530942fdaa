"""An example learner plug-in: sign-SGD on the aim offset, with a parameter layout of its own.

The pattern is (aim_offset, flank_bias, step): after each fired shot the aim moves ``step``
towards the side the shot missed on. ``step`` starts at 0.05 and is never learned (its delta
is 0); it is there so that a run using this learner shows its own parameter names.
"""

from __future__ import annotations

import math

import numpy as np

from fom.learners.base import AimDecision


class SignStepLearner:
    """The learner spec and the learner in one class, as the fom.learners contract allows."""

    param_names = ("aim_offset", "flank_bias", "step")

    @classmethod
    def initial_params(cls) -> dict[str, float]:
        """No aim correction, no flanking, steps of 0.05."""
        return {"aim_offset": 0.0, "flank_bias": 0.0, "step": 0.05}

    def __init__(self, params, rng: np.random.Generator) -> None:
        self._start = np.array(params.values, dtype=np.float64)
        self._theta = self._start.copy()
        self.compute_flops = 0

    def act(self, observation) -> AimDecision:
        """The working aim offset and flank bias."""
        return AimDecision(aim_offset=float(self._theta[0]), flank_bias=float(self._theta[1]))

    def update(self, outcome, report) -> None:
        """One signed step of the aim after a fired shot."""
        if outcome is not None and outcome.fired and math.isfinite(outcome.error):
            self._theta[0] += self._theta[2] * math.copysign(1.0, outcome.error)
            self.compute_flops += 2

    def delta(self) -> np.ndarray:
        """Working minus starting parameters (the step stays put)."""
        return self._theta - self._start
