"""The Learner protocol, its observation and decision types, and the learner registry.

Learners are found by name in the ``fom.learners`` entry-point group (see ``fom.plugins``).
An entry point there loads a *learner spec* (LearnerSpec), usually the learner class itself:

- ``param_names``: the names of a pattern's parameters for this learner, in vector order; the
  run's PatternStore is made with them (``new_store``) and every delta has their length;
- ``initial_params()``: the values a new pattern starts with, as {name: value} (missing names
  start at 0.0); it must return the same values every time (they are saved with the patterns);
- ``spec(params, rng)``: a Learner for one encounter starting from the pattern ``params``,
  drawing randomness only from ``rng`` (the encounter's own stream);
- optionally ``pattern``: the one pattern every encounter of this learner learns into (the
  monolithic baseline's network); without it an encounter learns into its own kind's pattern,
  ``combat/<weapon>``. Learners never share objects: what they share goes through the ULP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from fom import plugins
from fom.engines.base import ShotOutcome, StepReport
from fom.errors import ConfigError, StateFileError
from fom.learners.lead import LEAD_PRIOR
from fom.patterns import PARAM_NAMES, PatternParams, PatternStore

__all__ = [
    "AimDecision",
    "AimFlankLayout",
    "EncounterObservation",
    "Learner",
    "LearnerSpec",
    "check_layout",
    "fit_layout",
    "learner_names",
    "learner_spec",
    "learning_pattern",
    "make_learner",
    "new_store",
    "pattern_layout",
]


@dataclass(frozen=True, slots=True)
class AimDecision:
    """What a learner decides for the next shot: the aim correction, the path's flank bias,
    the lead gain (times the target's apparent motion, added to the aim; fom/learners/lead.py)
    and whether to rest the trigger after each press (fom/learners/trigger.py)."""

    aim_offset: float
    flank_bias: float
    lead_gain: float = 0.0
    rest: bool = False


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
        """Decide the aim offset, flank bias, lead gain and trigger rest for this tick."""
        ...

    def update(self, outcome: ShotOutcome, report: StepReport) -> None:
        """Learn from one tick: the shot (maybe not fired) and what the tick did to us."""
        ...

    def delta(self) -> np.ndarray:
        """The change to merge into the pattern (same shape as its values)."""
        ...


class LearnerSpec(Protocol):
    """What a ``fom.learners`` entry point loads (see the module docstring)."""

    param_names: tuple[str, ...]

    def initial_params(self) -> Mapping[str, float]:
        """The starting value of each parameter of a new pattern."""
        ...

    def __call__(
        self, params: PatternParams, rng: np.random.Generator
    ) -> Learner:
        """A learner for one encounter."""
        ...


class AimFlankLayout:
    """The layout of the built-in rules: a pattern is (aim_offset, flank_bias, lead_gain) and
    the trigger rule's shot counts (fom/learners/trigger.py), all from 0 (LEAD_PRIOR)."""

    param_names: ClassVar[tuple[str, ...]] = PARAM_NAMES

    @classmethod
    def initial_params(cls) -> dict[str, float]:
        """Every parameter starts at 0.0 (no aim correction, no flanking, no lead, no shots)."""
        return dict.fromkeys(cls.param_names, 0.0) | {"lead_gain": LEAD_PRIOR}


def _spec_problem(obj: object) -> str | None:
    """Why ``obj`` is not a learner spec (None if it is one)."""
    names = getattr(obj, "param_names", None)
    if not isinstance(names, tuple) or not names or not all(isinstance(n, str) for n in names):
        return "is not a learner: it needs param_names, a non-empty tuple of str"
    if len(set(names)) != len(names):
        return f"is not a learner: its param_names repeat a name: {names}"
    if not callable(getattr(obj, "initial_params", None)):
        return "is not a learner: it has no initial_params()"
    if not callable(obj):
        return "is not a learner: it cannot be called to make one"
    return None


def learner_names() -> tuple[str, ...]:
    """The learners registered in the ``fom.learners`` entry-point group, sorted."""
    return plugins.names(plugins.LEARNERS_GROUP)


def learner_spec(name: str) -> LearnerSpec:
    """The spec registered as ``name``; ConfigError if unknown, broken or of the wrong kind."""
    return plugins.load(plugins.LEARNERS_GROUP, name, _spec_problem)  # type: ignore[return-value]


def pattern_layout(name: str) -> tuple[tuple[str, ...], dict[str, float]]:
    """The parameter names of learner ``name``'s patterns and their starting values."""
    spec = learner_spec(name)
    names = tuple(spec.param_names)
    try:
        raw = dict(spec.initial_params())
        initial = {str(k): float(v) for k, v in raw.items()}
    except Exception as exc:  # a plug-in's initial_params may fail in any way
        cause = " ".join(str(exc).split())
        raise ConfigError(
            f"learner {name!r}: initial_params() failed: {type(exc).__name__}: {cause}"
        ) from exc
    unknown = sorted(set(initial) - set(names))
    if unknown:
        raise ConfigError(f"learner {name!r}: initial_params() names unknown parameters {unknown}")
    if not all(np.isfinite(v) for v in initial.values()):
        raise ConfigError(f"learner {name!r}: initial_params() gives non-finite values")
    return names, {n: initial.get(n, 0.0) for n in names}


def new_store(name: str, alpha: float) -> PatternStore:
    """An empty PatternStore laid out for learner ``name``, merging at rate ``alpha``."""
    names, initial = pattern_layout(name)
    return PatternStore(alpha=alpha, names=names, initial=initial)


def _describe(names: tuple[str, ...]) -> str:
    """A short description of a parameter list for one-line messages."""
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return f"{len(names)} parameter(s) ({shown})"


def check_layout(name: str, names: tuple[str, ...], source: str) -> None:
    """StateFileError unless patterns read from ``source`` have learner ``name``'s parameters."""
    wanted = tuple(learner_spec(name).param_names)
    if tuple(names) != wanted:
        raise StateFileError(
            f"pattern file {source} holds {_describe(tuple(names))}, but learner {name!r} "
            f"needs {_describe(wanted)}: it was saved by a run with another learner"
        )


def fit_layout(name: str, store: PatternStore, source: str) -> PatternStore:
    """Patterns read from ``source`` laid out for learner ``name``: as they are, or, when they
    predate parameters the learner has appended since (its names begin with the file's),
    widened with each new one at the learner's starting value. Otherwise StateFileError, as
    check_layout."""
    wanted, initial = pattern_layout(name)
    if len(store.names) < len(wanted):
        with contextlib.suppress(ConfigError):  # not the start of this layout: refused below
            return store.widened(wanted, initial)
    check_layout(name, tuple(store.names), source)
    return store


def learning_pattern(name: str, signature: str) -> str:
    """The pattern an encounter of kind ``signature`` learns into with learner ``name``."""
    pattern = getattr(learner_spec(name), "pattern", None)
    return pattern if isinstance(pattern, str) and pattern else signature


def make_learner(
    kind: str,
    params: PatternParams,
    rng: np.random.Generator,
) -> Learner:
    """Build the learner registered as ``kind`` (e.g. "fom", "mlp") starting from ``params``.

    ConfigError if ``kind`` is unknown or ``params`` is not laid out the way the learner's
    patterns are.
    """
    spec = learner_spec(kind)
    if tuple(params.names) != tuple(spec.param_names):
        raise ConfigError(
            f"learner {kind!r} needs patterns of {_describe(tuple(spec.param_names))}, "
            f"got {_describe(tuple(params.names))}"
        )
    return spec(params, rng)
