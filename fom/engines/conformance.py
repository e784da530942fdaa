"""check_engine: run an engine through a scripted match and list every breach of the contract.

Users run it on their own engines (``check_engine(MyGame(...))``). It checks types and shapes
of what the engine returns, that reset(seed) is deterministic, that save/restore reproduces a
continuation exactly, that illegal moves and unknown encounters raise EngineError, and that
reports are sorted, one per encounter, and consistent (done iff a reason is given).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fom.engines.base import END_REASONS, ShotOutcome, StepReport, WorldView
from fom.errors import EngineConformanceError, EngineError
from fom.level import CanonicalLevel
from fom.state import Opponent, SelfState

__all__ = ["EngineConformanceError", "check_engine"]

_MAX_PROBLEMS = 50


class _Problems:
    """Collects problem strings (deduplicated, bounded) while the check runs."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem (once)."""
        if message not in self.items and len(self.items) < _MAX_PROBLEMS:
            self.items.append(message)

    def expect(self, condition: bool, message: str) -> bool:
        """Record ``message`` unless ``condition`` holds; return the condition."""
        if not condition:
            self.add(message)
        return condition


def _is_int(x: object) -> bool:
    """True for ints (Python or numpy), not bools."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _is_num(x: object) -> bool:
    """True for finite-or-not real numbers (Python or numpy), not bools."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_)
    )


def _check_position(
    p: _Problems, pos: object, what: str, level: CanonicalLevel, floor: Any, node: Any
) -> None:
    """A position is a finite (3,) float array that folds onto its node's canonical position."""
    if not p.expect(
        isinstance(pos, np.ndarray) and pos.shape == (3,),
        f"{what}.position must be a numpy array of shape (3,)",
    ):
        return
    assert isinstance(pos, np.ndarray)
    if not p.expect(bool(np.isfinite(pos).all()), f"{what}.position must be finite"):
        return
    if _is_int(node) and 0 <= node < level.n and _is_int(floor):
        expected = level.position(int(node), int(floor))
        p.expect(
            bool(np.allclose(pos, expected)),
            f"{what}.position {pos.tolist()} is not node {node} on floor {floor}",
        )


def _check_self(p: _Problems, s: object, what: str, level: CanonicalLevel) -> None:
    """Field types of a SelfState."""
    if not p.expect(
        isinstance(s, SelfState), f"{what} must be a SelfState, got {type(s).__name__}"
    ):
        return
    assert isinstance(s, SelfState)
    p.expect(_is_int(s.node) and 0 <= s.node < level.n, f"{what}.node must be a node index")
    p.expect(_is_int(s.floor), f"{what}.floor must be an int")
    p.expect(_is_num(s.health) and math.isfinite(s.health), f"{what}.health must be a number")
    p.expect(_is_int(s.ammo) and s.ammo >= 0, f"{what}.ammo must be an int >= 0")
    p.expect(_is_int(s.deaths) and s.deaths >= 0, f"{what}.deaths must be an int >= 0")
    _check_position(p, s.position, what, level, s.floor, s.node)


def _check_view(p: _Problems, view: object, engine: Any, level: CanonicalLevel) -> None:
    """Types of a WorldView, sorted unique opponents, distinct floors for concurrent encounters."""
    if not p.expect(
        isinstance(view, WorldView),
        f"observe/reset must return a WorldView, got {type(view).__name__}",
    ):
        return
    assert isinstance(view, WorldView)
    p.expect(view.tick == engine.tick, "WorldView.tick must equal engine.tick")
    _check_self(p, view.self_state, "WorldView.self_state", level)
    if not p.expect(isinstance(view.opponents, tuple), "WorldView.opponents must be a tuple"):
        return
    ids = []
    floors = []
    for o in view.opponents:
        if not p.expect(isinstance(o, Opponent), "every opponent must be an Opponent"):
            continue
        ids.append(o.id)
        floors.append(o.floor)
        p.expect(_is_int(o.id) and o.id >= 0, "Opponent.id must be an int >= 0")
        p.expect(
            isinstance(o.weapon, str) and o.weapon in engine.weapons,
            f"Opponent.weapon {o.weapon!r} is not one of engine.weapons",
        )
        p.expect(_is_int(o.node) and 0 <= o.node < level.n, "Opponent.node must be a node index")
        p.expect(_is_num(o.health) and o.health > 0, "visible opponents must be alive (health > 0)")
        p.expect(o.last_seen == view.tick, "Opponent.last_seen must be the view's tick")
        _check_position(p, o.position, f"Opponent {o.id}", level, o.floor, o.node)
    p.expect(
        ids == sorted(ids) and len(set(ids)) == len(ids),
        "WorldView.opponents must be sorted by id without duplicates",
    )
    p.expect(len(set(floors)) == len(floors), "concurrent encounters must live on distinct floors")


def _check_shot(p: _Problems, shot: object, encounter: int) -> None:
    """Types and consistency of a ShotOutcome."""
    if not p.expect(
        isinstance(shot, ShotOutcome), f"shoot must return a ShotOutcome, got {type(shot).__name__}"
    ):
        return
    assert isinstance(shot, ShotOutcome)
    p.expect(shot.encounter == encounter, "ShotOutcome.encounter must be the encounter shot at")
    p.expect(
        isinstance(shot.fired, bool) and isinstance(shot.hit, bool),
        "ShotOutcome.fired and .hit must be bools",
    )
    p.expect(not shot.hit or shot.fired, "a shot that did not fire cannot hit")
    p.expect(_is_num(shot.error) and math.isfinite(shot.error), "ShotOutcome.error must be finite")
    p.expect(_is_num(shot.damage) and shot.damage >= 0, "ShotOutcome.damage must be >= 0")
    p.expect(shot.hit or shot.damage == 0, "a miss cannot do damage")
    p.expect(_is_num(shot.distance) and shot.distance >= 0, "ShotOutcome.distance must be >= 0")


def _check_reports(p: _Problems, reports: object, acted: set[int], level: CanonicalLevel) -> None:
    """advance() returns sorted StepReports, one per encounter, covering every acted encounter."""
    if not p.expect(isinstance(reports, tuple), "advance must return a tuple of StepReport"):
        return
    assert isinstance(reports, tuple)
    ids = []
    for r in reports:
        if not p.expect(isinstance(r, StepReport), "advance must return StepReport items"):
            continue
        ids.append(r.encounter)
        p.expect(r.reason in ("", *END_REASONS), f"StepReport.reason {r.reason!r} is not allowed")
        p.expect(
            r.done == (r.reason != ""),
            "StepReport.done must be True exactly when a reason is given",
        )
        p.expect(_is_num(r.damage_taken) and r.damage_taken >= 0, "damage_taken must be >= 0")
        p.expect(_is_num(r.exposure) and 0 <= r.exposure <= 1, "exposure must lie in [0, 1]")
        p.expect(_is_int(r.self_node) and 0 <= r.self_node < level.n, "self_node must be a node")
        p.expect(_is_int(r.enemy_node) and 0 <= r.enemy_node < level.n, "enemy_node must be a node")
    p.expect(
        ids == sorted(ids) and len(set(ids)) == len(ids),
        "advance reports must be sorted by encounter, one per encounter",
    )
    p.expect(acted <= set(ids), "advance must report every encounter acted on this tick")


def _play(engine: Any, ticks: int, p: _Problems, check: bool) -> list[tuple]:
    """A scripted, deterministic policy; returns a trace of everything the engine answered."""
    level: CanonicalLevel = engine.level
    trace: list[tuple] = []
    for _ in range(ticks):
        view = engine.observe()
        if check:
            _check_view(p, view, engine, level)
        acted: set[int] = set()
        for i, opp in enumerate(view.opponents[:4]):
            me = engine.projection(opp.id)
            if check:
                _check_self(p, me, f"projection({opp.id})", level)
                p.expect(me.floor == opp.floor, "a projection must be on its encounter's floor")
            path = level.shortest_path(me.node, opp.node, float(i % 2))
            engine.move(opp.id, path[1] if len(path) > 1 else path[0])
            engine.look_at(opp.id, 0.1 * (i - 1))
            shot = engine.shoot(opp.id)
            if check:
                _check_shot(p, shot, opp.id)
            acted.add(opp.id)
            trace.append(("shot", engine.tick, shot, me.node, me.health))
        tick = engine.tick
        reports = engine.advance()
        if check:
            p.expect(engine.tick == tick + 1, "advance must add exactly one to engine.tick")
            _check_reports(p, reports, acted, level)
        trace.append(("reports", tick, reports, tuple(o.id for o in view.opponents)))
    return trace


def _same(a: Any, b: Any) -> bool:
    """Deep equality that compares numpy arrays by value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _raises_engine_error(fn: Any, *args: Any) -> bool:
    """True when ``fn(*args)`` raises EngineError."""
    try:
        fn(*args)
    except EngineError:
        return True
    except Exception:
        return False
    return False


def check_engine(engine: Any, seed: int = 0, ticks: int = 50) -> None:
    """Raise EngineConformanceError listing every contract breach found in ``ticks`` ticks."""
    p = _Problems()
    try:
        _check_engine(engine, seed, ticks, p)
    except EngineConformanceError:
        raise
    except Exception as exc:
        p.add(f"the engine raised {type(exc).__name__}: {exc}")
    if p.items:
        raise EngineConformanceError(p.items)


def _check_engine(engine: Any, seed: int, ticks: int, p: _Problems) -> None:
    """The body of check_engine; problems go to ``p``."""
    for attr in (
        "level",
        "weapons",
        "tick",
        "reset",
        "observe",
        "projection",
        "move",
        "look_at",
        "shoot",
        "close",
        "advance",
        "save_state",
        "restore_state",
    ):
        p.expect(hasattr(engine, attr), f"the engine has no attribute {attr!r}")
    if p.items:
        return
    level = engine.level
    if not p.expect(isinstance(level, CanonicalLevel), "engine.level must be a CanonicalLevel"):
        return
    p.expect(
        isinstance(engine.weapons, tuple)
        and len(engine.weapons) > 0
        and all(isinstance(w, str) for w in engine.weapons),
        "engine.weapons must be a non-empty tuple of str",
    )

    view = engine.reset(seed)
    _check_view(p, view, engine, level)
    p.expect(engine.tick == 0, "reset must set engine.tick to 0")
    first = _play(engine, ticks, p, check=True)
    p.expect(any(r[0] == "shot" for r in first), f"no opponent appeared in {ticks} ticks")

    engine.reset(seed)
    again = _play(engine, ticks, p, check=False)
    p.expect(_same(first, again), "reset(seed) is not deterministic: a replay gave other outcomes")

    engine.reset(seed)
    _play(engine, ticks // 2, p, check=False)
    saved = engine.save_state()
    cont_a = _play(engine, ticks - ticks // 2, p, check=False)
    engine.restore_state(saved)
    cont_b = _play(engine, ticks - ticks // 2, p, check=False)
    p.expect(_same(cont_a, cont_b), "save_state/restore_state does not reproduce the continuation")
    engine.restore_state(saved)
    cont_c = _play(engine, ticks - ticks // 2, p, check=False)
    p.expect(_same(cont_a, cont_c), "a saved state cannot be restored twice")

    engine.reset(seed)
    for _ in range(ticks):
        view = engine.observe()
        if view.opponents:
            break
        engine.advance()
    if not view.opponents:
        return
    opp = view.opponents[0]
    me = engine.projection(opp.id)
    far = [j for j in range(level.n) if j != me.node and not level.adjacency[me.node, j]]
    if far:
        p.expect(
            _raises_engine_error(engine.move, opp.id, far[0]),
            "move to a node that is not a neighbour must raise EngineError",
        )
    p.expect(
        _raises_engine_error(engine.move, opp.id, level.n),
        "move to a node outside the level must raise EngineError",
    )
    unknown = 10**9
    p.expect(
        _raises_engine_error(engine.move, unknown, 0),
        "move on an unknown encounter must raise EngineError",
    )
    p.expect(
        _raises_engine_error(engine.shoot, unknown),
        "shoot on an unknown encounter must raise EngineError",
    )
    p.expect(
        _raises_engine_error(engine.restore_state, object()),
        "restore_state of a foreign object must raise EngineError",
    )
    engine.move(opp.id, me.node)
    engine.close(opp.id)
    reports = engine.advance()
    closed = [r for r in reports if r.encounter == opp.id]
    p.expect(
        len(closed) == 1 and closed[0].done and closed[0].reason == "closed",
        "close(encounter) must end it with reason 'closed' at the next advance",
    )
    p.expect(
        all(o.id != opp.id for o in engine.observe().opponents),
        "a closed encounter's opponent must no longer be visible",
    )
