"""The monolithic baseline: ONE small Q-network shared by every pattern, trained synchronously.

The network (numpy, one tanh hidden layer) maps an encounter observation (weapon one-hot,
distance, both healths, exposure) to a Q-value per discretised aim offset. Each decision is
epsilon-greedy; after each fired shot the chosen action's Q-value takes one SGD step towards
the reward (1 for a hit, 0 for a miss): a one-step TD (contextual bandit, gamma = 0) update,
since a shot's outcome does not depend on earlier aim choices. The network learns in place, so
its learners' deltas are zeros; ``compute_flops`` counts its multiply-adds honestly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError
from fom.hitmodel import ENEMY_HEALTH, SELF_HEALTH, WEAPONS
from fom.learners.base import AimDecision, AimFlankLayout, EncounterObservation
from fom.patterns import PatternParams

__all__ = ["MonolithicLearner", "MonolithicQ"]

_DISTANCE_SCALE = 30.0


class MonolithicQ:
    """One Q-network over (weapon one-hot, distance, healths, exposure) -> aim-offset actions."""

    def __init__(
        self,
        rng: np.random.Generator,
        weapons: Sequence[str] = tuple(WEAPONS),
        hidden: int = 32,
        offsets: Sequence[float] | None = None,
        lr: float = 0.05,
        epsilon: float = 0.1,
        q_init: float = 0.5,
    ) -> None:
        if hidden < 1 or not 0 < lr < 1 or not 0 <= epsilon <= 1:
            raise ConfigError("need hidden >= 1, 0 < lr < 1 and 0 <= epsilon <= 1")
        self.weapons = tuple(weapons)
        self.offsets = np.asarray(
            offsets if offsets is not None else np.linspace(-0.6, 0.6, 13), dtype=np.float64
        )
        if self.offsets.ndim != 1 or self.offsets.size < 2:
            raise ConfigError("offsets must be a 1-D sequence of at least two aim offsets")
        self.lr = float(lr)
        self.epsilon = float(epsilon)
        self.n_in = len(self.weapons) + 1 + 5  # one-hot (+ unknown), 4 scalars, bias
        self.n_hidden = int(hidden)
        self.n_out = self.offsets.size
        self.w1 = rng.normal(0.0, 1.0 / np.sqrt(self.n_in), (self.n_hidden, self.n_in))
        self.b1 = np.zeros(self.n_hidden)
        self.w2 = rng.normal(0.0, 0.1 / np.sqrt(self.n_hidden), (self.n_out, self.n_hidden))
        self.b2 = np.full(self.n_out, float(q_init))
        self.compute_flops = 0
        self.updates = 0
        self._weapon_index = {w: i for i, w in enumerate(self.weapons)}
        h, k, d = self.n_hidden, self.n_out, self.n_in
        self.forward_flops = 2 * d * h + 2 * h + 2 * h * k + k  # matvecs, biases, tanh
        self.backward_flops = 3 * h + 2 + 4 * h + 3 * d * h + 2 * h  # one output row, then W1

    def features(self, obs: EncounterObservation) -> np.ndarray:
        """The network input for one observation."""
        x = np.zeros(self.n_in)
        x[self._weapon_index.get(obs.weapon, len(self.weapons))] = 1.0
        base = len(self.weapons) + 1
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
        self.updates += 1
        return td

    def greedy_offset(self, obs: EncounterObservation) -> float:
        """The aim offset the network would pick without exploring (for reports)."""
        q = self.q_values(self.features(obs))
        return float(self.offsets[int(np.argmax(q))])


class MonolithicLearner(AimFlankLayout):
    """A TIP's handle on the shared MonolithicQ: acts through it, trains it after each shot.

    The run makes the one network with ``shared_state``; without it (``shared`` None) the
    learner gets a private network, which is only useful in tests.
    """

    @classmethod
    def shared_state(cls, rng: np.random.Generator) -> MonolithicQ:
        """The run's one network, shared by all its monolithic learners."""
        return MonolithicQ(rng)

    def __init__(
        self,
        params: PatternParams,
        rng: np.random.Generator,
        shared: object | None = None,
    ) -> None:
        if shared is None:
            shared = MonolithicQ(rng)
        if not isinstance(shared, MonolithicQ):
            raise ConfigError(f"shared must be a MonolithicQ, got {type(shared).__name__}")
        self.params = params
        self.net = shared
        self.rng = rng
        self.flank_bias = params.get("flank_bias") if "flank_bias" in params.names else 0.0
        self.compute_flops = 0
        self._pending: tuple[np.ndarray, int] | None = None

    def act(self, observation: EncounterObservation) -> AimDecision:
        """Epsilon-greedy aim offset from the shared network; the pattern's flank bias."""
        before = self.net.compute_flops
        x = self.net.features(observation)
        a = self.net.choose(x, self.rng)
        self.compute_flops += self.net.compute_flops - before
        self._pending = (x, a)
        return AimDecision(aim_offset=float(self.net.offsets[a]), flank_bias=self.flank_bias)

    def update(self, outcome: ShotOutcome | None, report: StepReport | None) -> None:
        """Train the shared network on the last decision's reward (1 hit, 0 miss) if it fired."""
        pending, self._pending = self._pending, None
        if pending is None or outcome is None or not outcome.fired:
            return
        before = self.net.compute_flops
        self.net.learn(pending[0], pending[1], 1.0 if outcome.hit else 0.0)
        self.compute_flops += self.net.compute_flops - before

    def delta(self) -> np.ndarray:
        """Zeros: the monolithic network learns in place, not through the pattern merge."""
        return np.zeros_like(self.params.values, dtype=np.float64)
