"""Topics and wildcards: the reference ``match``, the TopicTrie and the bus's routing agree."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus import Bus, TopicTrie, match, message, validate_pattern, validate_topic


@message("test.topics.ping")
class Ping:
    n: int


# (pattern, topic, expected)
CASES = [
    ("a", "a", True),
    ("a", "b", False),
    ("a", "ab", False),
    ("ab", "a", False),
    ("a.b", "a.b", True),
    ("a.b", "a", False),
    ("a", "a.b", False),
    ("a.b", "a.c", False),
    ("a.b.c", "a.b.c", True),
    ("event.actor.failed", "event.actor.failed", True),
    # '*' matches exactly one token
    ("*", "a", True),
    ("*", "a.b", False),
    ("a.*", "a.b", True),
    ("a.*", "a", False),
    ("a.*", "a.b.c", False),
    ("*.b", "a.b", True),
    ("*.b", "a.c", False),
    ("*.b", "b", False),
    ("a.*.c", "a.b.c", True),
    ("a.*.c", "a.x.c", True),
    ("a.*.c", "a.b.d", False),
    ("a.*.c", "a.c", False),
    ("*.*", "a.b", True),
    ("*.*", "a", False),
    ("*.*", "a.b.c", False),
    ("event.*.failed", "event.actor.failed", True),
    ("event.*.failed", "event.actor.started", False),
    # '>' matches one or more remaining tokens, never zero
    (">", "a", True),
    (">", "a.b.c", True),
    ("a.>", "a", False),
    ("a.>", "a.b", True),
    ("a.>", "a.b.c.d", True),
    ("a.>", "b.c", False),
    ("a.>", "ab.c", False),
    ("a.*.>", "a.b", False),
    ("a.*.>", "a.b.c", True),
    ("a.*.>", "a.b.c.d", True),
    ("*.>", "a", False),
    ("*.>", "a.b", True),
    ("a.b.>", "a.b", False),
    ("a.b.>", "a.c.d", False),
    ("a.b.>", "a.b.c", True),
    ("_INBOX.>", "_INBOX.1", True),
    ("tip.*.shot", "tip.tip-3.shot", True),
]


@pytest.mark.parametrize(("pattern", "topic", "expected"), CASES)
def test_match_table(pattern: str, topic: str, expected: bool) -> None:
    assert match(pattern, topic) is expected


@pytest.mark.parametrize(("pattern", "topic", "expected"), CASES)
def test_trie_table(pattern: str, topic: str, expected: bool) -> None:
    trie: TopicTrie[str] = TopicTrie()
    trie.add(pattern, "sub")
    assert trie.lookup(topic) == (("sub",) if expected else ())
    assert trie.lookup(topic) == (("sub",) if expected else ())  # cached answer agrees


def test_trie_with_every_pattern_at_once() -> None:
    trie: TopicTrie[str] = TopicTrie()
    patterns = sorted({p for p, _, _ in CASES})
    for p in patterns:
        trie.add(p, p)
    for topic in sorted({t for _, t, _ in CASES}):
        want = tuple(p for p in patterns if match(p, topic))
        assert trie.lookup(topic) == want, topic


@pytest.mark.parametrize(("pattern", "topic", "expected"), CASES)
async def test_bus_routing_table(pattern: str, topic: str, expected: bool) -> None:
    bus = Bus()
    sub = bus.subscribe(pattern)
    assert await bus.publish(topic, Ping(1)) == int(expected)
    got = sub.get_nowait()
    assert (got is not None) is expected
    if got is not None:
        assert got.topic == topic and got.message == Ping(1)


INVALID_PATTERNS = [
    "",
    ".",
    "a.",
    ".a",
    "a..b",
    "a.>.b",
    ">.a",
    "a*",
    "a.b*",
    "*a",
    ">a",
    "a>",
    "a b",
]
INVALID_TOPICS = ["", ".", "a.", ".a", "a..b", "*", ">", "a.*", "a.>", "*.a", "a b", "a. b"]


@pytest.mark.parametrize("pattern", [*INVALID_PATTERNS, None, 5])
def test_invalid_patterns_raise(pattern: object) -> None:
    with pytest.raises(ValueError):
        validate_pattern(pattern)  # type: ignore[arg-type]
    trie: TopicTrie[str] = TopicTrie()
    with pytest.raises(ValueError):
        trie.add(pattern, "s")  # type: ignore[arg-type]
    assert len(trie) == 0


@pytest.mark.parametrize("pattern", INVALID_PATTERNS)
def test_bus_refuses_invalid_patterns_without_a_half_made_subscription(pattern: str) -> None:
    bus = Bus()
    with pytest.raises(ValueError):
        bus.subscribe("ok.topic", pattern)
    # nothing is left subscribed: nobody would ever read that mailbox
    assert bus.stats().subscriptions == 0
    assert bus._trie.lookup("ok.topic") == ()


@pytest.mark.parametrize("topic", [*INVALID_TOPICS, None, 5])
def test_invalid_topics_raise(topic: object) -> None:
    with pytest.raises(ValueError):
        validate_topic(topic)  # type: ignore[arg-type]
    trie: TopicTrie[str] = TopicTrie()
    trie.add(">", "s")
    with pytest.raises(ValueError):
        trie.lookup(topic)  # type: ignore[arg-type]


@pytest.mark.parametrize("topic", INVALID_TOPICS)
async def test_bus_refuses_invalid_topics(topic: str) -> None:
    bus = Bus()
    bus.subscribe(">")
    with pytest.raises(ValueError):
        await bus.publish(topic, Ping(1))
    with pytest.raises(ValueError):
        bus.publish_nowait(topic, Ping(1))
    with pytest.raises(ValueError):
        await bus.request(topic, Ping(1), timeout=1.0)


@pytest.mark.parametrize("pattern", ["a", "a.b", "*", "a.*", ">", "a.>", "*.b.>", "a-b_c.d1"])
def test_valid_patterns_pass(pattern: str) -> None:
    validate_pattern(pattern)


async def test_several_patterns_of_one_subscriber_deliver_once() -> None:
    bus = Bus()
    sub = bus.subscribe("a.*", "a.>", "a.b", ">", "*.b", "a.b", name="many")
    other = bus.subscribe("a.b", name="other")
    assert await bus.publish("a.b", Ping(1)) == 2
    assert len(sub.mailbox) == 1 and len(other.mailbox) == 1
    assert await bus.publish("a.b.c", Ping(2)) == 1
    assert await bus.publish("x", Ping(3)) == 1
    assert [sub.get_nowait().message.n for _ in range(3)] == [1, 2, 3]  # type: ignore[union-attr]
    assert sub.get_nowait() is None
    assert bus.stats().delivered == 4


async def test_add_pattern_extends_a_subscription() -> None:
    bus = Bus()
    sub = bus.subscribe("a")
    assert await bus.publish("b", Ping(0)) == 0
    bus.add_pattern(sub, "b")
    assert sub.patterns == ("a", "b")
    assert await bus.publish("b", Ping(1)) == 1
    assert sub.get_nowait().message == Ping(1)  # type: ignore[union-attr]


def test_lookup_is_in_subscription_order_and_deduplicated() -> None:
    trie: TopicTrie[str] = TopicTrie()
    trie.add("a.b", "third")  # first subscribed, but named third to catch sorting by name
    trie.add(">", "first")
    trie.add("a.*", "second")
    trie.add("a.>", "third")
    trie.add("*.b", "first")
    assert trie.lookup("a.b") == ("third", "first", "second")
    assert len(trie) == 5


def test_unsubscribe_prunes_the_trie() -> None:
    trie: TopicTrie[str] = TopicTrie()
    pairs = [("a.b.c", "x"), ("a.*.c", "x"), ("a.>", "y"), ("a.b", "y"), (">", "z"), ("*", "z")]
    for p, s in pairs:
        trie.add(p, s)
    assert trie.lookup("a.b.c") == ("x", "y", "z")
    assert sorted(trie.patterns()) == sorted(p for p, _ in pairs)
    for p, s in pairs:
        assert trie.remove(p, s) is True
        assert trie.remove(p, s) is False
    assert len(trie) == 0
    assert trie._root.children == {} and not trie._root.rest and not trie._root.subs
    assert list(trie.patterns()) == []
    assert trie.lookup("a.b.c") == ()
    assert trie._order == {}


def test_remove_unknown_is_false_and_keeps_others() -> None:
    trie: TopicTrie[str] = TopicTrie()
    trie.add("a.b", "s")
    assert trie.remove("a.c", "s") is False
    assert trie.remove("x.y.z", "s") is False
    assert trie.remove("a.b", "other") is False
    assert trie.remove("a.>", "s") is False
    assert trie.lookup("a.b") == ("s",)
    # removing one of two subscribers on a node keeps the other and the node
    trie.add("a.b", "t")
    assert trie.remove("a.b", "s")
    assert trie.lookup("a.b") == ("t",)


def test_route_cache_follows_changes() -> None:
    trie: TopicTrie[str] = TopicTrie()
    trie.add("a.b", "lit")
    assert trie.lookup("a.b") == ("lit",)
    assert trie.lookup("a.c") == ()
    trie.add("a.*", "star")
    assert trie.lookup("a.b") == ("lit", "star")
    assert trie.lookup("a.c") == ("star",)
    trie.add("a.c", "lit2")
    assert trie.lookup("a.c") == ("star", "lit2")
    trie.remove("a.*", "star")
    assert trie.lookup("a.b") == ("lit",)
    assert trie.lookup("a.c") == ("lit2",)
    trie.remove("a.c", "lit2")
    assert trie.lookup("a.c") == ()


async def test_unsubscribe_stops_delivery_and_returns_waiting_frames() -> None:
    bus = Bus()
    gone = bus.subscribe("a.>", "a.b", name="gone")
    stay = bus.subscribe("a.*", name="stay")
    await bus.publish("a.b", Ping(1))
    frames = gone.close()
    assert len(frames) == 1 and bus.codec.decode(frames[0]).message == Ping(1)
    assert gone.close() == []
    assert await bus.publish("a.b", Ping(2)) == 1
    assert len(gone.mailbox) == 0
    assert bus.stats().subscriptions == 1
    stay.close()
    assert len(bus._trie) == 0 and bus._trie._root.children == {}


# --------------------------------------------------------------------------- hypothesis

tokens = st.sampled_from(["a", "b", "c"])
patterns = st.builds(
    lambda body, tail: ".".join(body + tail),
    st.lists(st.sampled_from(["a", "b", "*"]), min_size=0, max_size=4),
    st.sampled_from([[], [">"], ["c"]]),
).filter(bool)
topics = st.lists(tokens, min_size=1, max_size=5).map(".".join)


@settings(max_examples=300, deadline=None)
@given(
    pats=st.lists(patterns, min_size=1, max_size=8),
    tops=st.lists(topics, min_size=1, max_size=8),
    drop=st.sets(st.integers(0, 7)),
)
def test_trie_agrees_with_match(pats: list[str], tops: list[str], drop: set[int]) -> None:
    trie: TopicTrie[int] = TopicTrie()
    for i, p in enumerate(pats):
        trie.add(p, i)

    def check(live: dict[int, str]) -> None:
        for t in tops:
            want = tuple(i for i, p in live.items() if match(p, t))
            assert trie.lookup(t) == want, (t, live)

    live = dict(enumerate(pats))
    check(live)
    for i in sorted(drop):
        if i in live:
            assert trie.remove(live.pop(i), i)
            check(live)
    for i in list(live):
        trie.remove(live.pop(i), i)
    assert len(trie) == 0 and trie._root.children == {}
