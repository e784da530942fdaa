"""The monolithic baseline: ONE small Q-network for every kind of fight.

The network (numpy, one tanh hidden layer) maps an encounter observation (weapon one-hot,
distance, both healths, exposure) to a Q-value per discretised aim offset. Each decision is
epsilon-greedy; after each fired shot the chosen action's Q-value takes one SGD step towards
the reward (1 for a hit, 0 for a miss): a one-step TD (contextual bandit, gamma = 0) update,
since a shot's outcome does not depend on earlier aim choices. ``compute_flops`` counts its
multiply-adds honestly.

The network's flattened weights are ONE pattern, ``monolithic/q``, that every encounter learns
into whatever its weapon (``MonolithicLearner.pattern``): an encounter trains its own copy
from the latest merged weights and sends what it learned as a delta, which the ULP merges like
any other. So the baseline is still one network shared by every pattern, but no two actors
share a mutable object: the weights are owned by the ULP and travel as copies. The starting
weights are drawn once from a fixed seed, the same for every run and every saved file.

The pattern ends with one more number, ``lead_gain`` (starting at LEAD_PRIOR), the lead every
monolithic encounter adds (times the target's apparent motion) and learns by the lead rule of
fom/learners/lead.py, as every built-in learner does: the network chooses the aim offset only.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError
from fom.hitmodel import ENEMY_HEALTH, SELF_HEALTH, WEAPONS
from fom.learners.base import AimDecision, EncounterObservation
from fom.learners.lead import LEAD_PRIOR, lead_step
from fom.patterns import PatternParams

__all__ = ["PARAM_NAMES", "PATTERN", "MonolithicLearner", "MonolithicQ"]

_DISTANCE_SCALE = 30.0

PATTERN = "monolithic/q"
"""The one pattern every monolithic encounter learns into."""
WEAPON_NAMES: tuple[str, ...] = tuple(WEAPONS)
HIDDEN = 32
OFFSETS = np.linspace(-0.6, 0.6, 13)
"""The aim offsets the network chooses among."""
Q_INIT = 0.5
LEAD_LR = 0.25
"""Rate of the lead rule (the FOM rule's default lr)."""
_INIT_SEED = 20180101
"""Seed of the one draw of the starting weights (fixed: a pattern's start must never change)."""
_WEAPON_INDEX = {w: i for i, w in enumerate(WEAPON_NAMES)}
_N_IN = len(WEAPON_NAMES) + 1 + 5  # one-hot (+ unknown), 4 scalars, bias
_SHAPES = {"w1": (HIDDEN, _N_IN), "b1": (HIDDEN,), "w2": (OFFSETS.size, HIDDEN),
           "b2": (OFFSETS.size,)}  # fmt: skip


def _param_names() -> tuple[str, ...]:
    """``w1.<i>.<j>``, ``b1.<i>``, ``w2.<k>.<i>``, ``b2.<k>``, in vector order."""
    names: list[str] = []
    for layer, shape in _SHAPES.items():
        names += [f"{layer}." + ".".join(map(str, ix)) for ix in np.ndindex(*shape)]
    return tuple(names)


PARAM_NAMES = (*_param_names(), "lead_gain")
_LEAD = len(PARAM_NAMES) - 1


def _views(vector: np.ndarray) -> tuple[np.ndarray, ...]:
    """(w1, b1, w2, b2) as views into the flat weight vector."""
    views, at = [], 0
    for shape in _SHAPES.values():
        size = int(np.prod(shape))
        views.append(vector[at : at + size].reshape(shape))
        at += size
    return tuple(views)


def _initial_vector() -> np.ndarray:
    """The starting network: small random first-layer weights, Q-values all ``Q_INIT``."""
    rng = np.random.default_rng(_INIT_SEED)
    vector = np.zeros(len(PARAM_NAMES))
    w1, _, w2, b2 = _views(vector)
    w1[:] = rng.normal(0.0, 1.0 / np.sqrt(_N_IN), w1.shape)
    w2[:] = rng.normal(0.0, 0.1 / np.sqrt(HIDDEN), w2.shape)
    b2[:] = Q_INIT
    vector[_LEAD] = LEAD_PRIOR
    return vector


class MonolithicQ:
    """One Q-network over (weapon one-hot, distance, healths, exposure) -> aim-offset actions.

    Its weights live in one flat vector (``vector``), laid out as ``PARAM_NAMES``; ``w1``,
    ``b1``, ``w2`` and ``b2`` are views into it, so training changes the vector in place.
    """

    def __init__(self, weights: np.ndarray, lr: float = 0.05, epsilon: float = 0.1) -> None:
        if not 0 < lr < 1 or not 0 <= epsilon <= 1:
            raise ConfigError("need 0 < lr < 1 and 0 <= epsilon <= 1")
        vector = np.array(weights, dtype=np.float64)
        if vector.shape != (len(PARAM_NAMES),):
            raise ConfigError(f"a monolithic network has {len(PARAM_NAMES)} weights")
        self.vector = vector
        self.offsets = OFFSETS
        self.lr = float(lr)
        self.epsilon = float(epsilon)
        h, d, k = HIDDEN, _N_IN, OFFSETS.size
        self.w1, self.b1, self.w2, self.b2 = _views(vector)
        self.n_in, self.n_hidden, self.n_out = d, h, k
        self.compute_flops = 0
        self.forward_flops = 2 * d * h + 2 * h + 2 * h * k + k  # matvecs, biases, tanh
        self.backward_flops = 3 * h + 2 + 4 * h + 3 * d * h + 2 * h  # one output row, then W1

    def features(self, obs: EncounterObservation) -> np.ndarray:
        """The network input for one observation."""
        x = np.zeros(self.n_in)
        x[_WEAPON_INDEX.get(obs.weapon, len(WEAPON_NAMES))] = 1.0
        base = len(WEAPON_NAMES) + 1
        x[base] = obs.distance / _DISTANCE_SCALE
        x[base + 1] = obs.self_health / SELF_HEALTH
        x[base + 2] = obs.enemy_health / ENEMY_HEALTH
        x[base + 3] = obs.exposure
        x[base + 4] = 1.0
        return x

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hidden activations and Q-values for input ``x``."""
        h = np.tanh(self.w1 @ x + self.b1)
        self.compute_flops += self.forward_flops
        return h, self.w2 @ h + self.b2

    def q_values(self, x: np.ndarray) -> np.ndarray:
        """Q-value of every aim offset for input ``x``."""
        return self._forward(x)[1]

    def choose(self, x: np.ndarray, rng: np.random.Generator) -> int:
        """Epsilon-greedy action index (ties go to the offset nearest zero, then the lowest)."""
        if rng.random() < self.epsilon:
            return int(rng.integers(self.n_out))
        q = self.q_values(x)
        best = np.flatnonzero(q == q.max())
        return int(best[np.argmin(np.abs(self.offsets[best]))])

    def learn(self, x: np.ndarray, action: int, target: float) -> float:
        """One SGD step of Q(x, action) towards ``target``; returns the TD error before it."""
        h, q = self._forward(x)
        td = float(q[action] - target)
        grad_h = td * self.w2[action] * (1.0 - h * h)
        self.w2[action] -= self.lr * td * h
        self.b2[action] -= self.lr * td
        self.w1 -= self.lr * np.outer(grad_h, x)
        self.b1 -= self.lr * grad_h
        self.compute_flops += self.backward_flops
        return td


class MonolithicLearner:
    """An encounter's copy of the one network: acts through it, trains it after each shot."""

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES
    pattern: ClassVar[str] = PATTERN
    """Every encounter learns into this one pattern, whatever its weapon."""

    @classmethod
    def initial_params(cls) -> dict[str, float]:
        """The starting network, drawn once from a fixed seed (see the module docstring)."""
        return dict(zip(PARAM_NAMES, _initial_vector().tolist(), strict=True))

    def __init__(self, params: PatternParams, rng: np.random.Generator) -> None:
        if tuple(params.names) != PARAM_NAMES:
            raise ConfigError(f"the monolithic learner needs its {len(PARAM_NAMES)} weights")
        self.net = MonolithicQ(params.values)
        self.rng = rng
        self._start = self.net.vector.copy()
        self.compute_flops = 0
        self._pending: tuple[np.ndarray, int] | None = None

    def act(self, observation: EncounterObservation) -> AimDecision:
        """Epsilon-greedy aim offset from the network; no flanking (the paper's baseline aims)."""
        before = self.net.compute_flops
        x = self.net.features(observation)
        a = self.net.choose(x, self.rng)
        self.compute_flops += self.net.compute_flops - before
        self._pending = (x, a)
        lead = float(self.net.vector[_LEAD])
        return AimDecision(aim_offset=float(self.net.offsets[a]), flank_bias=0.0, lead_gain=lead)

    def update(self, outcome: ShotOutcome | None, report: StepReport | None) -> None:
        """Train the network on the last decision's reward (1 hit, 0 miss) if it fired."""
        pending, self._pending = self._pending, None
        if pending is None or outcome is None or not outcome.fired:
            return
        before = self.net.compute_flops
        self.net.learn(pending[0], pending[1], 1.0 if outcome.hit else 0.0)
        self.compute_flops += self.net.compute_flops - before + 6
        self.net.vector[_LEAD] += lead_step(outcome.error, outcome.motion, LEAD_LR)

    def delta(self) -> np.ndarray:
        """What this encounter taught the network: its weights now minus at its start."""
        return self.net.vector - self._start
