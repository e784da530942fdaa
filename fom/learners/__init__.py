"""Learners a TIP can use: the FOM rule, the static baseline, the monolithic Q-network, the MLP.

Each is registered by name in the ``fom.learners`` entry-point group, as a plug-in's would be
(the contract is in fom/learners/base.py).
"""

from __future__ import annotations

from fom.learners.base import (
    AimDecision,
    AimFlankLayout,
    EncounterObservation,
    Learner,
    LearnerSpec,
    check_layout,
    fit_layout,
    learner_names,
    learner_spec,
    learning_pattern,
    make_learner,
    new_store,
    pattern_layout,
)
from fom.learners.fom import FomLearner
from fom.learners.mlp import MlpLearner
from fom.learners.monolithic import MonolithicLearner, MonolithicQ
from fom.learners.static import StaticLearner

__all__ = [
    "AimDecision",
    "AimFlankLayout",
    "EncounterObservation",
    "FomLearner",
    "Learner",
    "LearnerSpec",
    "MlpLearner",
    "MonolithicLearner",
    "MonolithicQ",
    "StaticLearner",
    "check_layout",
    "fit_layout",
    "learner_names",
    "learner_spec",
    "learning_pattern",
    "make_learner",
    "new_store",
    "pattern_layout",
]
