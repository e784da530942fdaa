"""The state of a SimulatedGame match: the struct-of-arrays encounter table and the saved world.

:class:`EncounterTable` holds one row (slot) per alive encounter in numpy columns, so the engine
advances every encounter with a few array operations; :class:`World` is everything that changes
during a match (what ``save_state`` copies), and :class:`SavedState` the opaque object
``save_state`` returns, tagged with the fingerprint of the engine configuration it belongs to.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

__all__ = ["EncounterTable", "SavedState", "World"]


class EncounterTable:
    """Struct of arrays: one row (slot) per alive encounter; freed slots are reused."""

    INT_FIELDS = ("eid", "weapon", "self_node", "origin", "enemy_node", "ammo", "spawn", "engaged")
    FLOAT_FIELDS = ("self_health", "enemy_health", "aim", "pending")
    BOOL_FIELDS = ("alive", "acted", "shot", "closed")

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = capacity
        self.high = 0  # rows [0, high) have ever been used
        self.free: list[int] = []
        for name in self.INT_FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=np.int64))
        for name in self.FLOAT_FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=np.float64))
        for name in self.BOOL_FIELDS:
            setattr(self, name, np.zeros(capacity, dtype=bool))
        self.key = np.zeros(capacity, dtype=np.uint64)
        self.ctr = np.zeros(capacity, dtype=np.uint64)

    def _columns(self) -> tuple[str, ...]:
        """Names of every column."""
        return (*self.INT_FIELDS, *self.FLOAT_FIELDS, *self.BOOL_FIELDS, "key", "ctr")

    def allocate(self, count: int) -> np.ndarray:
        """``count`` free rows (reused ones first), growing the arrays by doubling if needed."""
        reuse = min(count, len(self.free))
        rows = self.free[len(self.free) - reuse :][::-1]
        del self.free[len(self.free) - reuse :]
        fresh = count - reuse
        if self.high + fresh > self.capacity:
            new = self.capacity
            while self.high + fresh > new:
                new *= 2
            for name in self._columns():
                old = getattr(self, name)
                grown = np.zeros(new, dtype=old.dtype)
                grown[: self.capacity] = old
                setattr(self, name, grown)
            self.capacity = new
        rows.extend(range(self.high, self.high + fresh))
        self.high += fresh
        return np.array(rows, dtype=np.int64)

    def copy(self) -> EncounterTable:
        """A deep copy of every column and the free list."""
        other = EncounterTable.__new__(EncounterTable)
        other.capacity = self.capacity
        other.high = self.high
        other.free = list(self.free)
        for name in self._columns():
            setattr(other, name, getattr(self, name).copy())
        return other


@dataclass(slots=True)
class World:
    """Everything that changes during a match; save_state copies exactly this."""

    seed: int
    tick: int
    rng: np.random.Generator
    self_node: int
    deaths: int
    shots: int
    next_id: int
    alive_count: int
    table: EncounterTable
    slot_of: dict[int, int]
    ended: OrderedDict[int, tuple[int, float, int, str]]  # eid -> (node, health, ammo, reason)

    def copy(self) -> World:
        """A deep copy: arrays, dicts and the RNG state are all duplicated."""
        return World(
            seed=self.seed,
            tick=self.tick,
            rng=copy.deepcopy(self.rng),
            self_node=self.self_node,
            deaths=self.deaths,
            shots=self.shots,
            next_id=self.next_id,
            alive_count=self.alive_count,
            table=self.table.copy(),
            slot_of=dict(self.slot_of),
            ended=OrderedDict(self.ended),
        )


@dataclass(frozen=True, slots=True)
class SavedState:
    """The opaque object save_state returns: the world and the engine it belongs to."""

    fingerprint: tuple
    world: World
