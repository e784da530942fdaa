"""FMC as the FractalAI recipe plays Atari: samples per decision that adapt to the horizon.

One decision (:func:`plan_to_horizon`) runs the swarm in *iterations*. The first iteration
steps every walker from the root with a random action (its root action). Each later iteration
is a clone phase followed by a step of the walkers that did not clone:

- the clone phase is :func:`fom.fmc.batch.clone_targets` (virtual reward from relativized reward
  and distance, one random alive companion per walker; the dead always clone); a walker that
  clones jumps to its companion's leaf (state, observation, reward, depth, root action) and is
  **not stepped** in that iteration, so it costs no sample (the reference's rule);
- every walker that did not clone takes one step with a random action (its depth grows by 1).

Samples (walker-steps, i.e. emulator transitions) are counted exactly. The decision stops as soon
as, after an iteration, (a) the mean depth of the alive walkers reaches ``horizon``, or (b) the
next iteration would pass the cap ``max_samples`` (the last iteration steps only as many movers
as the cap leaves, lowest index first), or (c) every walker is dead. So samples per decision
adjust themselves: few when the swarm flows freely to the horizon, up to the cap when it keeps
dying or cloning. The action is the most common root action of the alive final walkers (all of
them when none is alive), ties going to the action whose walkers hold the best reward.

Between decisions :class:`HorizonPlanner` adapts the number of walkers with the reference's
feedback on ``balance = mean depth / horizon``: a decision that hit the cap short of the horizon
shrinks the swarm to ``ceil(walkers * balance)`` (fewer, deeper walkers next time), one that
reached the horizon with fewer walkers than the maximum grows it to ``ceil(walkers * balance)``
(at least one more), both within ``[min_walkers, max walkers]``. ``min_walkers`` is 2 by
default, the reference's floor; a game whose walkers die together at a point of no return wants
more: in Pong, where a swarm stuck behind a ball it cannot reach hits the cap short of the
horizon decision after decision, the floor of 2 let it collapse to 2 walkers, too few to find
the returns that were still there (``min_walkers = walkers``, no shrinking, won its points;
Boxing plays better with the shrinking). A decision where every walker died says nothing about
the budget and leaves the swarm as it is (the reference shrank it).

Randomness: every iteration draws one action per walker and three uniforms per walker whatever
clones, so the draws never depend on the simulator's outcome layout; a simulator stepped in
several processes gives the same decision as one stepped in one.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, TypeVar

import numpy as np

from fom.fmc.batch import Decision, SeedLike, Simulator, clone_targets, make_rng

__all__ = ["HorizonPlanner", "PartialSimulator", "plan_to_horizon"]

BatchT = TypeVar("BatchT")


class PartialSimulator(Simulator[BatchT], Protocol):
    """A Simulator that can also write rows back, so only some walkers step in an iteration."""

    def put(self, batch: BatchT, index: np.ndarray, rows: BatchT) -> BatchT:
        """Return ``batch`` with its rows ``index`` replaced by the rows of ``rows``, in order."""
        ...


def _check(walkers: int, horizon: int, max_samples: int) -> None:
    """Raise ValueError for sizes the swarm cannot run with."""
    if walkers < 2 or horizon < 1:
        raise ValueError(f"walkers must be >= 2 and horizon >= 1, got {walkers} and {horizon}")
    if max_samples < walkers:
        raise ValueError(f"max_samples must be >= walkers ({walkers}), got {max_samples}")


def plan_to_horizon(
    sim: PartialSimulator[Any],
    walkers: int,
    horizon: int,
    max_samples: int,
    reward_scale: float = 1.0,
    distance_scale: float = 1.0,
    rng: SeedLike = None,
) -> Decision:
    """One discrete decision from ``sim``'s root with the recipe's adaptive budget (see module).

    ``samples`` in the Decision never exceeds ``max_samples``; ``depth`` is the mean depth of
    the alive final walkers (of all of them when every walker is dead).
    """
    _check(walkers, horizon, max_samples)
    gen = make_rng(rng)
    every = np.arange(walkers)
    batch = sim.roots(walkers)
    root = np.asarray(sim.sample_actions(walkers, gen))
    batch, step_reward, dead_flat = sim.step(batch, root, gen)
    reward = np.asarray(step_reward, dtype=np.float64).copy()
    dead = np.asarray(dead_flat, dtype=bool).copy()
    depth = np.ones(walkers, dtype=np.int64)
    samples, iterations = walkers, 1
    clone_sum, alive_sum = 0.0, float((~dead).mean())
    while True:
        alive = ~dead
        if not alive.any() or depth[alive].mean() >= horizon or samples >= max_samples:
            break
        uniforms = gen.random((3, walkers))
        actions = np.asarray(sim.sample_actions(walkers, gen))
        obs = np.asarray(sim.observe(batch), dtype=np.float64)
        clone, companion = clone_targets(
            reward[None], obs[None], dead[None], uniforms[:2, None], uniforms[2][None],
            reward_scale, distance_scale,
        )  # fmt: skip
        clone, companion = clone[0], companion[0]
        clone_sum += float(clone.mean())
        if clone.any():
            source = np.where(clone, companion, every)
            batch = sim.take(batch, source)
            reward, depth, root, dead = reward[source], depth[source], root[source], dead[source]
        movers = np.flatnonzero(~clone)[: max_samples - samples]
        moved, step_reward, dead_flat = sim.step(sim.take(batch, movers), actions[movers], gen)
        batch = sim.put(batch, movers, moved)
        reward[movers] += np.asarray(step_reward, dtype=np.float64)
        dead[movers] = np.asarray(dead_flat, dtype=bool)
        depth[movers] += 1
        samples += len(movers)
        iterations += 1
        alive_sum += float((~dead).mean())
    alive = ~dead
    keep = alive if alive.any() else np.ones(walkers, dtype=bool)
    return Decision(
        action=_vote(root[keep], reward[keep]),
        samples=samples,
        walkers=walkers,
        steps=iterations,
        depth=float(depth[keep].mean()),
        mean_reward=float(reward[keep].mean()),
        best_reward=float(reward[keep].max()),
        clone_rate=clone_sum / max(iterations - 1, 1),
        alive_fraction=alive_sum / iterations,
        counts=tuple(int(c) for c in np.bincount(root[keep].astype(np.int64))),
    )


def _vote(root: np.ndarray, reward: np.ndarray) -> int:
    """The most common root action; a tie goes to the best reward held, then the lowest index."""
    actions = root.astype(np.int64)
    counts = np.bincount(actions)
    best = np.full(len(counts), -np.inf)
    np.maximum.at(best, actions, reward)
    order = np.lexsort((np.arange(len(counts)), -best, -counts))
    return int(order[0])


class HorizonPlanner:
    """:func:`plan_to_horizon` with the walkers adapted between decisions (see module).

    ``walkers`` is the maximum (and the first decision's) number of walkers; ``max_samples`` the
    cap on walker-steps per decision; ``min_walkers`` the fewest the swarm shrinks to (the
    reference's 2 by default). ``decide(rng)`` plans one decision from ``sim``'s root.
    """

    def __init__(
        self,
        sim: PartialSimulator[Any],
        walkers: int,
        horizon: int,
        max_samples: int,
        reward_scale: float = 1.0,
        distance_scale: float = 1.0,
        adapt_walkers: bool = True,
        min_walkers: int = 2,
    ) -> None:
        """Check and store the settings."""
        _check(walkers, horizon, max_samples)
        if not 2 <= min_walkers <= walkers:
            raise ValueError(f"min_walkers must be in [2, walkers={walkers}], got {min_walkers}")
        self.sim = sim
        self.max_walkers = walkers
        self.horizon = horizon
        self.max_samples = max_samples
        self.scales = (reward_scale, distance_scale)
        self.adapt_walkers = adapt_walkers
        self.walkers = walkers
        """Walkers the next decision uses."""
        self.min_walkers = min_walkers
        """The fewest walkers the swarm shrinks to."""

    def decide(self, rng: SeedLike = None) -> Decision:
        """Plan one decision, then adapt the walkers for the next."""
        decision = plan_to_horizon(
            self.sim, self.walkers, self.horizon, self.max_samples, *self.scales, rng=rng
        )
        if self.adapt_walkers:
            self._adapt(decision)
        return decision

    def _adapt(self, decision: Decision) -> None:
        """The reference's feedback on the number of walkers; an all-dead decision (stopped
        short of both the horizon and the cap) leaves it alone."""
        balance = decision.depth / self.horizon
        reached = balance >= 1.0
        if decision.samples >= self.max_samples and not reached:
            self.walkers = int(
                np.clip(math.ceil(self.walkers * balance), self.min_walkers, self.max_walkers)
            )
        elif reached and self.walkers < self.max_walkers:
            grown = max(math.ceil(self.walkers * balance), self.walkers + 1)
            self.walkers = min(grown, self.max_walkers)
