"""Object ids across a ViZDoom load: a load gives every object a new id, so what the engine
keeps by id (its encounters' monsters) is carried over by matching the monsters themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from fom.engines.doom.game import DAMAGE, HITS, Frame

__all__ = ["match_ids", "renumber"]


def match_ids(
    old_ids: np.ndarray,
    old_names: tuple[str, ...],
    old_xy: np.ndarray,
    new_ids: np.ndarray,
    new_names: tuple[str, ...],
    new_xy: np.ndarray,
) -> dict[int, int]:
    """old id -> new id: each old monster is the unclaimed new one of its class nearest to it
    (a load plays one tic, so a monster may have moved a step), in old-id order."""
    out: dict[int, int] = {}
    taken = np.zeros(len(new_ids), dtype=bool)
    names = np.array(new_names, dtype=object)
    for k, oid in enumerate(np.asarray(old_ids).tolist()):
        same = (names == old_names[k]) & ~taken if len(names) else np.zeros(0, dtype=bool)
        if not same.any():
            continue
        d = np.sum((new_xy - old_xy[k]) ** 2, axis=1)
        d[~same] = np.inf
        j = int(np.argmin(d))
        taken[j] = True
        out[int(oid)] = int(new_ids[j])
    return out


def renumber(frame: Frame, encounters: Iterable[Any], now: Frame) -> None:
    """After a load, in place: the frame's monsters and the encounters' objects get the ids of
    ``now`` (the game read after the load); objects older than the load are no new impacts;
    HITCOUNT and DAMAGECOUNT, which a save does not hold (they count on through loads), are
    rebased on the game's."""
    new = match_ids(frame.mon_ids, frame.mon_names, frame.mon_xy, now.mon_ids, now.mon_names,
                    now.mon_xy)  # fmt: skip
    frame.mon_ids = np.array([new.get(int(i), -1 - k) for k, i in enumerate(frame.mon_ids)],
                             dtype=np.int64)  # fmt: skip
    frame.max_id = now.max_id
    frame.vars[[HITS, DAMAGE]] = now.vars[[HITS, DAMAGE]]
    for e in encounters:
        e.obj = new.get(e.obj, -1 - e.eid)
