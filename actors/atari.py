"""The actors of ``fom-fmc``: the game actor owns the real Atari game and plays what the Atari
walker pool plans with FMC on its own emulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from actors.actor import Actor
from actors.channels import AtariPlanReply, AtariPlanRequest, GameFinished, GameStep
from actors.supervision import NEVER_RESTART
from bus import Envelope
from fom.checkpoint import AtariCheckpoint
from fom.engines.atari import AtariSimulator
from fom.errors import RunFailed
from fom.fmc import HorizonPlanner, plan_batch
from fom.streams import PLAN_STREAM

__all__ = ["AtariGame", "AtariWalkerPool"]


class AtariGame(Actor):
    """Plays ``steps`` decisions (or until game over), one plan request per decision.

    The whole game is played in ``on_start``, so the actor is never restarted (a restart would
    go on from a half-played game as if it were new): a crash is kept in ``error`` and, like the
    game's end, asks the runtime to shut down. ``start``: a checkpoint to go on from (its game
    state already in ``game``); ``save`` is handed a checkpoint every ``save_every`` decisions
    (``settings`` and ``walkers``, the swarm's size for the first decision, go into it).
    """

    restart = NEVER_RESTART

    def __init__(
        self,
        game: AtariSimulator,
        *,
        steps: int,
        request_timeout: float,
        settings: dict[str, Any] | None = None,
        walkers: int = 0,
        start: AtariCheckpoint | None = None,
        save: Callable[[AtariCheckpoint], None] | None = None,
        save_every: int = 100,
    ) -> None:
        self.game = game
        self.steps = steps
        self.request_timeout = request_timeout
        self.settings = settings or {}
        self.save = save
        self.save_every = save_every
        self.step = start.step if start is not None else 0
        self.samples = start.samples if start is not None else 0
        self.walkers = start.walkers if start is not None else walkers
        """Walkers the next decision uses, as the walker pool last said."""
        self.wall_s = start.wall_s if start is not None else 0.0
        """Wall time spent on the decisions played (planning and playing each), over every
        session of this game."""
        self.result: GameFinished | None = None
        self.error: str | None = None
        """Why the game stopped before its end (the actor crashed), else None."""

    def checkpoint(self) -> AtariCheckpoint:
        """Where the game stands after the decisions played so far."""
        game = self.game
        return AtariCheckpoint(
            self.settings, self.step, game.export_root(), game.score, self.samples, self.wall_s,
            self.walkers,
        )  # fmt: skip

    def summary(self) -> GameFinished:
        """The game's figures after the decisions played so far."""
        steps, samples, wall = self.step, self.samples, self.wall_s
        return GameFinished(
            tick=steps,
            game=self.game.game,
            score=self.game.score,
            steps=steps,
            game_over=self.game.game_over,
            samples=samples,
            samples_per_step=samples / steps if steps else 0.0,
            walker_steps_per_s=samples / wall if wall > 0 else 0.0,
            wall_s=wall,
        )

    async def on_start(self) -> None:
        try:
            await self._play()
        except RunFailed as exc:  # a checkpoint that cannot be written: one line, no traceback
            self.error = str(exc)
        except Exception as exc:
            self.error = f"the game actor crashed: {type(exc).__name__}: {exc}"
            raise
        finally:
            self.runtime.request_shutdown()

    async def _play(self) -> None:
        game = self.game
        while self.step < self.steps and not game.game_over:
            step, started = self.step, time.perf_counter()
            plan: AtariPlanReply = await self.request(
                "atari.plan", AtariPlanRequest(step, game.export_root()),
                timeout=self.request_timeout,
            )  # fmt: skip
            reward, _ = game.act(plan.action)
            self.step, self.walkers = step + 1, plan.walkers
            self.samples += plan.samples
            self.wall_s += time.perf_counter() - started
            await self.publish(
                "event.atari.step",
                GameStep(
                    tick=step,
                    action=plan.action,
                    reward=reward,
                    score=game.score,
                    lives=game.lives,
                    samples=plan.samples,
                    depth=plan.depth,
                    elapsed_ms=plan.elapsed_ms,
                ),
            )
            if self.save is not None and self.step % self.save_every == 0:
                self.save(self.checkpoint())
        self.result = self.summary()
        await self.publish("event.atari.finished", self.result)

    async def receive(self, envelope: Envelope) -> None:
        raise TypeError(f"the game actor takes no messages, got {type(envelope.message).__name__}")


class AtariWalkerPool(Actor):
    """FMC over an Atari game: plans each decision from the state the game actor sends.

    It runs its own emulator of the same game (and its worker processes, if any), so planning
    never touches the real game. ``adaptive``: the FractalAI recipe's budget
    (:class:`fom.fmc.HorizonPlanner`, ``max_samples`` its cap, default ``walkers * horizon``,
    ``min_walkers`` the fewest it shrinks to, ``start_walkers`` the swarm's size for the first
    decision, from a checkpoint);
    otherwise every walker steps ``horizon`` times (:func:`fom.fmc.plan_batch`).
    """

    topics = ("atari.plan",)

    def __init__(
        self,
        sim: AtariSimulator,
        *,
        walkers: int,
        horizon: int,
        max_samples: int | None,
        seed: int,
        adaptive: bool = False,
        min_walkers: int = 2,
        start_walkers: int | None = None,
    ) -> None:
        self.sim = sim
        self.walkers = walkers
        self.horizon = horizon
        self.max_samples = max_samples
        self.seed = seed
        cap = walkers * horizon if max_samples is None else max_samples
        self.planner = (
            HorizonPlanner(sim, walkers, horizon, cap, min_walkers=min_walkers)
            if adaptive
            else None
        )
        if self.planner is not None and start_walkers is not None:
            if not min_walkers <= start_walkers <= walkers:
                raise ValueError(
                    f"start_walkers must be in [{min_walkers}, {walkers}], got {start_walkers}"
                )
            self.planner.walkers = start_walkers

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case AtariPlanRequest(step=step, state=state):
                started = time.perf_counter()
                self.sim.import_root(state)
                rng = np.random.default_rng(
                    np.random.SeedSequence(self.seed, spawn_key=(PLAN_STREAM, step))
                )
                if self.planner is not None:
                    decision = self.planner.decide(rng)
                else:
                    (decision,) = plan_batch(
                        self.sim, 1, self.walkers, self.horizon, self.max_samples, rng=rng
                    )
                self.reply(
                    envelope,
                    AtariPlanReply(
                        action=int(decision.action),
                        samples=decision.samples,
                        depth=decision.depth,
                        elapsed_ms=(time.perf_counter() - started) * 1e3,
                        walkers=self.planner.walkers if self.planner is not None else self.walkers,
                    ),
                )
            case other:
                raise TypeError(f"the Atari walker pool cannot handle {type(other).__name__}")
