"""The NATS transport against a real nats-server: same subjects and frames as in-process."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bus import (
    DEAD_LETTER_TOPIC,
    BusUnavailable,
    DeadLetter,
    DecodeError,
    FrameTooLarge,
    NoResponders,
    Reconnected,
    RequestFailed,
    RequestTimeout,
    message,
    open_bus,
)
from bus.nats import NatsBus
from bus.server import NatsServer


@message("test.nats.ping")
class Ping:
    """A small message with an array, to check frames survive the hop."""

    n: int
    vec: np.ndarray


async def _pair(url: str) -> tuple[NatsBus, NatsBus]:
    a = await open_bus(url, name="a")
    b = await open_bus(url, name="b")
    assert isinstance(a, NatsBus) and isinstance(b, NatsBus)
    return a, b


async def _ready(*buses: NatsBus) -> None:
    """Subscriptions are sent in order; a flush of each bus makes sure the server has them."""
    for bus in buses:
        await bus._flush_queue()
        await bus.nc.flush(timeout=5)


async def test_publish_wildcards_across_connections(nats_server: NatsServer) -> None:
    a, b = await _pair(nats_server.url)
    try:
        one = b.subscribe("event.*.shot", name="one")
        rest = b.subscribe("event.>", name="rest")
        await _ready(b)
        await a.publish("event.tip.shot", Ping(1, np.arange(3.0)), sender="tip-1")
        await a.publish("event.world.tick", Ping(2, np.zeros(2)))
        await a.publish("other.topic", Ping(3, np.zeros(1)))
        env = await asyncio.wait_for(one.get(), 5)
        assert env.topic == "event.tip.shot" and env.sender == "tip-1"
        assert env.message.n == 1 and env.message.vec.tolist() == [0.0, 1.0, 2.0]
        got = [(await asyncio.wait_for(rest.get(), 5)).message.n for _ in range(2)]
        assert got == [1, 2]
        assert one.get_nowait() is None  # event.world.tick does not match event.*.shot
    finally:
        await a.aclose()
        await b.aclose()


async def test_request_reply_no_responders_and_timeout(nats_server: NatsServer) -> None:
    a, b = await _pair(nats_server.url)
    try:
        with pytest.raises(NoResponders):
            await asyncio.wait_for(a.request("nobody.home", Ping(0, np.zeros(1)), timeout=30), 2)
        server = b.subscribe("svc.double", name="svc")
        silent = b.subscribe("svc.silent", name="silent")
        failing = b.subscribe("svc.fail", name="fail")
        await _ready(b)

        async def serve() -> None:
            while True:
                env = await server.get()
                b.reply(env, Ping(env.message.n * 2, env.message.vec * 2))

        async def fail() -> None:
            env = await failing.get()
            b.reply_error(env, ValueError("bad n"))

        tasks = [asyncio.create_task(serve()), asyncio.create_task(fail())]
        replies = await asyncio.gather(
            *(a.request("svc.double", Ping(i, np.ones(2)), timeout=5) for i in range(50))
        )
        assert [r.n for r in replies] == [2 * i for i in range(50)]
        assert replies[3].vec.tolist() == [2.0, 2.0]
        with pytest.raises(RequestTimeout):
            await a.request("svc.silent", Ping(0, np.zeros(1)), timeout=0.2)
        with pytest.raises(RequestFailed, match="bad n"):
            await a.request("svc.fail", Ping(0, np.zeros(1)), timeout=5)
        assert a.pending_requests == 0 and silent.mailbox  # the silent one did get it
        for t in tasks:
            t.cancel()
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_request_waiting_across_a_reconnect_is_cut_short_when_asked(
    nats_server: NatsServer,
) -> None:
    """A request or reply in flight when the server goes is lost without a word; a caller that
    can send again (the driver's encounter steps) hears of the reconnection, not the timeout."""
    a, b = await _pair(nats_server.url)
    try:
        silent = b.subscribe("svc.silent", name="silent")
        await _ready(b)
        plain = asyncio.create_task(a.request("svc.silent", Ping(0, np.zeros(1)), timeout=60))
        cut = asyncio.create_task(
            a.request("svc.silent", Ping(1, np.zeros(1)), timeout=60, resend_on_reconnect=True)
        )
        for _ in range(2):
            await asyncio.wait_for(silent.get(), 5)  # both arrived; nobody answers them
        await asyncio.to_thread(nats_server.pause)
        await asyncio.to_thread(nats_server.start)
        with pytest.raises(Reconnected):
            await asyncio.wait_for(cut, 20)
        assert a.reconnects >= 1 and not plain.done(), "only the request that asked is cut"
        plain.cancel()
        with pytest.raises(asyncio.CancelledError):
            await plain
        assert a.pending_requests == 0
    finally:
        await a.aclose()
        await b.aclose()


async def test_malformed_frames_are_dead_letters_and_the_bus_goes_on(
    nats_server: NatsServer,
) -> None:
    a, b = await _pair(nats_server.url)
    try:
        sub = b.subscribe("data.>", name="reader")
        letters = a.subscribe(DEAD_LETTER_TOPIC, name="letters")
        await _ready(a, b)
        await a.publish_raw("data.x", b"\xc1 not msgpack")
        await a.publish_raw("data.x", b"\x96\xa1a\xa1b\x00\x00\xa0\xa7no.such")  # unknown tag
        await a.publish("data.x", Ping(7, np.zeros(1)))
        env = await asyncio.wait_for(sub.get(), 5)  # skips the two bad frames
        assert env.message.n == 7
        got = [(await asyncio.wait_for(letters.get(), 5)).message for _ in range(2)]
        assert all(isinstance(m, DeadLetter) and m.subscriber == "reader" for m in got)
        assert b.stats().dead_letters == 2
        # a request whose frame does not decode fails at once, not at its timeout
        bad = b.subscribe("svc.bad", name="svc")
        await _ready(b)
        task = asyncio.create_task(a.request("svc.bad", Ping(1, np.zeros(1)), timeout=30))
        frame = await asyncio.wait_for(bad.mailbox.get(), 5)  # as if a field were malformed:
        b._dead_letter(bad, frame, DecodeError("test.nats.ping: field n is not an int"))
        with pytest.raises(RequestFailed, match="did not decode"):
            await asyncio.wait_for(task, 5)
    finally:
        await a.aclose()
        await b.aclose()


async def test_slow_consumer_drops_are_counted_dead_letters(nats_server: NatsServer) -> None:
    a = await NatsBus.connect(nats_server.url, name="a")
    b = await NatsBus.connect(nats_server.url, name="b", pending_msgs_limit=5)
    try:
        stuck = b.subscribe("flood", name="stuck", capacity=1)  # never read
        letters = a.subscribe(DEAD_LETTER_TOPIC, name="letters")
        await _ready(a, b)
        for i in range(60):
            await a.publish("flood", Ping(i, np.zeros(1)))
        await a.nc.flush(timeout=5)
        for _ in range(100):  # bounded: the client sees the overflow as the frames arrive
            if b.slow_consumer_drops:
                break
            await asyncio.sleep(0.02)
        assert b.slow_consumer_drops > 0
        assert b.stats().dead_letters == b.slow_consumer_drops
        letter = (await asyncio.wait_for(letters.get(), 5)).message
        assert letter.topic == "flood" and letter.subscriber == "stuck"
        assert "slow consumer" in letter.reason
        assert len(stuck.mailbox) == 1
    finally:
        await a.aclose()
        await b.aclose()


async def test_frame_over_server_max_payload_is_a_dead_letter() -> None:
    pytest.importorskip("nats")
    from bus.server import nats_server_binary

    if nats_server_binary() is None:
        pytest.skip("no nats-server binary")
    with NatsServer(max_payload=4096) as server:
        a = await NatsBus.connect(server.url)
        try:
            assert a.codec.max_frame_size == 4096
            with pytest.raises(FrameTooLarge):
                await a.publish("big", Ping(1, np.zeros(1000)))
            assert a.oversize_frames == 1 and a.stats().dead_letters == 1
            await a.publish("small", Ping(1, np.zeros(4)))  # the bus goes on
        finally:
            await a.aclose()


async def test_no_server_is_one_clear_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BusUnavailable, match=f"no NATS server answers at nats://127.0.0.1:{port}"):
        await open_bus(f"nats://127.0.0.1:{port}", connect_timeout=1.0)
    with pytest.raises(BusUnavailable, match="nats://HOST:PORT"):
        await open_bus("http://localhost:4222")


def test_topic_of_reads_the_topic_from_the_first_bytes() -> None:
    from bus import Bus

    codec = Bus().codec
    for topic in ("a", "event.tip.shot", "x" * 40, "y." * 200 + "z"):
        frame = codec.encode(topic, "s", 1, 0, "", Ping(1, np.zeros(2)))
        assert codec.topic_of(frame) == topic
    assert codec.topic_of(b"") is None and codec.topic_of(b"\xc1junk") is None
    assert codec.topic_of(b"\x96\xa5ab") is None  # cut short


async def test_the_bridge_forwards_local_frames_to_nats(nats_server: NatsServer) -> None:
    from bus import Bus
    from bus.bridge import Bridge

    local = Bus()
    remote, follower = await _pair(nats_server.url)
    try:
        sub = follower.subscribe("event.>", name="follower")
        await _ready(follower)
        bridge = Bridge(local, remote, "event.>")
        kept = local.subscribe("event.>", name="local")  # local subscribers still get them
        for i in range(5):
            await local.publish(f"event.n{i}", Ping(i, np.full(2, i)), sender="me")
        await local.publish("other.topic", Ping(9, np.zeros(1)))
        got = [await asyncio.wait_for(sub.get(), 5) for _ in range(5)]
        assert [(e.topic, e.sender, e.message.n) for e in got] == [
            (f"event.n{i}", "me", i) for i in range(5)
        ]
        assert bridge.sent == 5 and bridge.lost == 0 and len(kept.mailbox) == 5
        bridge.close()
        await local.publish("event.late", Ping(0, np.zeros(1)))
        assert bridge.sent == 5
    finally:
        await remote.aclose()
        await follower.aclose()


async def test_frames_from_nats_reach_local_subscribers_but_are_not_sent_back(
    nats_server: NatsServer,
) -> None:
    """``publish_frames(local_only=True)``: what a worker already put on NATS reaches the
    driver's own subscribers and is not forwarded by its bridge a second time; a frame
    outside ``within`` (or naming no topic) is a counted dead letter, on both kinds of bus."""
    from bus import Bus
    from bus.bridge import Bridge

    local = Bus()
    remote, follower = await _pair(nats_server.url)
    try:
        nats_sub = follower.subscribe("event.>", name="follower")
        await _ready(follower)
        bridge = Bridge(local, remote, "event.>")
        kept = local.subscribe("event.>", name="local")
        letters = local.subscribe(DEAD_LETTER_TOPIC, name="letters")
        frames = [
            remote.codec.encode(f"event.n{i}", "w0", 0, 0, "", Ping(i, np.full(2, i)))
            for i in range(4)
        ]
        stray = remote.codec.encode("world.act", "w0", 0, 0, "", Ping(9, np.zeros(1)))
        routed = await local.publish_frames([*frames, stray, b"\xc1junk"], local_only=True,
                                            within="event.")  # fmt: skip
        assert routed == 4 and len(kept.mailbox) == 4 and bridge.sent == 0
        assert [kept.get_nowait().message.n for _ in range(4)] == [0, 1, 2, 3]
        reasons = [letters.get_nowait().message.reason for _ in range(2)]
        assert "'world.act' is not in 'event.'" in reasons[0] and "no topic" in reasons[1]
        assert local.stats().dead_letters == 2
        assert await local.publish_frames(frames[:1]) == 1 and bridge.sent == 1  # not local-only
        sent = await remote.publish_frames([*frames, stray], within="event.")
        assert sent == 4 and remote.stats().dead_letters == 1
        got = [await asyncio.wait_for(nats_sub.get(), 5) for _ in range(5)]
        assert sorted(e.message.n for e in got) == [0, 0, 1, 2, 3]  # the bridge's, then these
    finally:
        await remote.aclose()
        await follower.aclose()
