"""Planners: how an encounter chooses its next step and whether to fire.

A planner turns ``PlanProblem`` records (one encounter at one tick) into ``PlanChoice`` records.
``graph`` is flank-biased Dijkstra over the level, cheap enough for a TIP to run itself;
``fmc`` (Fractal Monte Carlo) and ``mc`` (uniform random shooting at FMC's budget) plan over
the encounter simulator and are *pooled*: the walker pool plans every request of a tick in one
vectorised batch. Every plan draws from its own stream keyed by (run seed, encounter, tick), so
a choice never depends on which other requests shared its batch. Planners are found by name
through the ``fom.planners`` entry points (see :mod:`fom.plugins`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from fom.fmc import plan_batch, plan_batch_mc
from fom.level import CanonicalLevel
from fom.planning import HORIZON, TICK_COST, EncounterRoot, EncounterSimulator, decode_action
from fom.streams import RowStreams, plan_keys

__all__ = [
    "REWARD_SCALE",
    "FmcPlanner",
    "GraphPlanner",
    "McPlanner",
    "PlanChoice",
    "PlanProblem",
    "Planner",
    "make_planner",
]


REWARD_SCALE = 3.0
"""FMC's reward exponent in the virtual reward on encounters: the swarm follows the fight's
outcome more than its spread (over 12 seeds in both worlds, 3 beat 1 and 2 on damage dealt per
damage taken; see docs/results.md)."""


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One tick of one encounter to plan: its state and the pattern knowledge it depends on."""

    encounter: int
    tick: int
    weapon: str
    self_node: int
    self_health: float
    enemy_node: int
    enemy_health: float
    aim_offset: float
    flank_bias: float
    lead_gain: float = 0.0
    rest: bool = False
    """Whether the TIP rests the trigger after each press (a planner that fires in the game
    fires so: :func:`fom.engines.base.take_shot`)."""


@dataclass(frozen=True, slots=True)
class PlanChoice:
    """A planner's decision: the step, fire or hold, the path it follows, and what it cost."""

    move_to: int
    fire: bool
    path: tuple[int, ...]
    samples: int = 0
    depth: float = 0.0


@runtime_checkable
class Planner(Protocol):
    """Plans a batch of problems; ``pooled`` planners run in the walker pool, others in the TIP."""

    pooled: ClassVar[bool]

    def plan(
        self, level: CanonicalLevel, problems: Sequence[PlanProblem], seed: int
    ) -> list[PlanChoice]:
        """One choice per problem, in order; a function of the problems and ``seed`` only."""
        ...


class GraphPlanner:
    """Flank-biased Dijkstra: step along the cheapest path to the enemy, always fire."""

    pooled: ClassVar[bool] = False

    def __init__(self, *, walkers: int = 0, horizon: int = 0) -> None:
        """``walkers`` and ``horizon`` are accepted (and ignored) like every planner's."""

    def plan(
        self, level: CanonicalLevel, problems: Sequence[PlanProblem], seed: int
    ) -> list[PlanChoice]:
        """The next node of each problem's shortest path (its own node when it is there)."""
        choices = []
        for p in problems:
            path = tuple(level.shortest_path(p.self_node, p.enemy_node, p.flank_bias))
            choices.append(PlanChoice(path[1] if len(path) > 1 else path[0], True, path))
        return choices


class FmcPlanner:
    """Fractal Monte Carlo over the encounter simulator, every problem of a batch at once.

    ``belief``, ``hold``, ``mean_reward``, ``tick_cost`` and ``flank_penalty`` configure the
    model (see :class:`fom.planning.EncounterSimulator`) and ``reward_scale`` the swarm's
    virtual reward; the defaults are the product's, the others exist for the ablations of
    ``experiments.planners``.
    """

    pooled: ClassVar[bool] = True

    def __init__(
        self,
        *,
        walkers: int = 32,
        horizon: int = HORIZON,
        belief: bool = True,
        hold: bool = False,
        mean_reward: bool = True,
        tick_cost: float = TICK_COST,
        flank_penalty: bool = False,
        reward_scale: float = REWARD_SCALE,
    ) -> None:
        if walkers < 2 or horizon < 1:
            raise ValueError(f"need walkers >= 2 and horizon >= 1, got {walkers}, {horizon}")
        self.walkers = walkers
        self.horizon = horizon
        self.belief = belief
        self.hold = hold
        self.mean_reward = mean_reward
        self.tick_cost = tick_cost
        self.flank_penalty = flank_penalty
        self.reward_scale = reward_scale

    def _search(self, sim: EncounterSimulator, groups: int, streams: RowStreams) -> list:
        return plan_batch(
            sim, groups, self.walkers, self.horizon, reward_scale=self.reward_scale, rng=streams
        )

    def plan(
        self, level: CanonicalLevel, problems: Sequence[PlanProblem], seed: int
    ) -> list[PlanChoice]:
        """One vectorised search over every problem; each draws from its (encounter, tick) key."""
        if not problems:
            return []
        roots = [
            EncounterRoot(
                p.weapon, p.self_node, p.self_health, p.enemy_node, p.enemy_health, p.flank_bias
            )
            for p in problems
        ]
        sim = EncounterSimulator(
            level, roots, self.walkers, belief=self.belief, horizon=self.horizon, hold=self.hold,
            mean_reward=self.mean_reward, tick_cost=self.tick_cost,
            flank_penalty=self.flank_penalty,
        )  # fmt: skip
        keys = plan_keys(
            seed,
            np.fromiter((p.encounter for p in problems), np.int64, len(problems)),
            np.fromiter((p.tick for p in problems), np.int64, len(problems)),
        )
        decisions = self._search(sim, len(problems), RowStreams.for_groups(keys, self.walkers))
        choices = []
        for p, d in zip(problems, decisions, strict=True):
            move_to, fire = decode_action(level, p.self_node, int(d.action), hold=self.hold)
            choices.append(
                PlanChoice(move_to, fire, (p.self_node, move_to), int(d.samples), float(d.depth))
            )
        return choices


class McPlanner(FmcPlanner):
    """Uniform random shooting at FMC's budget: the baseline FMC must beat."""

    def _search(self, sim: EncounterSimulator, groups: int, streams: RowStreams) -> list:
        return plan_batch_mc(sim, groups, self.walkers, self.horizon, rng=streams)


def _planner_problem(obj: object) -> str | None:
    """Why a loaded ``fom.planners`` entry point is not a planner class, or None."""
    if not isinstance(obj, type) or not callable(getattr(obj, "plan", None)):
        return "is not a planner: it must be a class with a plan(level, problems, seed) method"
    if not isinstance(getattr(obj, "pooled", None), bool):
        return "is not a planner: it needs a boolean class attribute `pooled`"
    return None


def make_planner(name: str, *, walkers: int, horizon: int) -> Planner:
    """The planner registered as ``name`` (entry point group ``fom.planners``), configured."""
    from fom.plugins import PLANNERS_GROUP, load

    cls = load(PLANNERS_GROUP, name, _planner_problem)
    return cls(walkers=walkers, horizon=horizon)  # type: ignore[operator]
