"""A simulated world's tick of actions at once: the moves, aims and shots of every encounter as
a handful of numpy operations over the encounter table, instead of three engine calls each.

:func:`act_all` gives what calling ``move``, ``look_at`` and (for those that fire)
``shoot`` on each action in turn gives, the same errors included: each encounter has its own
projection, so actions on different encounters never interact, and the shots draw the same
counter-based uniforms (``fom.streams``) whichever way they are computed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fom import rules
from fom.engines.base import ShotOutcome, finite_number
from fom.errors import EngineError
from fom.streams import stream_uniforms

if TYPE_CHECKING:
    from fom.engines.dummy import SimulatedGame
    from fom.match import Act

__all__ = ["act_all", "checked_aim", "checked_node", "illegal_move"]

_CALLS = ("move", "look_at", "shoot")
FEW = 8
"""Below this many actions, numpy's fixed cost per operation outweighs calling the engine."""


def checked_node(node: object, n: int) -> int:
    """``node`` as a node of a level of ``n`` nodes; EngineError for anything else."""
    if isinstance(node, bool) or not isinstance(node, int | np.integer):
        raise EngineError(f"node must be an int, got {node!r}")
    if not 0 <= node < n:
        raise EngineError(f"node {node} is not in [0, {n})")
    return int(node)


def illegal_move(encounter: int, node: int, origin: int) -> EngineError:
    """The error of a step to a node that is neither ``origin`` nor one of its neighbours."""
    return EngineError(
        f"encounter {encounter}: node {node} is not node {origin} or one of its neighbours"
    )


def checked_aim(aim_offset: object, lead_gain: object) -> float:
    """The aim offset; EngineError unless it and the lead gain are finite numbers."""
    aim = finite_number("aim_offset", aim_offset)
    finite_number("lead_gain", lead_gain)
    return aim


def _aim_of(act: Act) -> float:
    return checked_aim(act.aim_offset, act.lead_gain)


def act_all(
    game: SimulatedGame, acts: Sequence[Act], holders: Collection[int]
) -> dict[int, ShotOutcome | EngineError]:
    """Move, aim and (holders that fire) shoot for each action; each encounter's shot, not
    fired, or the EngineError that stopped its action. A few actions, or a game whose class
    changed one of those calls, are played one at a time."""
    from fom.engines.dummy import SimulatedGame  # (each module needs the other)

    changed = any(getattr(type(game), m) is not getattr(SimulatedGame, m) for m in _CALLS)
    if changed or len(acts) < FEW:
        from fom.match import act_each  # (fom.match imports the engines)

        return act_each(game, acts, holders)
    out: dict[int, ShotOutcome | EngineError] = {}
    n = game.level.n
    live: list[tuple[Act, int]] = []
    for act in acts:
        e = act.encounter
        try:
            slot = game._slot(e)
            checked_node(act.move_to, n)
            if slot is None:  # ended this tick: nothing moves, nothing fires
                _aim_of(act)
                out[e] = ShotOutcome(e, False, False, 0.0, 0.0, 0.0)
            else:
                live.append((act, slot))
        except EngineError as exc:
            out[e] = exc
    if not live:
        return out
    w, t = game._w, game._w.table
    rows = np.fromiter((slot for _, slot in live), dtype=np.int64, count=len(live))
    nodes = np.fromiter((a.move_to for a, _ in live), dtype=np.int64, count=len(live))
    legal = rules.legal_moves(game.level.adjacency, t.origin[rows], nodes)
    for i in np.flatnonzero(~legal).tolist():
        act = live[i][0]
        origin = int(t.origin[rows[i]])
        out[act.encounter] = illegal_move(act.encounter, act.move_to, origin)
    keep = np.flatnonzero(legal)
    live = [live[i] for i in keep.tolist()]
    rows, nodes = rows[keep], nodes[keep]
    t.self_node[rows] = rules.bump(t.self_node[rows], nodes, t.enemy_node[rows])
    t.acted[rows] = True  # moved: the aim is checked after the step, as look_at after move
    fresh = rows[t.engaged[rows] < 0]
    t.engaged[fresh] = w.tick
    aims: list[float] = []
    aimed: list[int] = []
    for i, (act, _) in enumerate(live):
        try:
            aims.append(_aim_of(act))
            aimed.append(i)
        except EngineError as exc:
            out[act.encounter] = exc
    if len(aimed) < len(live):
        live = [live[i] for i in aimed]
        rows = rows[aimed]
    t.aim[rows] = aims
    fires = np.fromiter(
        (a.fire and a.encounter in holders for a, _ in live), dtype=bool, count=len(live)
    )
    distance = game.level.distance[t.self_node[rows], t.enemy_node[rows]].astype(np.float64)
    can = fires & ~t.shot[rows] & (t.ammo[rows] > 0) & rules.alive(t.enemy_health[rows])
    shooting = rows[can]
    hit = error = dealt = np.zeros(0)
    if shooting.size:
        ctr = t.ctr[shooting]
        key = t.key[shooting]
        u = [stream_uniforms(key, ctr + np.uint64(i)) for i in range(rules.SHOT_DRAWS)]
        t.ctr[shooting] = ctr + np.uint64(rules.SHOT_DRAWS)
        k = t.weapon[shooting]
        wt = game._weapons
        hit, error, dealt, health = rules.shoot(
            u, True, t.aim[shooting], wt.drift[k], wt.noise[k], distance[can], wt.range[k],
            wt.damage[k], t.enemy_health[shooting],
        )  # fmt: skip
        t.enemy_health[shooting] = health
        t.ammo[shooting] -= 1
        t.shot[shooting] = True
        w.shots += int(shooting.size)
    shot = iter(zip(hit.tolist(), error.tolist(), dealt.tolist(), strict=True))
    for (act, _), fired, able, d in zip(live, fires.tolist(), can.tolist(), distance.tolist(),
                                        strict=True):  # fmt: skip
        e = act.encounter
        if able:
            h, err, dmg = next(shot)
            out[e] = ShotOutcome(e, True, bool(h), float(err), float(dmg), d)
        else:
            out[e] = ShotOutcome(e, False, False, 0.0, 0.0, d if fired else 0.0)
    return out
