"""The trigger rule: when a pattern's TIP rests the trigger between shots.

Some guns stray when the trigger is held: Doom's pistol sends a shot fired after a released
trigger true and spreads the refires (ShotOutcome.refire). A pattern counts its shots of each
kind and their hits (``first_shots``, ``first_hits`` after a rest; ``refire_shots``,
``refire_hits`` with the trigger still held): counts merge through the ULP exactly, whatever
the order (scaled, like every delta, by the run's ``--alpha``).
When a first shot hits more often than a refire by more than REST_MARGIN, a bullet
is worth more after a rest, and the body lets the trigger go on the tic the gun checks for a
refire (``Act.rest``, carried out by ``fom.match.act_each`` through the engine's
``shoot_rested``): the pistol then fires every 19 tics instead of 14, every shot true.
Each kind's rate starts from one imagined hit in one shot, so a kind of shot is taken to hit
until seen otherwise: a world without refires (every simulated one) never rests, and a world
whose refires miss rests and then counts what its rested shots are worth.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "REST_MARGIN",
    "TRIGGER_PARAMS",
    "count_shot",
    "hit_rate",
    "rests",
    "shot_counts",
]

TRIGGER_PARAMS = ("first_shots", "first_hits", "refire_shots", "refire_hits")
"""The pattern parameters of the rule (all start at 0)."""
REST_MARGIN = 0.05
"""How much more often a first shot must hit than a refire before the TIP rests."""


def hit_rate(shots: float, hits: float) -> float:
    """A kind's hit rate from its counts, after one imagined hit in one shot."""
    return (hits + 1.0) / (shots + 1.0)


def rests(first_shots: float, first_hits: float, refire_shots: float, refire_hits: float) -> bool:
    """Whether a pattern with these counts rests the trigger after each press."""
    return hit_rate(first_shots, first_hits) - hit_rate(refire_shots, refire_hits) > REST_MARGIN


def shot_counts(names: tuple[str, ...]) -> tuple[int, int, int, int] | None:
    """Where a pattern laid out as ``names`` keeps the rule's counts (None: it has none)."""
    if not set(TRIGGER_PARAMS) <= set(names):
        return None
    first_shots, first_hits, refire_shots, refire_hits = (names.index(n) for n in TRIGGER_PARAMS)
    return first_shots, first_hits, refire_shots, refire_hits


def count_shot(
    theta: np.ndarray, where: tuple[int, int, int, int], refire: bool, hit: bool
) -> None:
    """Count one fired shot of its kind into the parameter vector ``theta`` (``where``: from
    shot_counts)."""
    k = 2 if refire else 0
    theta[where[k]] += 1.0
    theta[where[k + 1]] += float(hit)
