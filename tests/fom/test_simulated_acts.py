"""A simulated world's ``act_all`` (a tick's actions at once) does exactly what ``move``,
``look_at`` and ``shoot`` on each action in turn do: the same shots, the same errors, the same
world afterwards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fom.engines import make_engine, simulated_acts
from fom.errors import EngineError
from fom.match import Act, act_each


def _acts(engine: object, rng: np.random.Generator, tick: int) -> list[Act]:
    """Random actions for every alive opponent and a few ended or unknown ones: legal and
    illegal steps, aims (one not finite now and then), fire or hold."""
    view = engine.observe()  # type: ignore[attr-defined]
    adjacency = engine.level.adjacency  # type: ignore[attr-defined]
    acts = []
    for o in view.opponents:
        here = engine.projection(o.id).node  # type: ignore[attr-defined]
        near = [*np.flatnonzero(adjacency[here]).tolist(), here]
        anywhere = int(rng.integers(adjacency.shape[0]))
        node = int(rng.choice(near)) if rng.random() < 0.9 else anywhere
        aim = math.nan if rng.random() < 0.03 else float(rng.normal(0, 0.3))
        acts.append(Act(o.id, tick, node, aim, bool(rng.random() < 0.8)))
    acts.append(Act(0, tick, 0, 0.0, True))  # ended long ago (or alive: either way compared)
    return sorted({a.encounter: a for a in acts}.values(), key=lambda a: a.encounter)


def _same(a: object, b: object) -> bool:
    if isinstance(a, EngineError):
        return isinstance(b, EngineError) and str(a) == str(b)
    return a == b


@pytest.mark.parametrize("world", ["dummy", "enhanced"])
def test_act_all_is_move_look_at_and_shoot_on_each_action(
    world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulated_acts, "FEW", 0)  # at once even for a single action
    at_once, each = make_engine(world, 4, 64), make_engine(world, 4, 64)
    at_once.reset(4)
    each.reset(4)
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    seen = 0
    for tick in range(60):
        acts = _acts(at_once, rng_a, tick)
        assert acts == _acts(each, rng_b, tick)
        holders = frozenset(a.encounter for a in acts if a.encounter % 5)
        got = at_once.act_all(acts, holders)
        want = act_each(each, acts, holders)
        assert got.keys() == want.keys()
        assert all(_same(got[e], want[e]) for e in want), tick
        seen += sum(1 for s in want.values() if not isinstance(s, EngineError) and s.fired)
        assert at_once.advance() == each.advance()
    assert seen > 60  # shots were fired, errors and ended encounters met on the way
    assert repr(at_once.observe()) == repr(each.observe())  # (positions are arrays)
