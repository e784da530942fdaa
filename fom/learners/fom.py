"""The FOM learner: the seed's per-pattern SGD-style rule, learned locally and merged as a delta.

aim: after every fired shot, ``aim_offset += lr * error`` where error = drift + noise - aim_offset
is the signed miss the shooter sees, so aim_offset is an exponential average of the hidden
drift (stochastic gradient descent on E[error^2] / 2).
flank: ``flank_bias += flank_lr * (damage_taken / 100) * exposure`` on every tick (damage taken
at exposed nodes pushes paths into cover) and ``flank_bias -= flank_decay * flank_bias``
(slow forgetting, so the bias relaxes when fights stop hurting).
lead: after every fired shot, the lead rule of fom/learners/lead.py on ``lead_gain`` (when the
pattern has it): the error's share explained by the target's motion.
trigger: every fired shot is counted with its kind (after a rest, or a refire with the trigger
held) and whether it hit; act() rests the trigger when fom/learners/trigger.py says a rested
shot is worth more (when the pattern has the counts).
delta() is the working parameters minus the starting ones: what this encounter learned.
"""

from __future__ import annotations

import math

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError
from fom.learners.base import AimDecision, AimFlankLayout, EncounterObservation
from fom.learners.lead import lead_step
from fom.learners.trigger import count_shot, rests, shot_counts
from fom.patterns import PatternParams

__all__ = ["FomLearner", "check_rates"]


def check_rates(lr: float, flank_lr: float, flank_decay: float) -> None:
    """ConfigError unless the FOM rule's rates are usable (the mlp learner trains by it too)."""
    if not (0 < lr <= 1 and flank_lr >= 0 and 0 <= flank_decay < 1):
        raise ConfigError("need 0 < lr <= 1, flank_lr >= 0 and 0 <= flank_decay < 1")


class FomLearner(AimFlankLayout):
    """Per-encounter SGD on the pattern's aim_offset and flank_bias, the lead rule on lead_gain,
    the trigger rule's shot counts (other entries untouched)."""

    def __init__(
        self,
        params: PatternParams,
        rng: np.random.Generator | None = None,
        *,
        lr: float = 0.25,
        flank_lr: float = 1.0,
        flank_decay: float = 0.02,
    ) -> None:
        check_rates(lr, flank_lr, flank_decay)
        names = params.names
        if "aim_offset" not in names or "flank_bias" not in names:
            raise ConfigError(f"the fom learner needs aim_offset and flank_bias, got {names}")
        self.params = params
        self.lr = float(lr)
        self.flank_lr = float(flank_lr)
        self.flank_decay = float(flank_decay)
        self._start = np.array(params.values, dtype=np.float64)
        self._theta = self._start.copy()
        self._aim = names.index("aim_offset")
        self._flank = names.index("flank_bias")
        self._lead = names.index("lead_gain") if "lead_gain" in names else None
        self._counts = shot_counts(names)
        self.compute_flops = 0
        self.shots = 0

    @property
    def aim_offset(self) -> float:
        """The working aim offset."""
        return float(self._theta[self._aim])

    @property
    def flank_bias(self) -> float:
        """The working flank bias."""
        return float(self._theta[self._flank])

    @property
    def lead_gain(self) -> float:
        """The working lead gain (0.0 for a pattern without one)."""
        return 0.0 if self._lead is None else float(self._theta[self._lead])

    def act(self, observation: EncounterObservation) -> AimDecision:
        """The working parameters (the rule is model-free: it ignores the observation)."""
        return AimDecision(self.aim_offset, self.flank_bias, self.lead_gain, self.rest)

    @property
    def rest(self) -> bool:
        """Whether the working shot counts say to rest the trigger after each press."""
        where = self._counts
        return where is not None and rests(*(float(self._theta[i]) for i in where))

    def update(self, outcome: ShotOutcome | None, report: StepReport | None) -> None:
        """One SGD step on aim and lead and the shot counted (if a shot fired), and one step on
        flank bias (from the tick's damage)."""
        theta = self._theta
        if outcome is not None and outcome.fired and math.isfinite(outcome.error):
            theta[self._aim] += self.lr * outcome.error
            self.compute_flops += 2
            if self._lead is not None:
                theta[self._lead] += lead_step(outcome.error, outcome.motion, self.lr)
                self.compute_flops += 6
            if self._counts is not None:
                count_shot(theta, self._counts, outcome.refire, outcome.hit)
                self.compute_flops += 2
            self.shots += 1
        if report is not None:
            hurt = max(float(report.damage_taken), 0.0) / 100.0 * float(report.exposure)
            theta[self._flank] += self.flank_lr * hurt - self.flank_decay * theta[self._flank]
            self.compute_flops += 6

    def delta(self) -> np.ndarray:
        """Working parameters minus the starting ones."""
        self.compute_flops += self._theta.size
        return self._theta - self._start
