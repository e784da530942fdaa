"""Learners a TIP can use: the FOM rule, the static baseline, the monolithic Q-network."""

from __future__ import annotations

from fom.learners.base import (
    LEARNERS,
    AimDecision,
    EncounterObservation,
    Learner,
    make_learner,
)
from fom.learners.fom import FomLearner
from fom.learners.monolithic import MonolithicLearner, MonolithicQ
from fom.learners.static import StaticLearner

__all__ = [
    "LEARNERS",
    "AimDecision",
    "EncounterObservation",
    "FomLearner",
    "Learner",
    "MonolithicLearner",
    "MonolithicQ",
    "StaticLearner",
    "make_learner",
]
