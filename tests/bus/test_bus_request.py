"""Request/reply on the bus: replies, errors, timeouts, and no responders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgpack
import pytest

from bus import (
    ActorStopped,
    Bus,
    BusClosed,
    Envelope,
    NoResponders,
    RequestFailed,
    RequestTimeout,
    Subscription,
    message,
)


@message("test.request.ask")
class Ask:
    n: int


@message("test.request.answer")
class Answer:
    n: int
    by: str


@pytest.fixture
async def bus() -> AsyncIterator[Bus]:
    b = Bus()
    yield b
    b.close()


async def serve(bus: Bus, sub: Subscription, name: str, count: int) -> list[Envelope]:
    """Answer ``count`` requests with n + 1; returns the request envelopes."""
    seen = []
    for _ in range(count):
        env = await sub.get()
        seen.append(env)
        assert bus.reply(env, Answer(env.message.n + 1, name), sender=name)
    return seen


async def test_no_responder_fails_at_once(bus: Bus) -> None:
    bus.subscribe("other.topic")
    coro = bus.request("nobody.home", Ask(1), timeout=30.0)
    # the very first step raises: no waiting for the timeout, nothing left pending
    with pytest.raises(NoResponders, match=r"nobody\.home"):
        coro.send(None)
    assert bus.pending_requests == 0
    assert bus.stats().requests == 0
    with pytest.raises(LookupError):  # NoResponders is also a LookupError
        await bus.request("nobody.home", Ask(1), timeout=30.0)


async def test_request_needs_a_positive_timeout(bus: Bus) -> None:
    bus.subscribe("svc")
    for bad in (0, -1.0, None):
        with pytest.raises(ValueError):
            await bus.request("svc", Ask(1), timeout=bad)  # type: ignore[arg-type]
    assert bus.pending_requests == 0


async def test_a_reply_is_returned(bus: Bus) -> None:
    sub = bus.subscribe("svc.*", name="svc")
    server = asyncio.create_task(serve(bus, sub, "svc", 1))
    reply = await bus.request("svc.add", Ask(41), timeout=5.0, sender="client")
    assert reply == Answer(42, "svc")
    (env,) = await server
    assert env.is_request and env.reply_to == bus.inbox
    assert env.sender == "client" and env.topic == "svc.add"
    stats = bus.stats()
    assert (stats.requests, stats.replies, stats.timeouts) == (1, 1, 0)
    assert bus.pending_requests == 0


async def test_concurrent_requests_get_their_own_replies(bus: Bus) -> None:
    sub = bus.subscribe("svc", name="svc", capacity=4)
    server = asyncio.create_task(serve(bus, sub, "svc", 100))
    replies = await asyncio.gather(*(bus.request("svc", Ask(i), timeout=5.0) for i in range(100)))
    assert [r.n for r in replies] == [i + 1 for i in range(100)]
    assert len({e.corr for e in await server}) == 100
    assert bus.pending_requests == 0


async def test_timeout_raises_request_timeout(bus: Bus) -> None:
    sub = bus.subscribe("svc", name="silent")
    with pytest.raises(RequestTimeout, match="svc"):
        await bus.request("svc", Ask(1), timeout=0.05)
    assert bus.stats().timeouts == 1
    assert bus.pending_requests == 0
    # the responder answers too late: refused and counted
    env = sub.get_nowait()
    assert env is not None and env.is_request
    assert bus.reply(env, Answer(2, "late")) is False
    assert bus.stats().late_replies == 1


async def test_request_timeout_is_a_timeout_error(bus: Bus) -> None:
    bus.subscribe("svc")
    with pytest.raises(TimeoutError):
        await bus.request("svc", Ask(1), timeout=0.01)


async def test_reply_error_raises_request_failed(bus: Bus) -> None:
    sub = bus.subscribe("svc")

    async def fail() -> None:
        env = await sub.get()
        assert bus.reply_error(env, ValueError("bad input 7"))

    server = asyncio.create_task(fail())
    with pytest.raises(RequestFailed, match="ValueError: bad input 7") as info:
        await bus.request("svc", Ask(1), timeout=5.0)
    assert not isinstance(info.value, ActorStopped)
    await server


async def test_reply_error_with_actor_stopped_keeps_its_type(bus: Bus) -> None:
    sub = bus.subscribe("svc")

    async def fail() -> None:
        bus.reply_error(await sub.get(), ActorStopped("gone"))

    server = asyncio.create_task(fail())
    with pytest.raises(ActorStopped, match="gone"):
        await bus.request("svc", Ask(1), timeout=5.0)
    await server


async def _ask_two(bus: Bus, timeout: float) -> tuple[asyncio.Task[Any], Envelope, Envelope]:
    """A request in flight to two responders on "svc", and the envelope each of them got."""
    a = bus.subscribe("svc", name="a")
    b = bus.subscribe("svc", name="b")
    request = asyncio.create_task(bus.request("svc", Ask(1), timeout=timeout))
    await asyncio.sleep(0)
    env_a, env_b = a.get_nowait(), b.get_nowait()
    assert env_a is not None and env_b is not None and env_a.corr == env_b.corr
    return request, env_a, env_b


async def test_first_of_several_responders_wins(bus: Bus) -> None:
    reply, env_a, env_b = await _ask_two(bus, timeout=5.0)
    assert bus.reply(env_b, Answer(2, "b")) is True
    assert bus.reply(env_a, Answer(2, "a")) is False
    assert (await reply).by == "b"


async def test_request_fails_only_when_every_responder_failed(bus: Bus) -> None:
    req, env_a, env_b = await _ask_two(bus, timeout=30.0)
    bus.fail_request(env_a.corr, ActorStopped("a stopped"))
    await asyncio.sleep(0)
    assert not req.done()  # b may still answer
    bus.fail_request(env_b.corr, ActorStopped("b stopped"))
    with pytest.raises(ActorStopped, match="b stopped"):
        await req


async def test_one_failed_responder_does_not_fail_the_request(bus: Bus) -> None:
    req, env_a, env_b = await _ask_two(bus, timeout=30.0)
    bus.fail_request(env_a.corr, ActorStopped("a stopped"))
    assert bus.reply(env_b, Answer(2, "b"))
    assert (await req).by == "b"


async def test_reply_to_a_plain_message_is_refused(bus: Bus) -> None:
    sub = bus.subscribe("t")
    await bus.publish("t", Ask(1))
    env = await sub.get()
    assert not env.is_request
    assert bus.reply(env, Answer(1, "x")) is False


async def test_closing_the_bus_fails_pending_requests(bus: Bus) -> None:
    bus.subscribe("svc")
    req = asyncio.create_task(bus.request("svc", Ask(1), timeout=30.0))
    await asyncio.sleep(0)
    assert bus.pending_requests == 1
    bus.close()
    with pytest.raises(BusClosed):
        await req


async def test_cancelled_request_leaves_nothing_pending(bus: Bus) -> None:
    sub = bus.subscribe("svc")
    req = asyncio.create_task(bus.request("svc", Ask(1), timeout=30.0))
    await asyncio.sleep(0)
    req.cancel()
    with pytest.raises(asyncio.CancelledError):
        await req
    assert bus.pending_requests == 0
    env = sub.get_nowait()
    assert env is not None and bus.reply(env, Answer(0, "x")) is False


async def test_request_that_does_not_decode_at_the_responder_fails_fast() -> None:
    # the responder's copy of the request is a dead letter: the requester hears of it at once
    bus = Bus()
    sub = bus.subscribe("svc", name="svc")
    req = asyncio.create_task(bus.request("svc", Ask(1), timeout=30.0))
    await asyncio.sleep(0)
    frame = sub.mailbox.get_nowait()
    assert frame is not None
    header = msgpack.unpackb(frame)[:6]
    sub.mailbox.offer(msgpack.packb([*header, "not an int"]))  # same request, bad field
    assert sub.get_nowait() is None
    with pytest.raises(RequestFailed, match="did not decode"):
        await req
    assert bus.stats().dead_letters == 1


async def test_request_times_out_even_when_the_responders_mailbox_is_full() -> None:
    bus = Bus()
    bus.subscribe("svc", capacity=1)
    await bus.publish("svc", Ask(0))  # fills the mailbox; nobody ever reads it
    async with asyncio.timeout(0.5):  # guard only: the assertion is the exception type
        with pytest.raises(RequestTimeout):
            await bus.request("svc", Ask(1), timeout=0.05)
