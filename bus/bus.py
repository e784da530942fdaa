"""The in-process message bus: publish, subscribe with bounded mailboxes, request/reply.

Every hop carries an msgpack frame: a message is encoded once per publish and decoded by
each subscriber, so no two parties ever share a mutable object. Frames that do not decode
become dead letters on ``bus.dead_letter``; the bus goes on delivering everything else.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from bus.codec import Codec, Envelope
from bus.errors import (
    ActorStopped,
    BusClosed,
    DecodeError,
    EncodeError,
    NoResponders,
    RequestFailed,
    RequestTimeout,
)
from bus.mailbox import Mailbox, Overflow
from bus.messages import DeadLetter, ErrorReply
from bus.registry import Registry
from bus.topics import TopicTrie, validate_pattern

__all__ = ["DEAD_LETTER_TOPIC", "Bus", "BusStats", "Subscription"]

log = logging.getLogger("bus")

DEAD_LETTER_LOG_INTERVAL = 1.0
"""Seconds between two log lines about dead letters (each is still counted and published)."""

DEAD_LETTER_TOPIC = "bus.dead_letter"
_DEAD_LETTER_SAMPLE = 256
_bus_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class BusStats:
    """Counters since the bus was made."""

    published: int
    delivered: int
    dropped: int
    dead_letters: int
    decode_errors: int
    requests: int
    replies: int
    timeouts: int
    late_replies: int
    subscriptions: int


class Subscription:
    """One subscriber's mailbox and patterns; ``get`` yields decoded envelopes."""

    __slots__ = ("_bus", "_decode", "mailbox", "name", "patterns")

    def __init__(self, bus: Bus, name: str, patterns: tuple[str, ...], mailbox: Mailbox) -> None:
        self._bus = bus
        self._decode = bus.codec.decode
        self.name = name
        self.patterns = patterns
        self.mailbox = mailbox

    async def get(self) -> Envelope:
        """The next envelope; frames that fail to decode are dead-lettered and skipped."""
        while True:
            frame = await self.mailbox.get()
            try:
                return self._decode(frame)
            except DecodeError as exc:
                self._bus._dead_letter(self, frame, exc)

    def get_nowait(self) -> Envelope | None:
        """The next envelope already waiting, or None."""
        while True:
            frame = self.mailbox.get_nowait()
            if frame is None:
                return None
            try:
                return self._decode(frame)
            except DecodeError as exc:
                self._bus._dead_letter(self, frame, exc)

    def __aiter__(self) -> AsyncIterator[Envelope]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Envelope]:
        while True:
            yield await self.get()

    def close(self) -> list[bytes]:
        """Unsubscribe and return the frames that were still waiting."""
        return self._bus.unsubscribe(self)

    def __repr__(self) -> str:
        return f"Subscription({self.name!r}, {self.patterns!r}, waiting={len(self.mailbox)})"


class Bus:
    """Topics, subscriptions and request/reply for one event loop."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        max_frame_size: int = 16 << 20,
        timeout_resolution: float = 0.005,
    ) -> None:
        self.codec = Codec(registry, max_frame_size)
        self.registry = self.codec.registry
        self.inbox = f"_INBOX.{next(_bus_ids)}"
        self._trie: TopicTrie[Subscription] = TopicTrie()
        self._lookup = self._trie.lookup
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subs: set[Subscription] = set()
        self._seq = 0
        self._corr = 0
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._outstanding: dict[int, int] = {}
        self._buckets: dict[int, list[range]] = {}
        self._runs: list[tuple[float, int]] = []
        self._run_timeout: float | None = None
        self._resolution = timeout_resolution
        self._closed = False
        self._published = 0
        self._delivered = 0
        self._dropped_gone = 0
        self._dead_letters = 0
        self._dead_letter_logged = -math.inf
        self._dead_letters_at_log = 0
        self._decode_errors = 0
        self._replies = 0
        self._timeouts = 0
        self._late_replies = 0

    # ------------------------------------------------------------------ subscriptions

    def subscribe(
        self,
        *patterns: str,
        name: str = "",
        capacity: int = 1024,
        overflow: Overflow = Overflow.BLOCK,
    ) -> Subscription:
        """A new mailbox receiving every topic matching any of ``patterns``."""
        if self._closed:
            raise BusClosed("the bus is closed")
        for pattern in patterns:
            validate_pattern(pattern)  # all of them first: no half-made subscription on error
        sub = Subscription(self, name or f"sub{len(self._subs)}", (), Mailbox(capacity, overflow))
        self._subs.add(sub)
        for pattern in patterns:
            self.add_pattern(sub, pattern)
        return sub

    def add_pattern(self, sub: Subscription, pattern: str) -> None:
        """Let an existing subscription also receive ``pattern``."""
        self._trie.add(pattern, sub)
        sub.patterns = (*sub.patterns, pattern)

    def unsubscribe(self, sub: Subscription) -> list[bytes]:
        """Remove ``sub`` everywhere; returns the frames still waiting in its mailbox."""
        if sub not in self._subs:
            return []
        for pattern in sub.patterns:
            self._trie.remove(pattern, sub)
        self._subs.discard(sub)
        frames = sub.mailbox.drain()
        sub.mailbox.close()
        self._dropped_gone += sub.mailbox.dropped
        return frames

    def _route(self, topic: str) -> tuple[Subscription, ...]:
        if self._closed:
            raise BusClosed("the bus is closed")
        return self._trie.lookup(topic)

    # ------------------------------------------------------------------ publish

    async def publish(self, topic: str, message: Any, *, sender: str = "") -> int:
        """Deliver ``message`` to every matching subscriber; returns how many got it.

        With no subscriber nothing is encoded: telemetry nobody listens to costs a lookup.
        """
        if self._closed:  # `_route`, inlined on the hot paths
            raise BusClosed("the bus is closed")
        subs = self._lookup(topic)
        seq = self._seq = self._seq + 1
        self._published += 1
        if not subs:
            return 0
        frame = self.codec.encode(topic, sender, seq, 0, "", message)
        for sub in subs:
            if not sub.mailbox.offer(frame):
                await sub.mailbox.put(frame)
        count = len(subs)
        self._delivered += count
        return count

    def publish_nowait(self, topic: str, message: Any, *, sender: str = "") -> int:
        """Like ``publish`` but never waits: a full blocking mailbox loses the frame (counted)."""
        subs = self._route(topic)
        self._seq += 1
        frame = self.codec.encode(topic, sender, self._seq, 0, "", message)
        self._published += 1
        return self._offer_all(subs, frame)

    async def publish_raw(self, topic: str, frame: bytes) -> int:
        """Deliver an already encoded frame (bridges, replays, tests) to ``topic``'s subscribers."""
        subs = self._route(topic)
        self._published += 1
        for sub in subs:
            if not sub.mailbox.offer(frame):
                await sub.mailbox.put(frame)
        self._delivered += len(subs)
        return len(subs)

    async def publish_frames(
        self, frames: Iterable[bytes], *, local_only: bool = False, within: str = ""
    ) -> int:
        """``publish_raw`` for many encoded frames, each to the topic it names; returns how
        many were routed. One that names no topic, or one outside ``within`` (a prefix such as
        ``"event."``), is a dead letter. ``local_only``: not to bridges (frames that came from
        NATS are not sent back to it)."""
        routes: dict[str, tuple[Subscription, ...]] = {}
        topic_of = self.codec.topic_of
        count = 0
        for frame in frames:
            topic = topic_of(frame)
            if topic is None or not topic.startswith(within):
                self._unroutable(topic, frame, within)
                continue
            subs = routes.get(topic)
            if subs is None:
                subs = self._route(topic)
                if local_only:
                    subs = tuple(sub for sub in subs if not sub.mailbox.forwards)
                routes[topic] = subs
            for sub in subs:
                if not sub.mailbox.offer(frame):
                    await sub.mailbox.put(frame)
            self._delivered += len(subs)
            count += 1
        self._published += count
        return count

    def _unroutable(self, topic: str | None, frame: bytes, within: str) -> None:
        self._dead_letters += 1
        why = "the frame names no topic" if topic is None else f"{topic!r} is not in {within!r}"
        letter = DeadLetter((topic or "?")[:200], "publish_frames", why[:200], len(frame),
                            frame[:_DEAD_LETTER_SAMPLE])  # fmt: skip
        log.warning("dead letter: %s", why)
        self.publish_nowait(DEAD_LETTER_TOPIC, letter, sender="bus")

    def _offer_all(self, subs: tuple[Subscription, ...], frame: bytes) -> int:
        delivered = 0
        for sub in subs:
            if sub.mailbox.offer(frame):
                delivered += 1
            else:
                sub.mailbox.dropped += 1
        self._delivered += delivered
        return delivered

    # ------------------------------------------------------------------ request / reply

    async def request(self, topic: str, message: Any, *, timeout: float, sender: str = "") -> Any:
        """Send ``message`` and wait for the first reply; fails at once if nobody listens."""
        if self._closed:
            raise BusClosed("the bus is closed")
        subs = self._lookup(topic)
        if not subs:
            raise NoResponders(f"no subscriber answers requests on {topic!r}")
        if not timeout or timeout <= 0:
            raise ValueError("a request needs a positive timeout")
        seq = self._seq = self._seq + 1
        corr = self._corr + 1
        frame = self.codec.encode(topic, sender, seq, corr, self.inbox, message)
        # The bus serves one event loop: remember it, and ask for the running loop again only
        # when that one has stopped (a new asyncio.run). get_running_loop costs a getpid()
        # system call on Python 3.11.
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
            # deadlines armed on a loop that stopped would never fire here
            self._runs, self._run_timeout = [], None
            self._buckets.clear()
        if timeout != self._run_timeout:  # else it joins the current run: see `_arm`
            self._arm(loop, corr, timeout)
        self._corr = corr  # each request sent takes the next id, so `_corr` counts them
        future: asyncio.Future[bytes] = loop.create_future()
        pending = self._pending
        pending[corr] = future
        count = len(subs)
        if count > 1:
            self._outstanding[corr] = count
        try:
            for sub in subs:
                # A full mailbox holds the request back, but never past its timeout.
                if not sub.mailbox.offer(frame) and not await sub.mailbox.put(frame, until=future):
                    break
                self._delivered += 1
            reply = await future
        except RequestTimeout:
            raise RequestTimeout(f"no reply on {topic!r} within the timeout") from None
        finally:
            del pending[corr]
            if count > 1:
                self._outstanding.pop(corr, None)
        msg = self.codec.decode_message(reply)
        if type(msg) is ErrorReply:
            raise _reply_error(topic, msg)
        return msg

    def reply(self, envelope: Envelope, message: Any, *, sender: str = "") -> bool:
        """Answer a request; False when the requester is gone (timed out or cancelled)."""
        future = self._pending.get(envelope.corr)
        if future is None or future.done():
            self._late_replies += 1
            return False
        seq = self._seq = self._seq + 1
        frame = self.codec.encode(envelope.reply_to, sender, seq, envelope.corr, "", message)
        future.set_result(frame)
        self._replies += 1
        return True

    def reply_error(self, envelope: Envelope, error: BaseException, *, sender: str = "") -> bool:
        """Answer a request with an error the requester will raise as ``RequestFailed``."""
        return self.reply(envelope, ErrorReply(type(error).__name__, str(error)), sender=sender)

    def fail_request(self, corr: int, error: BaseException) -> None:
        """One recipient of request ``corr`` will never answer; fail it once none is left."""
        future = self._pending.get(corr)
        if future is None or future.done():
            return
        left = self._outstanding.get(corr, 1) - 1
        if left > 0:
            self._outstanding[corr] = left
            return
        future.set_exception(error)

    def fail_envelope(self, envelope: Envelope, error: BaseException) -> None:
        """The request ``envelope`` will never be answered by this recipient: fail it."""
        self.fail_request(envelope.corr, error)

    def fail_frame(self, frame: bytes, error: BaseException) -> None:
        """Like ``fail_envelope`` for a frame never decoded (a mailbox's leftovers)."""
        corr, _ = self.codec.peek_reply(frame)
        if corr:
            self.fail_request(corr, error)

    def _arm(self, loop: asyncio.AbstractEventLoop, corr: int, timeout: float) -> None:
        """Start a run of requests with ``timeout``, from request ``corr`` on.

        Deadlines are grouped into buckets of `timeout_resolution` seconds with one timer each.
        Rather than filing each request into its bucket, requests are armed in runs: the
        consecutive requests (correlation ids) that share a timeout, the common case, make one
        run, so arming a request costs a comparison. Once per loop iteration,
        `_file_deadlines` files the runs armed since its last call, each as one ``range``.
        """
        if not timeout < math.inf:  # nor NaN
            raise ValueError(f"a request needs a finite timeout, got {timeout}")
        if not self._runs:
            loop.call_soon(self._file_deadlines, loop)
        self._runs.append((timeout, corr))
        self._run_timeout = timeout

    def _file_deadlines(self, loop: asyncio.AbstractEventLoop) -> None:
        """File the runs armed since the last call into their deadline buckets.

        A deadline so counts from a little after the request (at most the rest of that loop
        iteration), never before. Buckets hold ranges, not an entry per request: what waits
        in a bucket outlives most requests (and tuples, tracked by the garbage collector,
        would set off collections that walk them all).
        """
        runs, self._runs, self._run_timeout = self._runs, [], None
        now = loop.time()
        end = self._corr + 1  # the last run goes up to the latest request
        for timeout, first in reversed(runs):
            key = int((now + timeout) / self._resolution) + 1
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [range(first, end)]
                loop.call_at(key * self._resolution, self._expire, key)
            else:
                bucket.append(range(first, end))
            end = first

    def _expire(self, key: int) -> None:
        pending = self._pending
        for run in self._buckets.pop(key, ()):
            for corr in run:
                future = pending.get(corr)
                if future is not None and not future.done():
                    self._timeouts += 1
                    future.set_exception(RequestTimeout("no reply within the timeout"))

    # ------------------------------------------------------------------ dead letters

    def _dead_letter(self, sub: Subscription, frame: bytes, error: DecodeError) -> None:
        self._decode_errors += 1
        self._dead_letters += 1
        topic, corr = self.codec.peek_header(frame)
        now = time.monotonic()
        if now >= self._dead_letter_logged + DEAD_LETTER_LOG_INTERVAL:  # bounded: 1 line a second
            more = self._dead_letters - self._dead_letters_at_log - 1
            self._dead_letter_logged, self._dead_letters_at_log = now, self._dead_letters
            log.warning(
                "dead letter for %s on %r: %s%s", sub.name, topic, error,
                f" ({more} more since the last line)" if more > 0 else "",
            )  # fmt: skip
        if corr:
            self.fail_frame(frame, RequestFailed(f"request on {topic!r} did not decode: {error}"))
        if topic == DEAD_LETTER_TOPIC:
            return  # a dead letter about a dead letter would loop
        letter = DeadLetter(topic, sub.name, str(error), len(frame), frame[:_DEAD_LETTER_SAMPLE])
        try:
            self.publish_nowait(DEAD_LETTER_TOPIC, letter, sender="bus")
        except EncodeError:
            # over a small max_frame_size: send the letter without its sample, never raise here
            letter = DeadLetter(topic[:64], sub.name[:64], str(error)[:128], len(frame), b"")
            try:
                self.publish_nowait(DEAD_LETTER_TOPIC, letter, sender="bus")
            except EncodeError:
                log.error("dead letter for %s on %r is too large to publish", sub.name, topic)

    # ------------------------------------------------------------------ lifecycle

    def stats(self) -> BusStats:
        """A snapshot of the counters."""
        dropped = self._dropped_gone + sum(s.mailbox.dropped for s in self._subs)
        return BusStats(
            published=self._published + self._corr,  # publishes, and requests (see request)
            delivered=self._delivered,
            dropped=dropped,
            dead_letters=self._dead_letters,
            decode_errors=self._decode_errors,
            requests=self._corr,
            replies=self._replies,
            timeouts=self._timeouts,
            late_replies=self._late_replies,
            subscriptions=len(self._subs),
        )

    @property
    def pending_requests(self) -> int:
        """Requests still waiting for a reply."""
        return len(self._pending)

    async def aclose(self) -> None:
        """``close``, then let a network transport flush and disconnect (bounded)."""
        self.close()

    def close(self) -> None:
        """Fail pending requests and refuse further traffic."""
        if self._closed:
            return
        self._closed = True
        for future in list(self._pending.values()):
            if not future.done():
                future.set_exception(BusClosed("the bus closed before the reply"))
        for sub in list(self._subs):
            self.unsubscribe(sub)


def _reply_error(topic: str, msg: ErrorReply) -> RequestFailed:
    """The exception a requester raises for an ``ErrorReply``."""
    error = ActorStopped if msg.error_type == "ActorStopped" else RequestFailed
    return error(f"request on {topic!r} failed: {msg.error_type}: {msg.error}")
