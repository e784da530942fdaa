"""``--planner fmc-engine``: Fractal Monte Carlo over the real game, through save and load.

A walker is a saved game (:meth:`Engine.save_state`); a step restores it, plays one decision of
the encounter (a move to the walker's node or a neighbour, the aim, fire or hold), advances the
game and saves it again, so every walker-step costs a load, a decision's tics and a save. The
reward is the encounter simulator's (:mod:`fom.planning`, the match core's planner): the
monster's health removed (its kill is worth 1) minus the bot's (its death costs 1), minus
TICK_COST a decision while the monster is up. A walker whose bot dies is dead (FMC clones over
it); one whose monster is down, or out of sight for good, keeps what it earned and plays no
more (its kill once counted as a death: the swarm fled its kills and the bot never fired).
When the search is done the game is restored to the root: the match goes on from where it was
(a save reloads the game, which plays one tic of nothing: each plan costs the bot one tic
standing still, the same tic every run, so the run stays deterministic). Far too slow for real
time; it is here to measure what planning over the real game costs (walker-steps per second)
and what it buys.

The planner needs the engine: ``fom.app`` calls :meth:`FmcEnginePlanner.bind` with the run's
engine, and the TIPs plan one after the other between two ticks (the lockstep), while the
World waits for their actions and does not touch the game.

ViZDoom's ``save`` and ``load`` keep Python's GIL while they wait for the game, so the engine's
watchdog thread cannot stop one that a hung game holds: each search runs under the watchdog's
:meth:`~fom.engines.doom.watchdog.Watchdog.bounded`, a timer of its own that kills the game
after :meth:`FmcEnginePlanner.bound_s` (a worker's floor is given up sooner, when one save or
load of it takes ``hang_s``). A game lost in a search (hung, or dead) ends it: the TIP holds
its ground and its fire for that decision, and at the next tick the floor reports the game
(``GameHung``, or how it died) and starts a new one, which closes the encounter
(:meth:`~fom.engines.doom.floors.FloorSet.searching`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from fom.engines.base import take_shot
from fom.errors import ConfigError, GameLost
from fom.fmc import FractalMonteCarlo
from fom.level import CanonicalLevel
from fom.planners import PlanChoice, PlanProblem
from fom.planning import decode_action, tick_reward
from fom.streams import plan_keys

__all__ = ["STEP_S", "EngineSimulator", "FmcEnginePlanner"]

STEP_S = 0.25
"""A walker-step's allowance in a search's time bound (a load, a decision and a save: about
6 ms on deadly_corridor here)."""


class EngineSimulator:
    """FMC's Simulator over an engine's save/restore, for one encounter."""

    discrete = True

    def __init__(self, engine: Any, problem: PlanProblem) -> None:
        self.engine = engine
        self.problem = problem
        self.level: CanonicalLevel = engine.level
        self.n_actions = 2 * self.level.neighbors.shape[1]
        self.root = engine.save_state()
        self.steps = 0
        self.start_hp = max(float(problem.enemy_health), 1.0)

    def roots(self, n: int) -> np.ndarray:
        """Rows of (saved game, bot's node, bot's health, monster's health, over)."""
        rows = np.empty((n, 5), dtype=object)
        rows[:, 0] = [self.root] * n
        rows[:, 1] = self.problem.self_node
        rows[:, 2] = self.problem.self_health
        rows[:, 3] = self.problem.enemy_health
        rows[:, 4] = False
        return rows

    def sample_actions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.integers(0, self.n_actions, size=n)

    def step(self, batch: np.ndarray, actions: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
        engine, e = self.engine, self.problem.encounter
        out = batch.copy()
        reward = np.zeros(len(batch))
        dead = np.zeros(len(batch), dtype=bool)
        for i, (state, node, health, enemy, over) in enumerate(batch.tolist()):
            if over:  # its monster is down (or gone): it holds what it earned
                continue
            engine.restore_state(state)
            target, fire = decode_action(self.level, int(node), int(actions[i]), hold=True)
            dealt = 0.0
            report = None
            try:
                engine.move(e, target)
                engine.look_at(e, self.problem.aim_offset, self.problem.lead_gain)
                if fire:
                    dealt = take_shot(engine, e, self.problem.rest).damage
                reports = engine.advance()
                report = next((r for r in reports if r.encounter == e), None)
            except Exception:  # the encounter ended on this walker's path: a dead walker
                dead[i] = True
            taken = 0.0
            if report is not None:
                taken = max(health - report.self_health, 0.0)
                node, health = report.self_node, report.self_health
                enemy = report.enemy_health
                dead[i] = report.reason in ("died", "closed") or health <= 0
                over = report.done
            up = 0.0 if over else 1.0
            reward[i] = tick_reward(dealt, taken, up, enemy_health=self.start_hp)
            out[i] = (engine.save_state(), node, health, enemy, over)
            self.steps += 1
        return out, reward, dead

    def observe(self, batch: np.ndarray) -> np.ndarray:
        nodes = batch[:, 1].astype(np.intp)
        pos = self.level.positions[nodes]
        return np.column_stack([pos, batch[:, 2].astype(float) / 100.0,
                                batch[:, 3].astype(float) / 100.0])  # fmt: skip

    def take(self, batch: np.ndarray, index: np.ndarray) -> np.ndarray:
        return batch[index]


class FmcEnginePlanner:
    """FMC whose walkers play the real game (see the module docstring)."""

    pooled: ClassVar[bool] = False

    def __init__(self, *, walkers: int = 32, horizon: int = 8) -> None:
        if walkers < 2 or horizon < 1:
            raise ValueError(f"need walkers >= 2 and horizon >= 1, got {walkers}, {horizon}")
        self.walkers, self.horizon = walkers, horizon
        self.engine: Any = None
        self.walker_steps = 0
        self.seconds = 0.0

    def bind(self, engine: Any) -> None:
        """Plan over ``engine`` (it must save and restore states)."""
        self.engine = engine

    def _guarded(self) -> contextlib.ExitStack:
        """One search's time bound and the engine's search mode (see the module docstring),
        as far as the engine has them."""
        stack = contextlib.ExitStack()
        dog = getattr(self.engine, "watchdog", None)
        if dog is not None:
            stack.enter_context(dog.bounded(self.bound_s(dog)))
        searching = getattr(self.engine, "searching", None)
        if searching is not None:
            stack.enter_context(searching())
        return stack

    def bound_s(self, dog: Any) -> float:
        """A search's time bound: the game watchdog's (a worker floor's watchdog speaks within
        its ``timeout_s`` plus ``poll_s``) plus STEP_S per walker-step."""
        return dog.timeout_s + dog.poll_s + STEP_S * self.walkers * self.horizon

    @property
    def walker_steps_per_s(self) -> float:
        """Walker-steps per second over every plan so far."""
        return self.walker_steps / self.seconds if self.seconds > 0 else 0.0

    def plan(self, level: CanonicalLevel, problems: Sequence[PlanProblem], seed: int
             ) -> list[PlanChoice]:  # fmt: skip
        """One FMC search per problem over the game, from its (run seed, encounter, tick) key."""
        if self.engine is None:
            raise ConfigError("the fmc-engine planner needs the run's engine (bind it first)")
        choices = []
        for p in problems:
            t0 = time.perf_counter()
            key = plan_keys(seed, np.array([p.encounter]), np.array([p.tick]))
            rng = np.random.default_rng(np.random.SeedSequence(int(key[0])))
            sim = None
            try:
                with self._guarded():
                    sim = EngineSimulator(self.engine, p)
                    try:
                        decision = FractalMonteCarlo(
                            sim, walkers=self.walkers, horizon=self.horizon, seed=rng
                        ).decide()
                    finally:
                        self.engine.restore_state(sim.root)
            except GameLost:
                choices.append(PlanChoice(p.self_node, False, (p.self_node, p.self_node), 0, 0.0))
                continue
            finally:
                self.walker_steps += sim.steps if sim is not None else 0
                self.seconds += time.perf_counter() - t0
            move_to, fire = decode_action(level, p.self_node, int(decision.action), hold=True)
            choices.append(PlanChoice(move_to, fire, (p.self_node, move_to),
                                      int(decision.samples), float(decision.depth)))  # fmt: skip
        return choices
