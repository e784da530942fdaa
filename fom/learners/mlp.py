"""The MLP learner: a small numpy network per pattern whose flattened weights ARE the pattern.

The network maps an encounter observation (distance, both healths, exposure, a constant 1) to
(aim_offset, flank_bias, lead_gain) through one tanh hidden layer: ``y = W2 tanh(W1 x) + b2``.
The pattern's parameter vector is ``[W1.ravel(), W2.ravel(), b2]`` (35 numbers with 4 hidden
units), so the ULP merges what an encounter learned like any other delta: weights + alpha * Δ;
the trigger rule's four shot counts follow (fom/learners/trigger.py, as the fom learner keeps
them: the rest is not conditioned on the observation).

Training targets are the FOM rule's (fom/learners/fom.py), now learned per observation: after
a fired shot the aim output should move by ``lr * error`` (``error`` is the signed miss, so
aim + error is the aim the shot needed); on every tick the flank output should move by
``flank_lr * damage/100 * exposure - flank_decay * flank``; after a fired shot the lead output
should move by the lead rule's step (fom/learners/lead.py). Each wanted output change ``g`` is
made by one normalised gradient step, ``theta += g * J / |J|^2`` with ``J = dy/dtheta``: to
first order the output at this observation moves by exactly ``g`` however large the network,
so the step is stable and the network spreads it over its weights by their influence.

The starting network is fixed (no random draw): W1 is an orthonormal cosine (DCT-II) basis,
W2 and b2 are zero, so every pattern starts at aim_offset 0, flank_bias 0 and lead_gain 0
(LEAD_PRIOR), as the other learners do, and every run and saved file starts from the same weights.
"""

from __future__ import annotations

import math

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError
from fom.hitmodel import ENEMY_HEALTH, SELF_HEALTH
from fom.learners.base import AimDecision, EncounterObservation
from fom.learners.fom import check_rates
from fom.learners.lead import lead_step
from fom.learners.trigger import TRIGGER_PARAMS, count_shot, rests
from fom.patterns import PatternParams

__all__ = ["FEATURES", "HIDDEN", "OUTPUTS", "MlpLearner"]

FEATURES: tuple[str, ...] = ("distance", "self_health", "enemy_health", "exposure", "bias")
"""The network's inputs, in order (distance / 30 m, healths / 100, exposure, 1)."""
HIDDEN = 4
"""Hidden tanh units."""
OUTPUTS: tuple[str, ...] = ("aim_offset", "flank_bias", "lead_gain")
"""The network's outputs, in order."""

_DISTANCE_SCALE = 30.0
_D, _H, _K = len(FEATURES), HIDDEN, len(OUTPUTS)
_W1 = slice(0, _H * _D)
_W2 = slice(_W1.stop, _W1.stop + _K * _H)
_B2 = slice(_W2.stop, _W2.stop + _K)
_AIM, _FLANK, _LEAD = 0, 1, 2
_COUNTS = (_B2.stop, _B2.stop + 1, _B2.stop + 2, _B2.stop + 3)
"""Where the trigger rule's counts follow the weights (TRIGGER_PARAMS' order)."""


def _param_names() -> tuple[str, ...]:
    """``h<i>.<feature>`` (W1), ``<output>.h<i>`` (W2), ``<output>.bias`` (b2), vector order,
    then the trigger rule's shot counts (fom/learners/trigger.py)."""
    w1 = [f"h{i}.{f}" for i in range(_H) for f in FEATURES]
    w2 = [f"{o}.h{i}" for o in OUTPUTS for i in range(_H)]
    return (*w1, *w2, *(f"{o}.bias" for o in OUTPUTS), *TRIGGER_PARAMS)


def _initial_vector() -> np.ndarray:
    """The starting weights: W1 the first HIDDEN rows of an orthonormal DCT-II, W2 = b2 = 0."""
    i = np.arange(1, _H + 1)[:, None]
    j = np.arange(_D)[None, :] + 0.5
    w1 = np.sqrt(2.0 / _D) * np.cos(np.pi * i * j / _D)
    theta = np.zeros(_B2.stop + len(TRIGGER_PARAMS))
    theta[_W1] = w1.ravel()
    return theta


class MlpLearner:
    """Per-encounter normalised SGD on a small MLP; delta() is trained minus starting weights."""

    param_names: tuple[str, ...] = _param_names()

    @classmethod
    def initial_params(cls) -> dict[str, float]:
        """The fixed starting network (see the module docstring)."""
        return dict(zip(cls.param_names, _initial_vector().tolist(), strict=True))

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
        if tuple(params.names) != self.param_names:
            raise ConfigError(
                f"the mlp learner needs its own {len(self.param_names)} parameters as the pattern"
            )
        self.params = params
        self.lr = float(lr)
        self.flank_lr = float(flank_lr)
        self.flank_decay = float(flank_decay)
        self._start = np.array(params.values, dtype=np.float64)
        self._theta = self._start.copy()
        self.w1 = self._theta[_W1].reshape(_H, _D)  # views: training writes into _theta
        self.w2 = self._theta[_W2].reshape(_K, _H)
        self.b2 = self._theta[_B2]
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.compute_flops = 0
        self.shots = 0

    @staticmethod
    def features(obs: EncounterObservation) -> np.ndarray:
        """The network input for one observation (FEATURES order)."""
        return np.array(
            (
                obs.distance / _DISTANCE_SCALE,
                obs.self_health / SELF_HEALTH,
                obs.enemy_health / ENEMY_HEALTH,
                obs.exposure,
                1.0,
            )
        )

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hidden activations and outputs (aim_offset, flank_bias) for input ``x``."""
        h = np.tanh(self.w1 @ x)
        self.compute_flops += 2 * _H * _D + _H + 2 * _K * _H + _K
        return h, self.w2 @ h + self.b2

    def act(self, observation: EncounterObservation) -> AimDecision:
        """The network's aim offset, flank bias (not below 0) and lead gain for this observation,
        and the trigger rule's rest."""
        x = self.features(observation)
        h, y = self.forward(x)
        self._last = (x, h, y)
        rest = rests(*(float(self._theta[i]) for i in _COUNTS))
        return AimDecision(float(y[_AIM]), max(float(y[_FLANK]), 0.0), float(y[_LEAD]), rest)

    def update(self, outcome: ShotOutcome | None, report: StepReport | None) -> None:
        """Move the outputs at the last decision's observation towards the FOM rule's targets;
        count a fired shot for the trigger rule."""
        if self._last is None:
            return
        x, h, y = self._last
        aim = flank = lead = 0.0
        if outcome is not None and outcome.fired and math.isfinite(outcome.error):
            aim = self.lr * outcome.error
            lead = lead_step(outcome.error, outcome.motion, self.lr)
            count_shot(self._theta, _COUNTS, outcome.refire, outcome.hit)
            self.shots += 1
        if report is not None:
            hurt = max(float(report.damage_taken), 0.0) / 100.0 * float(report.exposure)
            flank = self.flank_lr * hurt - self.flank_decay * float(y[_FLANK])
        if aim or flank or lead:
            self._step(x, h, np.array((aim, flank, lead)))

    def _step(self, x: np.ndarray, h: np.ndarray, wanted: np.ndarray) -> None:
        """theta += sum_k wanted[k] * J_k / |J_k|^2, J_k = d y_k / d theta at (x, h)."""
        back = self.w2 * (1.0 - h * h)  # (K, H): d y_k / d (W1 x)
        norm2 = (back * back).sum(axis=1) * (x @ x) + (1.0 + h @ h)  # (K,)
        scale = wanted / norm2
        self.w1 += (scale @ back)[:, None] * x
        self.w2 += scale[:, None] * h
        self.b2 += scale
        self.compute_flops += 2 * _H + 2 * _K * _H + 2 * _H + 2 * _D + 3 * _K
        self.compute_flops += 2 * _K * _H + 2 * _H * _D + 2 * _K * _H + 2 * _K

    def delta(self) -> np.ndarray:
        """Trained weights minus the starting ones."""
        self.compute_flops += self._theta.size
        return self._theta - self._start
