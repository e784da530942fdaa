"""The NATS transport: the same subjects and msgpack frames as the in-process bus, over a real
``nats-server`` (nats-py), so actors in several processes or hosts share one bus.

- ``publish`` sends the frame on its subject; every process subscribed to a matching pattern
  (``*`` and ``>`` are NATS's own wildcards) gets it in its actors' mailboxes.
- ``request`` sends with a reply subject ``<inbox>.<corr>``; the answer (or the server's
  "no responders" status, raised at once as ``NoResponders``) comes back on this bus's inbox.
  Timeouts use the in-process bus's deadline buckets.
- A frame the codec cannot decode, a NATS slow-consumer event (a subscription's pending queue
  overflowed, so nats-py dropped a message) and a frame over the server's maximum payload are
  counted dead letters, published on ``bus.dead_letter``; none is dropped silently.
- Operations that cannot wait (``reply``, ``publish_nowait``, subscribing) go out through one
  ordered queue, so what an actor sends leaves in the order it sent it.

Unlike the in-process bus, a subscription whose patterns overlap (``event.>`` and
``event.tip.>``) gets a message once per matching pattern, as NATS delivers it; and a request
answered with an error by one of several responders fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import SlowConsumerError

from bus.bus import DEAD_LETTER_TOPIC, Bus, Subscription, _reply_error
from bus.codec import Envelope
from bus.errors import (
    BusClosed,
    BusUnavailable,
    EncodeError,
    FrameTooLarge,
    NoResponders,
    Reconnected,
    RequestTimeout,
)
from bus.mailbox import Mailbox, Overflow
from bus.messages import DeadLetter, ErrorReply
from bus.registry import Registry
from bus.topics import validate_pattern

__all__ = ["NatsBus", "check_url"]

log = logging.getLogger("bus.nats")

_NO_RESPONDERS = "503"
_CLOSE_TIMEOUT = 2.0


def check_url(url: str) -> str:
    """``url`` if it is a ``nats://HOST:PORT`` address; else ``BusUnavailable`` saying so."""
    head, sep, rest = url.partition("://")
    host, colon, port = rest.rpartition(":")
    if head != "nats" or not sep or not colon or not host or not port.isdigit():
        raise BusUnavailable(f"--bus takes nats://HOST:PORT, got {url!r}")
    if not 0 < int(port) < 65536:
        raise BusUnavailable(f"port {port} of {url!r} is not a TCP port")
    return url


async def _reachable(url: str, timeout: float) -> None:
    """``BusUnavailable`` at once when nothing listens at ``url`` (nats-py would retry)."""
    host, _, port = url.removeprefix("nats://").rpartition(":")
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host.strip("[]"), int(port)), timeout
        )
    except (OSError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise BusUnavailable(f"no NATS server answers at {url} ({reason})") from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


_YIELD_EVERY = 64
"""Frames ``publish_frames`` sends before it lets the loop's other work run."""


class NatsBus(Bus):
    """A :class:`Bus` whose topics are NATS subjects; make one with ``await NatsBus.connect``."""

    def __init__(
        self,
        nc: Client,
        registry: Registry | None = None,
        *,
        max_frame_size: int = 16 << 20,
        timeout_resolution: float = 0.005,
        pending_msgs_limit: int = 1 << 19,
    ) -> None:
        super().__init__(
            registry,
            max_frame_size=min(max_frame_size, nc.max_payload),
            timeout_resolution=timeout_resolution,
        )
        self.nc = nc
        self.url = str(nc.connected_url.geturl()) if nc.connected_url else ""
        self.inbox = nc.new_inbox()
        self.pending_msgs_limit = pending_msgs_limit
        self._inbox_prefix = self.inbox + "."
        self._nats_subs: dict[Subscription, list[Any]] = {}
        self._sub_of: dict[int, Subscription] = {}  # nats sid -> our subscription
        self._out: deque[Callable[[], Awaitable[Any]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self.slow_consumer_drops = 0
        self.oversize_frames = 0
        self.reconnects = 0
        self.disconnects = 0
        self._cut_on_reconnect: set[asyncio.Future[Any]] = set()

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        name: str = "fom",
        connect_timeout: float = 2.0,
        reconnect_wait: float = 0.2,
        max_reconnects: int = 600,
        **options: Any,
    ) -> NatsBus:
        """Connect to the ``nats-server`` at ``url``; ``BusUnavailable`` in one line if none."""
        check_url(url)
        await _reachable(url, connect_timeout)
        holder: list[NatsBus] = []

        async def on_error(exc: Exception) -> None:
            if holder:
                holder[0]._on_error(exc)

        async def on_disconnect() -> None:
            if holder:
                holder[0].disconnects += 1

        async def on_reconnect() -> None:
            if holder:
                holder[0]._on_reconnect()

        try:
            nc = await asyncio.wait_for(
                nats.connect(
                    url,
                    name=name,
                    connect_timeout=max(1, round(connect_timeout)),
                    allow_reconnect=True,
                    reconnect_time_wait=reconnect_wait,
                    max_reconnect_attempts=max_reconnects,
                    error_cb=on_error,
                    disconnected_cb=on_disconnect,
                    reconnected_cb=on_reconnect,
                ),
                timeout=connect_timeout + 1.0,
            )
        except Exception as exc:  # NoServersError, OSError, timeout...
            reason = type(exc).__name__
            raise BusUnavailable(f"no NATS server answers at {url} ({reason})") from None
        bus = cls(nc, **options)
        holder.append(bus)
        await nc.subscribe(bus.inbox + ".*", cb=bus._on_reply)
        await nc.flush(timeout=connect_timeout)
        return bus

    # ------------------------------------------------------------------ ordered sending

    def _enqueue(self, op: Callable[[], Awaitable[Any]]) -> None:
        self._out.append(op)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_queued())

    async def _send_queued(self) -> None:
        out = self._out
        while out:
            op = out[0]
            try:
                await op()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("NATS send failed: %r", exc)
            finally:
                if out and out[0] is op:
                    out.popleft()

    async def _flush_queue(self) -> None:
        """Wait until every queued operation has gone out (so a publish keeps its order)."""
        while self._out:
            sender = self._sender
            if sender is None or sender.done():
                self._sender = sender = asyncio.get_running_loop().create_task(self._send_queued())
            await asyncio.shield(sender)

    # ------------------------------------------------------------------ subscriptions

    def subscribe(
        self,
        *patterns: str,
        name: str = "",
        capacity: int = 1024,
        overflow: Overflow = Overflow.BLOCK,
        queue: str = "",
    ) -> Subscription:
        """A mailbox receiving every subject matching ``patterns``; with ``queue``, one member of
        that NATS queue group gets each message (work spread over processes)."""
        if self._closed:
            raise BusClosed("the bus is closed")
        for pattern in patterns:
            validate_pattern(pattern)
        sub = Subscription(self, name or f"sub{len(self._subs)}", (), Mailbox(capacity, overflow))
        self._subs.add(sub)
        self._nats_subs[sub] = []
        for pattern in patterns:
            self.add_pattern(sub, pattern, queue=queue)
        return sub

    def add_pattern(self, sub: Subscription, pattern: str, *, queue: str = "") -> None:
        """Let ``sub`` also receive ``pattern`` (a NATS subscription feeding its mailbox)."""
        validate_pattern(pattern)
        sub.patterns = (*sub.patterns, pattern)
        mailbox = sub.mailbox

        async def deliver(msg: Msg) -> None:
            self._delivered += 1
            data = msg.data
            if not mailbox.offer(data):
                await mailbox.put(data)

        async def start() -> None:
            if sub not in self._nats_subs or self.nc.is_closed:
                return
            nsub = await self.nc.subscribe(
                pattern, queue=queue, cb=deliver, pending_msgs_limit=self.pending_msgs_limit
            )
            self._nats_subs[sub].append(nsub)
            self._sub_of[nsub._id] = sub

        self._enqueue(start)

    def unsubscribe(self, sub: Subscription) -> list[bytes]:
        """Stop ``sub``'s NATS subscriptions; returns the frames still in its mailbox."""
        if sub not in self._subs:
            return []
        self._subs.discard(sub)
        nsubs = self._nats_subs.pop(sub, [])
        for nsub in nsubs:
            self._sub_of.pop(nsub._id, None)
        if nsubs and not self._closed and not self.nc.is_closed:

            async def stop() -> None:
                for nsub in nsubs:
                    with contextlib.suppress(Exception):
                        await nsub.unsubscribe()

            self._enqueue(stop)
        frames = sub.mailbox.drain()
        sub.mailbox.close()
        self._dropped_gone += sub.mailbox.dropped
        return frames

    # ------------------------------------------------------------------ publish

    def _encode(self, topic: str, sender: str, corr: int, reply_to: str, message: Any) -> bytes:
        if self._closed:
            raise BusClosed("the bus is closed")
        self._seq += 1
        try:
            return self.codec.encode(topic, sender, self._seq, corr, reply_to, message)
        except FrameTooLarge as exc:
            self.oversize_frames += 1
            self._lost(topic, sender, f"frame over the server's max payload: {exc}", 0)
            raise

    async def publish(self, topic: str, message: Any, *, sender: str = "") -> int:
        """Send ``message`` on ``topic``; returns 1 (NATS does not say who got it)."""
        frame = self._encode(topic, sender, 0, "", message)
        self._published += 1
        if self._out:
            await self._flush_queue()
        await self.nc.publish(topic, frame)
        return 1

    def publish_nowait(self, topic: str, message: Any, *, sender: str = "") -> int:
        """Queue ``message`` for sending, in order with this bus's other sends."""
        frame = self._encode(topic, sender, 0, "", message)
        self._published += 1
        self._enqueue(lambda: self.nc.publish(topic, frame))
        return 1

    def send_raw(
        self, topic: str, frame: bytes, *, on_error: Callable[[Exception], None] | None = None
    ) -> None:
        """Queue an encoded frame for ``topic``, in order with this bus's other sends;
        ``on_error`` hears of a frame NATS refused (it is then counted, never silent)."""
        if self._closed:
            raise BusClosed("the bus is closed")
        self._published += 1
        publish = self.nc.publish

        async def send() -> None:
            try:
                await publish(topic, frame)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(exc)

        self._enqueue(send)

    async def publish_raw(self, topic: str, frame: bytes) -> int:
        """Send an already encoded frame (tests, bridges) on ``topic``."""
        self._published += 1
        if self._out:
            await self._flush_queue()
        await self.nc.publish(topic, frame)
        return 1

    async def publish_frames(
        self, frames: Iterable[bytes], *, local_only: bool = False, within: str = ""
    ) -> int:
        """Send each encoded frame on NATS under the topic it names; returns how many NATS
        took. One it refuses (reconnect buffer full, connection closed), one that names no
        topic or one outside ``within`` is a counted dead letter, never silent. (``local_only``
        changes nothing here: every subscriber of a NATS bus is remote.)"""
        if self._out:
            await self._flush_queue()
        publish, topic_of = self.nc.publish, self.codec.topic_of
        sent = 0
        for i, frame in enumerate(frames):
            if i % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a long batch must not hold up the requests that come
            topic = topic_of(frame)
            if topic is None or not topic.startswith(within):
                self._unroutable(topic, frame, within)
                continue
            try:
                await publish(topic, frame)
            except Exception as exc:
                self._lost(topic, "publish_frames", f"NATS refused the frame: {exc!r}", len(frame))
            else:
                sent += 1
        self._published += sent
        return sent

    # ------------------------------------------------------------------ request / reply

    async def request(
        self,
        topic: str,
        message: Any,
        *,
        timeout: float,
        sender: str = "",
        resend_on_reconnect: bool = False,
    ) -> Any:
        """Send ``message`` and wait for the first reply; ``NoResponders`` at once if nobody
        subscribes to ``topic`` anywhere on the server. With ``resend_on_reconnect``, a
        reconnection while it waits raises ``Reconnected`` (NATS may have lost the request or
        its reply with the old connection) instead of waiting out the timeout."""
        if not timeout or timeout <= 0:
            raise ValueError("a request needs a positive timeout")
        corr = self._corr + 1
        reply_to = self._inbox_prefix + str(corr)
        frame = self._encode(topic, sender, corr, reply_to, message)
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
            self._runs, self._run_timeout = [], None
            self._buckets.clear()
        if timeout != self._run_timeout:
            self._arm(loop, corr, timeout)
        self._corr = corr
        future: asyncio.Future[Any] = loop.create_future()
        self._pending[corr] = future
        if resend_on_reconnect:
            self._cut_on_reconnect.add(future)
        try:
            if self._out:
                await self._flush_queue()
            await self.nc.publish(topic, frame, reply=reply_to)
            reply = await future
        except RequestTimeout:
            raise RequestTimeout(f"no reply on {topic!r} within the timeout") from None
        except NoResponders:
            raise NoResponders(f"no subscriber answers requests on {topic!r}") from None
        finally:
            del self._pending[corr]
            self._cut_on_reconnect.discard(future)
            if future.done() and not future.cancelled():
                future.exception()  # read: a cut that came as the caller was cancelled is no error
        msg = self.codec.decode_message(reply)
        if type(msg) is ErrorReply:
            raise _reply_error(topic, msg)
        return msg

    async def _on_reply(self, msg: Msg) -> None:
        try:
            corr = int(msg.subject[len(self._inbox_prefix) :])
        except ValueError:
            return
        future = self._pending.get(corr)
        if future is None or future.done():
            self._late_replies += 1
            return
        headers = msg.headers
        if headers and headers.get("Status") == _NO_RESPONDERS:
            future.set_exception(NoResponders("no responders"))
            return
        future.set_result(msg.data)

    def reply(self, envelope: Envelope, message: Any, *, sender: str = "") -> bool:
        """Answer a request (from this process or another); False if its requester here is gone."""
        reply_to = envelope.reply_to
        if not reply_to:
            return False
        if reply_to.startswith(self._inbox_prefix):  # our own request: no round trip
            return super().reply(envelope, message, sender=sender)
        try:
            frame = self._encode(reply_to, sender, envelope.corr, "", message)
        except EncodeError as exc:
            frame = self._encode(
                reply_to, sender, envelope.corr, "", ErrorReply(type(exc).__name__, str(exc))
            )
        self._replies += 1
        self._enqueue(lambda: self.nc.publish(reply_to, frame))
        return True

    def fail_envelope(self, envelope: Envelope, error: BaseException) -> None:
        """Answer ``envelope``'s requester, wherever it is, with ``error``."""
        if not envelope.corr:
            return
        if envelope.reply_to.startswith(self._inbox_prefix):
            self.fail_request(envelope.corr, error)
        else:
            self.reply_error(envelope, error)

    def fail_frame(self, frame: bytes, error: BaseException) -> None:
        """Like ``fail_envelope`` for a frame never decoded."""
        corr, reply_to = self.codec.peek_reply(frame)
        if corr and reply_to:
            self.fail_envelope(Envelope("", "", 0, corr, reply_to, None), error)

    # ------------------------------------------------------------------ lost frames

    def _on_reconnect(self) -> None:
        self.reconnects += 1
        for future in self._cut_on_reconnect:
            if not future.done():
                future.set_exception(Reconnected("NATS reconnected while the request waited"))

    def _on_error(self, exc: Exception) -> None:
        if isinstance(exc, SlowConsumerError):
            self.slow_consumer_drops += 1
            sub = self._sub_of.get(exc.sid)
            name = sub.name if sub is not None else "?"
            self._lost(exc.subject, name, "slow consumer: NATS dropped the message", 0)
        else:
            log.warning("NATS: %r", exc)

    def _lost(self, topic: str, subscriber: str, reason: str, size: int) -> None:
        """Count a frame NATS could not carry as a dead letter and publish it."""
        self._dead_letters += 1
        if topic == DEAD_LETTER_TOPIC or self._closed:
            return
        letter = DeadLetter(topic[:200], subscriber[:64], reason[:200], size, b"")
        with contextlib.suppress(Exception):
            self._seq += 1
            frame = self.codec.encode(DEAD_LETTER_TOPIC, "bus", self._seq, 0, "", letter)
            self._published += 1
            self._enqueue(lambda: self.nc.publish(DEAD_LETTER_TOPIC, frame))

    # ------------------------------------------------------------------ lifecycle

    async def aclose(self) -> None:
        """Send what is queued, then close the connection (bounded by a timeout)."""
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._flush_queue()
                if not self.nc.is_closed:
                    await self.nc.flush()
        except (TimeoutError, Exception) as exc:
            log.info("NATS: could not flush before closing: %r", exc)
        self.close()
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self.nc.close()
