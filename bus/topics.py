"""NATS-style subject matching: dot-separated tokens, ``*`` matches one token, ``>`` the rest.

Subscriptions live in a token trie, so matching a topic walks its tokens, not every
subscription; resolved topics are cached until a subscription that could match them changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

__all__ = ["TopicTrie", "match", "validate_pattern", "validate_topic"]

S = TypeVar("S")

_CACHE_LIMIT = 8192


def validate_topic(topic: str) -> None:
    """A concrete topic: non-empty tokens, no wildcards, no spaces."""
    if not topic or not isinstance(topic, str):
        raise ValueError(f"topic must be a non-empty string, got {topic!r}")
    for token in topic.split("."):
        if not token or token in ("*", ">") or " " in token:
            raise ValueError(f"invalid topic {topic!r}")


def validate_pattern(pattern: str) -> None:
    """A subscription pattern: like a topic, with ``*`` tokens and a final ``>`` allowed."""
    if not pattern or not isinstance(pattern, str):
        raise ValueError(f"pattern must be a non-empty string, got {pattern!r}")
    tokens = pattern.split(".")
    for i, token in enumerate(tokens):
        if not token or " " in token:
            raise ValueError(f"invalid pattern {pattern!r}")
        if token == ">" and i != len(tokens) - 1:
            raise ValueError(f"'>' must be the last token of a pattern: {pattern!r}")
        if token not in ("*", ">") and ("*" in token or ">" in token):
            raise ValueError(f"wildcards must be whole tokens: {pattern!r}")


def match(pattern: str, topic: str) -> bool:
    """Whether ``pattern`` matches ``topic`` (reference implementation, used by tests)."""
    p, t = pattern.split("."), topic.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(t) > i
        if i >= len(t) or (token != "*" and token != t[i]):
            return False
    return len(p) == len(t)


class _Node(Generic[S]):
    __slots__ = ("children", "rest", "subs")

    def __init__(self) -> None:
        self.children: dict[str, _Node[S]] = {}
        self.subs: list[S] = []
        self.rest: list[S] = []


class TopicTrie(Generic[S]):
    """Subscribers by pattern; ``lookup(topic)`` returns the matching ones in subscription order."""

    def __init__(self) -> None:
        self._root: _Node[S] = _Node()
        self._cache: dict[str, tuple[S, ...]] = {}
        self._order: dict[int, tuple[int, int]] = {}
        self._counter = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, pattern: str, sub: S) -> None:
        """Subscribe ``sub`` to ``pattern``."""
        validate_pattern(pattern)
        node = self._root
        tokens = pattern.split(".")
        for token in tokens[:-1]:
            node = node.children.setdefault(token, _Node())
        last = tokens[-1]
        if last == ">":
            node.rest.append(sub)
        else:
            node.children.setdefault(last, _Node()).subs.append(sub)
        self._counter += 1
        first, refs = self._order.get(id(sub), (self._counter, 0))
        self._order[id(sub)] = (first, refs + 1)
        self._count += 1
        self._invalidate(pattern)

    def remove(self, pattern: str, sub: S) -> bool:
        """Unsubscribe ``sub`` from ``pattern``; False when it was not subscribed."""
        path: list[tuple[_Node[S], str]] = []
        node = self._root
        tokens = pattern.split(".")
        for token in tokens[:-1]:
            child = node.children.get(token)
            if child is None:
                return False
            path.append((node, token))
            node = child
        last = tokens[-1]
        if last == ">":
            bucket = node.rest
        else:
            leaf = node.children.get(last)
            if leaf is None:
                return False
            path.append((node, last))
            node = leaf
            bucket = node.subs
        try:
            bucket.remove(sub)
        except ValueError:
            return False
        first, refs = self._order[id(sub)]
        if refs > 1:
            self._order[id(sub)] = (first, refs - 1)
        else:
            del self._order[id(sub)]
        self._count -= 1
        # prune empty branches so the trie does not grow with churn (TIPs come and go)
        while path and not (node.children or node.subs or node.rest):
            parent, token = path.pop()
            del parent.children[token]
            node = parent
        self._invalidate(pattern)
        return True

    def lookup(self, topic: str) -> tuple[S, ...]:
        """Every subscriber whose pattern matches ``topic`` (validated on a cache miss)."""
        hit = self._cache.get(topic)
        if hit is not None:
            return hit
        validate_topic(topic)
        found: list[S] = []
        self._collect(self._root, topic.split("."), 0, found)
        if len(found) > 1:
            order = self._order
            found = list({id(s): s for s in found}.values())  # one delivery per subscriber
            found.sort(key=lambda s: order[id(s)][0])
        result = tuple(found)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[topic] = result
        return result

    def _collect(self, node: _Node[S], tokens: list[str], i: int, out: list[S]) -> None:
        if node.rest and i < len(tokens):
            out.extend(node.rest)
        if i == len(tokens):
            out.extend(node.subs)
            return
        child = node.children.get(tokens[i])
        if child is not None:
            self._collect(child, tokens, i + 1, out)
        star = node.children.get("*")
        if star is not None:
            self._collect(star, tokens, i + 1, out)

    def _invalidate(self, pattern: str) -> None:
        if "*" in pattern or ">" in pattern:
            self._cache.clear()
        else:
            self._cache.pop(pattern, None)

    def patterns(self) -> Iterable[str]:
        """Every distinct pattern with at least one subscriber (for diagnostics)."""
        stack: list[tuple[_Node[S], list[str]]] = [(self._root, [])]
        while stack:
            node, prefix = stack.pop()
            if node.rest:
                yield ".".join([*prefix, ">"])
            if node.subs and prefix:
                yield ".".join(prefix)
            for token, child in node.children.items():
                stack.append((child, [*prefix, token]))
