"""The Learner protocol, its observation and decision types, and the learner factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError
from fom.patterns import PatternParams

__all__ = ["LEARNERS", "AimDecision", "EncounterObservation", "Learner", "make_learner"]

LEARNERS: tuple[str, ...] = ("fom", "static", "monolithic")


@dataclass(frozen=True, slots=True)
class AimDecision:
    """What a learner decides for the next shot: the aim correction and the path's flank bias."""

    aim_offset: float
    flank_bias: float


@dataclass(frozen=True, slots=True)
class EncounterObservation:
    """What a TIP knows about its fight when it decides (one tick of one encounter)."""

    encounter: int
    weapon: str
    self_node: int
    enemy_node: int
    distance: float
    self_health: float
    enemy_health: float
    exposure: float


@runtime_checkable
class Learner(Protocol):
    """A per-encounter learner: decide, learn from each tick, hand back an additive delta."""

    compute_flops: int

    def act(self, observation: EncounterObservation) -> AimDecision:
        """Decide the aim offset and flank bias for this tick."""
        ...

    def update(self, outcome: ShotOutcome, report: StepReport) -> None:
        """Learn from one tick: the shot (maybe not fired) and what the tick did to us."""
        ...

    def delta(self) -> np.ndarray:
        """The change to merge into the pattern (same shape as its values)."""
        ...


def make_learner(
    kind: str,
    params: PatternParams,
    rng: np.random.Generator,
    shared: object | None = None,
) -> Learner:
    """Build a learner of ``kind`` ("fom", "static", "monolithic") starting from ``params``.

    ``shared`` is the run's one MonolithicQ for "monolithic" learners (a private one is made
    when None); other kinds ignore it.
    """
    if kind == "fom":
        from fom.learners.fom import FomLearner

        return FomLearner(params, rng)
    if kind == "static":
        from fom.learners.static import StaticLearner

        return StaticLearner(params, rng)
    if kind == "monolithic":
        from fom.learners.monolithic import MonolithicLearner, MonolithicQ

        if shared is None:
            shared = MonolithicQ(rng)
        if not isinstance(shared, MonolithicQ):
            raise ConfigError(f"shared must be a MonolithicQ, got {type(shared).__name__}")
        return MonolithicLearner(params, rng, shared)
    raise ConfigError(f"unknown learner {kind!r}; choose one of {', '.join(LEARNERS)}")
