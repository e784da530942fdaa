"""The canonical order of an event stream, so that it never depends on arrival order.

Within a run the events of a tick can arrive in any order (actors run concurrently, and over
NATS in several processes); the stream writes them sorted by (tick, type, encounter, content).
A consumer sees the ticks in order, and two runs of the same seed write the same stream
whatever the process layout.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Any

from fom.events.writer import WALLCLOCK_FIELDS

__all__ = ["TYPE_RANK", "TickOrder", "order_key"]

TYPE_RANK: dict[str, int] = {
    t: i
    for i, t in enumerate(
        (
            "run.started",
            "tip.started",
            "plan.done",
            "tip.shot",
            "tip.finished",
            "pattern.merged",
            "pattern.rejected",
            "world.tick",
            "actor.failed",
            "bus.dead_letter",
        )
    )
}
"""Types in the order a tick's events are written; others follow these, run.finished last."""
_OTHER = len(TYPE_RANK)
_LAST = {"run.finished": _OTHER + 1}
_SKIP = WALLCLOCK_FIELDS | {"seq", "tick", "type"}


def order_key(event: dict[str, Any]) -> tuple[Any, ...]:
    """(tick, type rank, encounter, then the other non-wall-clock scalar fields)."""
    kind = event["type"]
    rank = TYPE_RANK.get(kind, _LAST.get(kind, _OTHER))
    encounter = event.get("encounter")
    scalars = tuple(
        (k, 0, v, "") if isinstance(v, int | float) else (k, 1, 0, v)
        for k, v in event.items()
        if k not in _SKIP and isinstance(v, int | float | str)
    )  # numbers compare as numbers, text as text, never one with the other
    return (
        event["tick"],
        rank,
        kind,
        encounter if isinstance(encounter, int) else -1,
        scalars,
    )


class TickOrder:
    """Holds events until their tick is complete, then gives them in ``order_key`` order."""

    def __init__(self) -> None:
        self._heap: list[tuple[tuple[Any, ...], int, dict[str, Any]]] = []
        self._count = itertools.count()  # ties (identical keys) keep their arrival order

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, event: dict[str, Any], item: Any = None) -> None:
        """Hold ``event`` (a dict with at least ``tick`` and ``type``), or ``item`` in its
        place (the record it was made from, say)."""
        held = event if item is None else item
        heapq.heappush(self._heap, (order_key(event), next(self._count), held))

    def ready(self, before_tick: int | None) -> Iterator[Any]:
        """The held events of ticks before ``before_tick`` (every one with None), in order."""
        heap = self._heap
        while heap and (before_tick is None or heap[0][0][0] < before_tick):
            yield heapq.heappop(heap)[2]
