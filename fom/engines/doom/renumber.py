"""Object ids across a ViZDoom load: a load gives every object a new id, so what the engine
keeps by id (its encounters' monsters) is carried over by matching the monsters themselves."""

from __future__ import annotations

import numpy as np

__all__ = ["match_ids"]


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
