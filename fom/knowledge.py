"""What an encounter starts from: an immutable snapshot of what the bot knows at one tick."""

from __future__ import annotations

from dataclasses import dataclass

from fom.state import Opponent, SelfState

__all__ = ["KnowledgeSnapshot"]


@dataclass(frozen=True, slots=True)
class KnowledgeSnapshot:
    """The bot's projection and the opponents it knows of at ``tick`` (a copy: safe to send)."""

    tick: int
    self_state: SelfState | None
    opponents: tuple[Opponent, ...]

    def opponent(self, opponent_id: int) -> Opponent | None:
        """The record of one enemy, or None when it is not in the snapshot."""
        for opp in self.opponents:
            if opp.id == opponent_id:
                return opp
        return None
