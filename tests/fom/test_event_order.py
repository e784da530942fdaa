"""The canonical order of a tick's events: the same whatever order they arrived in."""

from __future__ import annotations

import random
from typing import Any

from fom.events import TickOrder


def _events() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"tick": 0, "type": "run.started", "time": 0.5}]
    for tick in range(3):
        for e in (3, 1, 2):
            out.append({"tick": tick, "type": "tip.shot", "encounter": e, "time": 0.1 * e})
            out.append({"tick": tick, "type": "plan.done", "samples": 10 + e, "elapsed_ms": 1.0})
        for version in (9, 10, 2):  # numbers compare as numbers: 2, 9, 10
            out.append({"tick": tick, "type": "pattern.merged", "signature": "combat/rocket",
                        "version": version + 100 * tick})  # fmt: skip
        out.append({"tick": tick, "type": "world.tick", "opponents": 3})
    return out


def _arrival(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """An order events may arrive in: a tick's own in any order, its world.tick anywhere
    among the next tick's (never before an event of an earlier tick: they cause it)."""
    ticks = sorted({e["tick"] for e in events})
    groups = {t: [e for e in events if e["tick"] == t and e["type"] not in
                  ("world.tick", "run.started")] for t in ticks}  # fmt: skip
    for group in groups.values():
        rng.shuffle(group)
    out = [e for e in events if e["type"] == "run.started"]
    late: dict[str, Any] | None = None
    for t in ticks:
        group = groups[t]
        if late is not None:
            group.insert(rng.randrange(len(group) + 1), late)
        out.extend(group)
        late = next(e for e in events if e["tick"] == t and e["type"] == "world.tick")
    return [*out, late] if late is not None else out


def _drain(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = TickOrder()
    written: list[dict[str, Any]] = []
    for event in events:
        order.add(event)
        if event["type"] == "world.tick":
            written.extend(order.ready(event["tick"]))
    written.extend(order.ready(None))
    return written


def test_any_arrival_order_gives_one_stream() -> None:
    events = _events()
    expected = _drain(events)
    for seed in range(5):
        assert _drain(_arrival(events, random.Random(seed))) == expected
    assert expected[0]["type"] == "run.started"
    tick0 = [(e["type"], e.get("encounter"), e.get("version")) for e in expected[1:11]]
    assert tick0 == [
        ("plan.done", None, None), ("plan.done", None, None), ("plan.done", None, None),
        ("tip.shot", 1, None), ("tip.shot", 2, None), ("tip.shot", 3, None),
        ("pattern.merged", None, 2), ("pattern.merged", None, 9), ("pattern.merged", None, 10),
        ("world.tick", None, None),
    ]  # fmt: skip
    assert [e["tick"] for e in expected] == sorted(e["tick"] for e in expected)


def test_a_tick_is_held_until_the_next_world_tick() -> None:
    order = TickOrder()
    order.add({"tick": 1, "type": "tip.shot", "encounter": 0})
    order.add({"tick": 0, "type": "world.tick"})
    assert [e["tick"] for e in order.ready(0)] == []  # tick 0 waits for world.tick 1
    assert [e["tick"] for e in order.ready(1)] == [0]
    assert len(order) == 1
