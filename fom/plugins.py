"""Extension points: engines, learners and planners found by name through Python entry points.

A package adds one by declaring an entry point in its metadata, e.g. in its pyproject.toml::

    [project.entry-points."fom.learners"]
    mine = "my_package.module:MyLearner"

FOM's own engines, learners and planners are registered the same way (see its pyproject.toml),
so ``fom-run --learner mine`` works once the package is installed. Names are read from the
installed metadata without importing anything; an entry point is imported on first ``load``.
Both are cached for the life of the process (``refresh`` forgets them, e.g. after sys.path
changed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from fom.errors import ConfigError

__all__ = [
    "ENGINES_GROUP",
    "GROUPS",
    "LEARNERS_GROUP",
    "PLANNERS_GROUP",
    "load",
    "names",
    "refresh",
    "require",
]

ENGINES_GROUP = "fom.engines"
LEARNERS_GROUP = "fom.learners"
PLANNERS_GROUP = "fom.planners"
GROUPS: tuple[str, ...] = (ENGINES_GROUP, LEARNERS_GROUP, PLANNERS_GROUP)

_LABELS = {ENGINES_GROUP: "world", LEARNERS_GROUP: "learner", PLANNERS_GROUP: "planner"}
"""What a name of each group is called in messages (as the ``fom-run`` flag names it)."""

Check = Callable[[object], str | None]
"""A kind check: the reason a loaded object is unusable in its group, or None if it is fine."""


def _one_line(text: object) -> str:
    """``text`` with its whitespace runs (newlines included) folded to single spaces."""
    return " ".join(str(text).split())


@functools.cache
def _registered(group: str) -> dict[str, tuple[EntryPoint, ...]]:
    """The group's entry points by name (several when distributions clash over a name)."""
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=group):
        found.setdefault(ep.name, []).append(ep)
    return {name: tuple(eps) for name, eps in sorted(found.items())}


def names(group: str) -> tuple[str, ...]:
    """The names registered in ``group``, sorted (nothing is imported)."""
    return tuple(_registered(group))


def _origin(ep: EntryPoint) -> str:
    """Where an entry point comes from, for messages: ``module:attr`` from ``dist``."""
    dist = ep.dist.name if ep.dist is not None else "an unknown distribution"
    return f"{ep.value} from {dist}"


def _entry_point(group: str, name: str) -> EntryPoint:
    """The one entry point called ``name`` in ``group``, or a one-line ConfigError."""
    registered = _registered(group)
    eps = registered.get(name)
    if eps is None:
        kind = _LABELS.get(group, f"{group} plug-in")
        if not registered:
            raise ConfigError(
                f"unknown {kind} {name!r}: no {group} entry points are installed "
                "(install FOM with: python -m pip install -e .)"
            )
        raise ConfigError(f"unknown {kind} {name!r}; choose one of {', '.join(registered)}")
    if len(eps) > 1:
        raise ConfigError(
            f"{group} plug-in {name!r} is registered more than once: "
            + "; ".join(_origin(ep) for ep in eps)
        )
    return eps[0]


def require(group: str, name: str) -> None:
    """ConfigError (one line, listing the choices) unless ``name`` is registered once in ``group``.

    Nothing is imported: this is the check a configuration makes before a run starts.
    """
    _entry_point(group, name)


@functools.cache
def _loaded(group: str, name: str) -> object:
    """The object behind an entry point (imported once)."""
    ep = _entry_point(group, name)
    try:
        return ep.load()
    except Exception as exc:  # a plug-in may fail in any way while importing
        raise ConfigError(
            f"{group} plug-in {name!r} ({_origin(ep)}) failed to load: "
            f"{type(exc).__name__}: {_one_line(exc)}"
        ) from exc


def load(group: str, name: str, check: Check | None = None) -> object:
    """The object registered as ``name`` in ``group``; ConfigError (one line) if unusable.

    ``check`` says why a loaded object is of the wrong kind for the group (None: it is fine).
    """
    obj = _loaded(group, name)
    reason = check(obj) if check is not None else None
    if reason is not None:
        ep = _entry_point(group, name)
        raise ConfigError(f"{group} plug-in {name!r} ({_origin(ep)}) {_one_line(reason)}")
    return obj


def refresh() -> None:
    """Forget the cached entry points and loaded objects (read them again on next use)."""
    _registered.cache_clear()
    _loaded.cache_clear()
