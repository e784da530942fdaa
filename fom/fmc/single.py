"""The single-root FMC planners: FractalMonteCarlo and its baseline MonteCarlo.

Each is the one-group case of a batched planner of :mod:`fom.fmc.batch` (``plan_batch``,
``plan_batch_mc``) behind the ``decide()`` call of the FMC contract; FractalMonteCarlo can also
balance its walkers and budget between calls so the swarm's depth tracks the horizon.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fom.fmc.batch import (
    Decision,
    SeedLike,
    Simulator,
    make_rng,
    plan_batch,
    plan_batch_mc,
    swarm_budget,
)

__all__ = ["FractalMonteCarlo", "MonteCarlo"]


class FractalMonteCarlo:
    """FMC planner for one root: ``decide()`` is :func:`plan_batch` with one group.

    With ``balance=True`` the walkers and the sample budget adapt between calls like the
    reference implementation, so the mean depth of the swarm tracks ``horizon``: short of the
    horizon, it first raises the budget (up to ``max_samples``, or ``walkers * horizon``),
    then lowers the number of walkers; past it, it regrows the walkers, then trims the budget.
    In that mode the swarm may look further than ``horizon`` with fewer walkers, never
    spending more than the budget cap.
    """

    def __init__(
        self,
        sim: Simulator[Any],
        walkers: int = 64,
        horizon: int = 16,
        max_samples: int | None = None,
        reward_scale: float = 1.0,
        distance_scale: float = 1.0,
        seed: SeedLike = None,
        balance: bool = False,
    ) -> None:
        """Store the settings; ``seed`` is an int, a SeedSequence, a Generator or None."""
        swarm_budget(walkers, horizon, max_samples)
        self.sim = sim
        self.walkers = walkers
        self.horizon = horizon
        self.max_samples = max_samples
        self.reward_scale = reward_scale
        self.distance_scale = distance_scale
        self.balance = balance
        self.rng = make_rng(seed)
        self._cap = walkers * horizon if max_samples is None else max_samples
        self._walkers = walkers
        self._samples = min(self._cap, walkers * horizon)

    def decide(self) -> Decision:
        """Plan from the simulator's current root and return the decision."""
        walkers, steps, budget = self.walkers, self.horizon, self.max_samples
        if self.balance:
            walkers = min(self._walkers, self._samples)
            steps, budget = max(1, self._samples // walkers), self._samples
        scales = (self.reward_scale, self.distance_scale)
        decision = plan_batch(self.sim, 1, walkers, steps, budget, *scales, rng=self.rng)[0]
        if self.balance:
            self._rebalance(decision.depth / self.horizon)
        return decision

    def _rebalance(self, ratio: float) -> None:
        """Adjust walkers and budget from ratio = mean depth / horizon (reference rule)."""
        if ratio >= 1.0:
            if self._walkers >= self.walkers:
                self._samples = int(np.clip(math.ceil(self._samples / ratio), 2, self._cap))
            else:
                self._walkers = int(np.clip(math.ceil(self._walkers * ratio), 2, self.walkers))
        elif self._samples >= self._cap:
            self._walkers = int(
                np.clip(math.ceil(self._walkers * max(ratio, 0.1)), 2, self.walkers)
            )
        else:
            self._samples = int(np.clip(math.ceil(self._samples / max(ratio, 0.1)), 2, self._cap))


class MonteCarlo:
    """Uniform random shooting with FMC's budget: ``walkers`` independent rollouts of
    ``horizon`` steps from the root (a rollout stops when it dies); ``decide()`` is
    :func:`plan_batch_mc` with one group.

    Decision: the root action of the rollout with the best return, ties broken by the longer
    survival and then by the lower index (root actions are i.i.d., so that is a fair coin).
    In deterministic worlds this is the strongest use of the rollouts: the best one is a real,
    achievable plan. ``samples`` counts the walker-steps actually run (dead rollouts stop).
    """

    def __init__(
        self, sim: Simulator[Any], walkers: int = 64, horizon: int = 16, seed: SeedLike = None
    ) -> None:
        """Store the settings; ``seed`` is an int, a SeedSequence, a Generator or None."""
        swarm_budget(walkers, horizon, None)
        self.sim = sim
        self.walkers = walkers
        self.horizon = horizon
        self.rng = make_rng(seed)

    def decide(self) -> Decision:
        """Roll ``walkers`` random paths out from the root and return the decision."""
        return plan_batch_mc(self.sim, 1, self.walkers, self.horizon, rng=self.rng)[0]
