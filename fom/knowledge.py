"""The KnowledgeBase: what Perception has learned about the bot and every enemy it has seen."""

from __future__ import annotations

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
    bounded memory. Enemies in the latest sighting are always kept.
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 0:
            raise ConfigError(f"limit must be >= 0 or None, got {limit}")
        self.limit = limit
        self.tick = -1
        self.self_state: SelfState | None = None
        self._opponents: dict[int, Opponent] = {}
        self._visible: set[int] = set()

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
        for opp in opponents:
            records[opp.id] = opp
            visible.add(opp.id)
        self._visible = visible
        if self.limit is not None:
            gone = len(records) - len(visible)
            if gone > self.limit:
                stale = sorted((o.last_seen, o.id) for o in records.values() if o.id not in visible)
                for _, oid in stale[: gone - self.limit]:
                    del records[oid]

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
