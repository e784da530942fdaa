"""The KnowledgeBase keeps one record per enemy and hands out immutable snapshots."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fom.knowledge import KnowledgeBase
from fom.state import Opponent, SelfState


def _opp(i: int, tick: int, health: float = 100.0) -> Opponent:
    return Opponent(i, "shotgun", i % 9, i + 1, np.zeros(3), health, tick)


ME = SelfState(0, 0, np.zeros(3), 100.0, 50, 0)


def test_records_are_updated_per_sighting_and_snapshots_are_sorted_copies() -> None:
    kb = KnowledgeBase()
    kb.update(0, ME, [_opp(3, 0), _opp(1, 0)])
    snap = kb.snapshot()
    kb.update(1, ME, [_opp(1, 1, health=40.0), _opp(2, 1)])
    assert [o.id for o in snap.opponents] == [1, 3]
    assert snap.tick == 0 and snap.opponent(1).health == 100.0  # the snapshot did not change
    assert kb.opponents[1].health == 40.0 and kb.opponents[1].last_seen == 1
    assert set(kb.opponents) == {1, 2, 3}  # enemy 3 is remembered though not seen
    assert kb.visible == {1, 2}
    assert kb.tick == 1 and kb.self_state is ME
    assert kb.snapshot().opponent(99) is None


def test_limit_forgets_the_least_recently_seen_gone_enemies() -> None:
    kb = KnowledgeBase(limit=2)
    for t in range(6):
        kb.update(t, ME, [_opp(t, t)])
    assert set(kb.opponents) == {3, 4, 5}  # 5 visible + the 2 most recently seen gone ones
    assert len(kb) == 3


def _reference_forget(
    records: dict[int, Opponent], visible: set[int], limit: int
) -> dict[int, Opponent]:
    """What ``limit`` means, written the plain way: sort every gone record, drop the oldest."""
    gone = sorted((o.last_seen, o.id) for o in records.values() if o.id not in visible)
    drop = {oid for _, oid in gone[: max(len(gone) - limit, 0)]}
    return {k: v for k, v in records.items() if k not in drop}


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(0, 4),
    sightings=st.lists(
        st.lists(st.tuples(st.integers(0, 12), st.integers(0, 6)), max_size=5), max_size=40
    ),
)
def test_limit_forgets_exactly_what_a_full_sort_would(
    limit: int, sightings: list[list[tuple[int, int]]]
) -> None:
    kb = KnowledgeBase(limit=limit)
    expected: dict[int, Opponent] = {}
    for tick, sighting in enumerate(sightings):
        opps = [_opp(i, seen) for i, seen in sighting]  # last_seen need not grow with the tick
        kb.update(tick, ME, opps)
        expected.update((o.id, o) for o in opps)
        expected = _reference_forget(expected, {o.id for o in opps}, limit)
        assert kb.opponents == expected
