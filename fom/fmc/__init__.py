"""Fractal Monte Carlo (FMC): a planner that decides by cloning a swarm of walkers.

A swarm of copies of the current (root) state is pushed forward with random actions; walkers
clone onto companions of higher virtual reward, so they gather where reward is high and where
the swarm is sparse, and the decision is drawn from the root actions of the final walkers.
Uniform random shooting at the same budget (Monte Carlo) is the baseline.

- :mod:`fom.fmc.batch`: the Simulator protocol, Decision, the swarm's scaling and clone phase,
  and the planners vectorised over many problems (:func:`plan_batch`, :func:`plan_batch_mc`);
- :mod:`fom.fmc.horizon`: the FractalAI recipe for Atari, samples per decision that adapt so
  the walkers reach the horizon (:func:`plan_to_horizon`, :class:`HorizonPlanner`);
- :mod:`fom.fmc.single`: the one-root planners :class:`FractalMonteCarlo` and
  :class:`MonteCarlo`, their one-group case.

Every public name is importable from ``fom.fmc``.
"""

from __future__ import annotations

from fom.fmc.batch import (
    BatchSimulator,
    Decision,
    SeedLike,
    Simulator,
    clone_targets,
    make_rng,
    plan_batch,
    plan_batch_mc,
    relativize,
)
from fom.fmc.horizon import HorizonPlanner, PartialSimulator, plan_to_horizon
from fom.fmc.single import FractalMonteCarlo, MonteCarlo

__all__ = [
    "BatchSimulator",
    "Decision",
    "FractalMonteCarlo",
    "HorizonPlanner",
    "MonteCarlo",
    "PartialSimulator",
    "SeedLike",
    "Simulator",
    "clone_targets",
    "make_rng",
    "plan_batch",
    "plan_batch_mc",
    "plan_to_horizon",
    "relativize",
]
