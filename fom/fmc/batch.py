"""The FMC swarm and its Monte Carlo baseline, vectorised over walkers and over problems.

A swarm of ``walkers`` copies of the current (root) state is pushed forward with random
actions. After every step each walker compares its *virtual reward* with a random alive
companion's and may clone onto it, so walkers gather where reward is high and where the
swarm is sparse. Every walker carries the action it took at the root; the decision is the
most common root action among the final walkers (discrete) or their mean (continuous).

:func:`plan_batch` runs ``groups`` FMC problems at once on ``groups * walkers`` rows; the
baseline, uniform random shooting at the same budget, is batched the same way:
:func:`plan_batch_mc`. (The one-root planners of :mod:`fom.fmc.single` are their one-group
case.) Walkers are a struct of arrays (state batch, observations, cumulative rewards, death
flags, root actions, depths); a step of all walkers is a handful of numpy calls whatever their
number.

Randomness: every clone phase draws exactly one uniform per walker for the clone test, and
one more per walker for each of the companion and the distance partner. All draws are made
for the full ``groups x walkers`` grid even after some groups finish, so with a Generator a
group's decision never depends on the other groups when the simulator is deterministic. With
``rng`` a :class:`fom.streams.RowStreams` (one counter-based stream per walker row) every draw,
the simulator's own included (it gets the streams of the rows still running), comes from the
group's rows, so a group's decision is the same alone or in any batch, in any position.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from fom.streams import RowStreams

__all__ = [
    "BatchSimulator",
    "Decision",
    "SeedLike",
    "Simulator",
    "clone_targets",
    "make_rng",
    "plan_batch",
    "plan_batch_mc",
    "relativize",
    "swarm_budget",
]

BatchT = TypeVar("BatchT")
SeedLike = int | np.random.SeedSequence | np.random.Generator | RowStreams | None

EPS = 1e-8
"""Floor of a walker's own virtual reward in the clone probability (avoids dividing by 0)."""


class Simulator(Protocol[BatchT]):
    """What FMC needs from a world: copy the root, act at random, step, observe, gather rows.

    A *batch* is an opaque set of ``n`` states (rows). Rows must be independent: ``step``,
    ``observe`` and ``take`` work row by row, so any per-row context (for example which
    root a row started from) must live inside the batch.
    """

    discrete: bool
    """True when actions are ints (``(n,)`` arrays), False for float vectors ``(n, k)``."""

    def roots(self, n: int) -> BatchT:
        """Return ``n`` copies of the current root state."""
        ...

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``n`` uniformly random actions."""
        ...

    def step(
        self, batch: BatchT, actions: np.ndarray, rng: np.random.Generator
    ) -> tuple[BatchT, np.ndarray, np.ndarray]:
        """Advance every row one step; return (next batch, rewards ``(n,)``, dead ``(n,)`` bool)."""
        ...

    def observe(self, batch: BatchT) -> np.ndarray:
        """Return an ``(n, d)`` float array; Euclidean distances between rows use it."""
        ...

    def take(self, batch: BatchT, index: np.ndarray) -> BatchT:
        """Return the rows ``index`` of ``batch`` (with repetitions): this is cloning."""
        ...


BatchSimulator = Simulator
"""A Simulator used by :func:`plan_batch`: ``roots(groups * walkers)`` returns the roots of
``groups`` problems, rows ``g*walkers .. (g+1)*walkers - 1`` belonging to group ``g``."""


@dataclass(frozen=True, slots=True, eq=False)
class Decision:
    """The outcome of one FMC (or MC) planning call, with diagnostics.

    Equality compares every field (a continuous action by value), so runs can be compared.
    """

    action: Any
    """The chosen action: an ``int`` (discrete) or a float ``np.ndarray`` (continuous)."""
    samples: int
    """Walker-steps (simulator transitions) spent on this decision."""
    walkers: int
    """Number of walkers used."""
    steps: int
    """Number of swarm steps run (each walker moved once per step)."""
    depth: float
    """Mean number of steps the final walkers' paths survived from the root."""
    mean_reward: float
    """Mean cumulative reward since the root of the final walkers."""
    best_reward: float
    """Highest cumulative reward since the root among the final walkers."""
    clone_rate: float
    """Mean fraction of walkers that cloned per clone phase (dead walkers included)."""
    alive_fraction: float
    """Mean fraction of walkers alive right after each step."""
    counts: tuple[int, ...] = ()
    """Discrete only: how many final walkers hold each root action (index = action)."""

    def __eq__(self, other: object) -> bool:
        """Field-wise equality; array actions are compared by value."""
        if not isinstance(other, Decision):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, name), getattr(other, name))
            for name in (f.name for f in fields(self))
        )


def make_rng(seed: SeedLike) -> Any:
    """A Generator from an int, a SeedSequence or None; a Generator or RowStreams as is."""
    if isinstance(seed, (np.random.Generator, RowStreams)):
        return seed
    return np.random.default_rng(seed)


def _rows_rng(gen: Any, rows: np.ndarray | None) -> Any:
    """The rng for a simulator step on ``rows`` (None: all): RowStreams' view of those rows."""
    return gen.rows(rows) if rows is not None and isinstance(gen, RowStreams) else gen


def _check_rows(gen: Any, n: int) -> None:
    """A RowStreams must hold exactly one stream per walker row (budget-shrunk swarms too)."""
    if isinstance(gen, RowStreams) and len(gen) != n:
        raise ValueError(f"rng has {len(gen)} row streams for {n} walker rows (groups x walkers)")


def relativize(x: ArrayLike, mask: np.ndarray | None = None) -> np.ndarray:
    """Map values to positive scores by their z-score along the last axis: the FMC scaling.

    ``z = (x - mean) / std``; the score is ``1 + ln(1 + z)`` where ``z > 0`` and ``exp(z)``
    elsewhere, so it is positive, non-decreasing in ``x`` and 1 at the mean. A row whose
    values are all equal (to a relative 1e-12) maps to ones. With ``mask`` (bool, same shape)
    a row's statistics use only its masked entries; every entry still gets a score.
    """
    values = np.asarray(x, dtype=np.float64)
    if mask is None:
        mean = values.mean(axis=-1, keepdims=True)
        centred = values - mean
        var = (centred * centred).mean(axis=-1, keepdims=True)
    else:
        weight = mask.astype(np.float64)
        count = np.maximum(weight.sum(axis=-1, keepdims=True), 1.0)
        mean = (values * weight).sum(axis=-1, keepdims=True) / count
        centred = values - mean
        var = (centred * centred * weight).sum(axis=-1, keepdims=True) / count
    std = np.sqrt(var)
    flat = std <= 1e-12 * np.abs(mean)
    z = centred / np.where(flat, 1.0, std)
    scores = np.where(z > 0.0, 1.0 + np.log1p(np.abs(z)), np.exp(np.minimum(z, 0.0)))
    return np.where(flat, 1.0, scores)


def clone_targets(
    reward: np.ndarray,
    obs: np.ndarray,
    dead: np.ndarray,
    uniform: np.ndarray,
    clone_uniform: np.ndarray,
    reward_scale: float = 1.0,
    distance_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """One clone phase for ``(groups, walkers)`` walkers: return (clone mask, companion).

    ``reward`` is the reward since the root, ``obs`` ``(groups, walkers, d)`` observations,
    ``dead`` the death flags; every group must hold an alive walker. ``uniform[0]`` picks
    each walker's distance partner and ``uniform[1]`` its companion, both among the alive
    walkers of its group; ``clone_uniform`` is the one clone draw per walker. Virtual reward
    ``VR = rel(R)**reward_scale * rel(d)**distance_scale`` (statistics over alive walkers);
    a walker clones when ``(VR_c - VR_i) / max(VR_i, eps) > u``, and always when dead.
    """
    groups, walkers = dead.shape
    blocks = np.arange(groups)[:, None]
    mask: np.ndarray | None = None
    if dead.any():
        mask = ~dead
        n_alive = mask.sum(axis=1, keepdims=True)
        alive_first = np.argsort(dead, axis=1, kind="stable")
        chosen = np.minimum((uniform * n_alive[None]).astype(np.int64), n_alive[None] - 1)
        pair, companion = alive_first[blocks, chosen[0]], alive_first[blocks, chosen[1]]
    else:
        pair, companion = np.minimum((uniform * walkers).astype(np.int64), walkers - 1)
    diff = obs - obs[blocks, pair]
    distance = np.sqrt(np.einsum("gwd,gwd->gw", diff, diff))
    virtual = relativize(reward, mask) ** reward_scale * relativize(distance, mask) ** (
        distance_scale
    )
    score = (virtual[blocks, companion] - virtual) / np.maximum(virtual, EPS)
    return dead | (score > clone_uniform), companion


def swarm_budget(walkers: int, horizon: int, max_samples: int | None) -> tuple[int, int]:
    """Validate the sizes; return (walkers actually used, swarm steps) for the budget.

    The budget is ``min(max_samples, walkers * horizon)`` walker-steps, spent in whole steps
    of every walker; if it is below ``walkers`` the swarm shrinks to ``budget`` walkers.
    """
    if walkers < 1 or horizon < 1:
        raise ValueError(f"walkers and horizon must be >= 1, got {walkers} and {horizon}")
    budget = walkers * horizon
    if max_samples is not None:
        if max_samples < 1:
            raise ValueError(f"max_samples must be >= 1 or None, got {max_samples}")
        budget = min(budget, max_samples)
    walkers = min(walkers, budget)
    return walkers, budget // walkers


def _decide(roots: np.ndarray, discrete: bool) -> tuple[Any, tuple[int, ...]]:
    """Return the decision of one group: mode of the root actions, or their mean."""
    if discrete:
        counts = np.bincount(roots.astype(np.int64).ravel())
        return int(np.argmax(counts)), tuple(int(c) for c in counts)
    return roots.astype(np.float64).mean(axis=0), ()


def plan_batch(
    sim: Simulator[Any],
    groups: int,
    walkers: int,
    horizon: int,
    max_samples: int | None = None,
    reward_scale: float = 1.0,
    distance_scale: float = 1.0,
    rng: SeedLike = None,
) -> list[Decision]:
    """Run ``groups`` independent FMC problems in one vectorised pass; one Decision each.

    ``sim.roots(groups * walkers)`` must lay the problems out in contiguous blocks of
    ``walkers`` rows (see :data:`BatchSimulator`). Companions and distance partners are
    drawn within a group. Each group spends at most ``min(max_samples, walkers * horizon)``
    walker-steps and stops early when all its walkers are dead. ``rng``: a seed, a Generator,
    or a :class:`fom.streams.RowStreams` with one stream per walker row (then a group's
    Decision is the same in any batch).
    """
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    gen = make_rng(rng)
    walkers, steps = swarm_budget(walkers, horizon, max_samples)
    shape = (groups, walkers)
    _check_rows(gen, groups * walkers)
    batch = sim.roots(groups * walkers)
    running: np.ndarray | None = None  # walker rows of the groups still running (None: all)

    active = np.arange(groups)  # original group of each block of rows still running
    within = np.arange(walkers)[None, :]
    reward = np.zeros(shape)
    depth = np.zeros(shape, dtype=np.int64)
    root: np.ndarray | None = None  # (active, walkers[, k]) root actions

    samples = np.zeros(groups, dtype=np.int64)
    steps_run = np.zeros(groups, dtype=np.int64)
    clone_sum = np.zeros(groups)
    clone_phases = np.zeros(groups, dtype=np.int64)
    alive_sum = np.zeros(groups)
    final: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    for _ in range(steps):
        drawn = sim.sample_actions(groups * walkers, gen)
        actions = _active(drawn.reshape((*shape, *drawn.shape[1:])), active, groups)
        n_active = len(active)
        batch, step_reward, dead_flat = sim.step(
            batch,
            actions.reshape((n_active * walkers, *actions.shape[2:])),
            _rows_rng(gen, running),
        )
        if root is None:
            root = actions
        dead = np.asarray(dead_flat, dtype=bool).reshape(n_active, walkers)
        reward += np.asarray(step_reward, dtype=np.float64).reshape(n_active, walkers)
        depth += ~dead
        alive = ~dead
        n_alive = alive.sum(axis=1)
        samples[active] += walkers
        steps_run[active] += 1
        alive_sum[active] += n_alive / walkers

        # One uniform per walker for each of: distance partner and companion; clone test.
        drawn_u = gen.random((3, groups * walkers)).reshape(3, groups, walkers)
        uniform = _active(drawn_u[:2], active, groups, axis=1)
        clone_u = _active(drawn_u[2], active, groups)

        done = n_alive == 0
        if done.any():
            for pos in np.flatnonzero(done):
                final[int(active[pos])] = (root[pos], reward[pos], depth[pos])
            keep = ~done
            active, reward, depth, root = active[keep], reward[keep], depth[keep], root[keep]
            dead, uniform, clone_u = dead[keep], uniform[:, keep], clone_u[keep]
            if len(active) == 0:
                break
            batch = sim.take(batch, (np.flatnonzero(keep)[:, None] * walkers + within).ravel())
            running = (active[:, None] * walkers + within).ravel()
            n_active = len(active)

        obs = np.asarray(sim.observe(batch), dtype=np.float64).reshape(n_active, walkers, -1)
        clone, companion = clone_targets(
            reward, obs, dead, uniform, clone_u, reward_scale, distance_scale
        )
        clone_sum[active] += clone.mean(axis=1)
        clone_phases[active] += 1
        if clone.any():
            blocks = np.arange(n_active)[:, None]
            source = np.where(clone, companion, within)
            reward = reward[blocks, source]
            depth = depth[blocks, source]
            root = root[blocks, source]
            batch = sim.take(batch, (blocks * walkers + source).ravel())

    for pos, group in enumerate(active):
        assert root is not None
        final[int(group)] = (root[pos], reward[pos], depth[pos])
    return [
        _summary(
            sim.discrete,
            *final[g],
            walkers=walkers,
            samples=int(samples[g]),
            steps=int(steps_run[g]),
            clone_rate=float(clone_sum[g]) / max(int(clone_phases[g]), 1),
            alive_sum=float(alive_sum[g]),
        )
        for g in range(groups)
    ]


def _active(full: np.ndarray, active: np.ndarray, groups: int, axis: int = 0) -> np.ndarray:
    """Keep the blocks of the groups still running (no copy while all of them are)."""
    return full if len(active) == groups else np.take(full, active, axis=axis)


def _summary(
    discrete: bool,
    root: np.ndarray,
    reward: np.ndarray,
    depth: np.ndarray,
    *,
    walkers: int,
    samples: int,
    steps: int,
    clone_rate: float,
    alive_sum: float,
    choice: int | None = None,
) -> Decision:
    """Build one group's Decision from its final walkers and accumulated statistics.

    The action is the mode (discrete) or mean (continuous) of the root actions, unless
    ``choice`` names the walker whose root action is the decision (Monte Carlo's best rollout).
    """
    action, counts = _decide(root, discrete)
    if choice is not None:
        action = int(root[choice]) if discrete else np.asarray(root[choice], dtype=np.float64)
    return Decision(
        action=action,
        samples=samples,
        walkers=walkers,
        steps=steps,
        depth=float(depth.mean()),
        mean_reward=float(reward.mean()),
        best_reward=float(reward.max()),
        clone_rate=clone_rate,
        alive_fraction=alive_sum / max(steps, 1),
        counts=counts,
    )


def plan_batch_mc(
    sim: Simulator[Any],
    groups: int,
    walkers: int,
    horizon: int,
    max_samples: int | None = None,
    rng: SeedLike = None,
) -> list[Decision]:
    """Uniform random shooting for ``groups`` problems at once at FMC's budget; one Decision each.

    Each group rolls ``walkers`` independent random paths of up to ``horizon`` steps out of its
    root (the same contiguous block layout and ``min(max_samples, walkers * horizon)`` budget as
    :func:`plan_batch`, so the two planners spend the same walker-steps); a rollout stops when it
    dies, and ``samples`` counts the walker-steps actually run. Decision: the root action of the
    group's rollout with the best return, ties broken by the longer survival and then by the
    lower index (root actions are i.i.d., so that is a fair coin). Actions are drawn for the full
    ``groups x walkers`` grid every step, so a group's draws never depend on the other groups.
    """
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    gen = make_rng(rng)
    walkers, steps = swarm_budget(walkers, horizon, max_samples)
    n = groups * walkers
    _check_rows(gen, n)
    batch = sim.roots(n)
    rows = np.arange(n)  # original row of each row still running
    ret = np.zeros(n)
    survived = np.zeros(n, dtype=np.int64)
    root: np.ndarray | None = None  # (n[, k]) root actions

    samples = np.zeros(groups, dtype=np.int64)
    steps_run = np.zeros(groups, dtype=np.int64)
    alive_sum = np.zeros(groups)
    for _ in range(steps):
        drawn = sim.sample_actions(n, gen)
        if root is None:
            root = drawn
        actions = drawn if len(rows) == n else drawn[rows]
        batch, step_reward, dead_flat = sim.step(
            batch, actions, _rows_rng(gen, None if len(rows) == n else rows)
        )
        dead = np.asarray(dead_flat, dtype=bool)
        ret[rows] += np.asarray(step_reward, dtype=np.float64)
        survived[rows] += ~dead
        group = rows // walkers
        stepped = np.bincount(group, minlength=groups)
        samples += stepped
        steps_run += stepped > 0
        alive_sum += np.bincount(group, weights=(~dead).astype(np.float64), minlength=groups) / (
            walkers
        )
        if dead.all():
            break
        if dead.any():
            batch = sim.take(batch, np.flatnonzero(~dead))
            rows = rows[~dead]

    assert root is not None
    within = np.tile(np.arange(walkers), groups)
    order = np.lexsort((within, -survived, -ret, np.repeat(np.arange(groups), walkers)))
    best = order[np.arange(groups) * walkers] - np.arange(groups) * walkers
    shape = (groups, walkers)
    roots = root.reshape((*shape, *root.shape[1:]))
    rets, depths = ret.reshape(shape), survived.reshape(shape)
    return [
        _summary(
            sim.discrete,
            roots[g],
            rets[g],
            depths[g],
            walkers=walkers,
            samples=int(samples[g]),
            steps=int(steps_run[g]),
            clone_rate=0.0,
            alive_sum=float(alive_sum[g]),
            choice=int(best[g]),
        )
        for g in range(groups)
    ]
