"""The KnowledgeBase: what Perception has learned about the bot and every enemy it has seen."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from fom.errors import ConfigError
from fom.state import Opponent, SelfState

__all__ = ["KnowledgeBase", "KnowledgeSnapshot"]


@dataclass(frozen=True, slots=True)
class KnowledgeSnapshot:
    """An immutable copy of the KnowledgeBase at one tick (what a TIP receives at start)."""

    tick: int
    self_state: SelfState | None
    opponents: tuple[Opponent, ...]

    def opponent(self, opponent_id: int) -> Opponent | None:
        """The record of one enemy, or None when it was never seen (or was forgotten)."""
        for opp in self.opponents:
            if opp.id == opponent_id:
                return opp
        return None


class KnowledgeBase:
    """One record per enemy ever seen, updated on each sighting; bounded by ``limit`` if given.

    ``limit`` caps how many *gone* enemies (not in the latest sighting: dead or out of sight)
    are remembered; the least recently seen are forgotten first, so an endless run keeps a
    bounded memory. Enemies in the latest sighting are always kept. The records are also kept
    in a heap by (last seen, id), so forgetting costs what is forgotten, not a sort of all
    records every tick.
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be >= 0 or None, got {limit}")
        self.limit = limit
        self.tick = -1
        self.self_state: SelfState | None = None
        self._opponents: dict[int, Opponent] = {}
        self._visible: set[int] = set()
        self._order: list[tuple[int, int]] = []
        """Heap of (last_seen, id) with ``limit``; entries whose record changed are skipped."""

    @property
    def opponents(self) -> dict[int, Opponent]:
        """A copy of the records, id -> Opponent."""
        return dict(self._opponents)

    def update(self, tick: int, self_state: SelfState, opponents: Iterable[Opponent]) -> None:
        """Record one sighting: the bot's state and every opponent visible at ``tick``."""
        self.tick = int(tick)
        self.self_state = self_state
        visible: set[int] = set()
        records = self._opponents
        order = self._order
        for opp in opponents:
            old = records.get(opp.id)
            records[opp.id] = opp
            visible.add(opp.id)
            if self.limit is not None and (old is None or old.last_seen != opp.last_seen):
                heapq.heappush(order, (opp.last_seen, opp.id))
        self._visible = visible
        if self.limit is not None:
            self._forget(len(records) - len(visible) - self.limit)

    def _forget(self, excess: int) -> None:
        """Drop the ``excess`` least recently seen gone records, in (last seen, id) order."""
        records, order, visible = self._opponents, self._order, self._visible
        kept: list[tuple[int, int]] = []
        while excess > 0:
            entry = heapq.heappop(order)
            record = records.get(entry[1])
            if record is None or record.last_seen != entry[0]:
                continue  # forgotten already, or seen again since this entry
            if entry[1] in visible:
                kept.append(entry)
                continue
            del records[entry[1]]
            excess -= 1
        for entry in kept:
            heapq.heappush(order, entry)
        if len(order) > 2 * len(records) + 64:  # outdated entries: rebuild, amortised O(1)
            self._order = [(o.last_seen, o.id) for o in records.values()]
            heapq.heapify(self._order)

    @property
    def visible(self) -> frozenset[int]:
        """Ids of the opponents in the latest sighting."""
        return frozenset(self._visible)

    def snapshot(self) -> KnowledgeSnapshot:
        """An immutable copy (opponents sorted by id), safe to hand to another actor."""
        opps = tuple(self._opponents[k] for k in sorted(self._opponents))
        return KnowledgeSnapshot(tick=self.tick, self_state=self.self_state, opponents=opps)

    def __len__(self) -> int:
        """Number of enemies remembered."""
        return len(self._opponents)
