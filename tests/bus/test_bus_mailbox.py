"""Mailboxes and overflow: BLOCK holds the publisher back and loses nothing; DROP_OLDEST sheds."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bus import Bus, BusClosed, Mailbox, Overflow, message


@message("test.mailbox.item")
class Item:
    n: int


@message("test.mailbox.blob")
class Blob:
    values: np.ndarray
    tags: tuple[str, ...]


async def yield_control(times: int = 5) -> None:
    """Let every ready task run a few steps (yielding, not waiting for time to pass)."""
    for _ in range(times):
        await asyncio.sleep(0)


async def take(sub, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [(await sub.get()).message.n for _ in range(n)]


# --------------------------------------------------------------------------- BLOCK


async def test_full_blocking_mailbox_holds_the_publisher_back() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=2)
    assert sub.mailbox.policy is Overflow.BLOCK
    await bus.publish("t", Item(0))
    await bus.publish("t", Item(1))
    publisher = asyncio.create_task(bus.publish("t", Item(2)))
    await yield_control()
    assert not publisher.done(), "the publisher went on although the mailbox is full"
    assert len(sub.mailbox) == 2
    assert (await sub.get()).message == Item(0)
    await yield_control()
    assert publisher.done()
    assert publisher.result() == 1
    assert await take(sub, 2) == [1, 2]
    assert bus.stats().dropped == 0
    assert bus.stats().delivered == 3


async def test_blocked_publishers_lose_nothing() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=3)
    publishers = [asyncio.create_task(bus.publish("t", Item(i))) for i in range(20)]
    await yield_control()
    assert sum(p.done() for p in publishers) == 3
    got = await take(sub, 20)
    await asyncio.gather(*publishers)
    assert sorted(got) == list(range(20))
    assert got[:3] == [0, 1, 2]
    assert bus.stats().dropped == 0
    assert len(sub.mailbox) == 0


async def test_one_publisher_in_a_loop_keeps_its_order_under_block() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=1)

    async def produce() -> None:
        for i in range(50):
            await bus.publish("t", Item(i))

    producer = asyncio.create_task(produce())
    assert await take(sub, 50) == list(range(50))
    await producer
    assert bus.stats().dropped == 0


async def test_a_slow_subscriber_blocks_the_publisher_but_a_fast_one_still_gets_it() -> None:
    bus = Bus()
    fast = bus.subscribe("t", capacity=100, name="fast")  # delivered first: subscribed first
    slow = bus.subscribe("t", capacity=1, name="slow")
    await bus.publish("t", Item(0))
    publisher = asyncio.create_task(bus.publish("t", Item(1)))
    await yield_control()
    assert not publisher.done()
    assert len(fast.mailbox) == 2
    await slow.get()
    await publisher
    assert await take(slow, 1) == [1]
    assert await take(fast, 2) == [0, 1]


async def test_unsubscribing_releases_a_blocked_publisher() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=1)
    await bus.publish("t", Item(0))
    publisher = asyncio.create_task(bus.publish("t", Item(1)))
    await yield_control()
    assert not publisher.done()
    left = sub.close()
    assert [bus.codec.decode(f).message for f in left] == [Item(0)]
    await yield_control()
    assert publisher.done()
    # the frame that was waiting for room went to a closed mailbox: dropped there, not delivered
    assert sub.mailbox.dropped == 1
    assert len(sub.mailbox) == 0


async def test_publish_nowait_on_a_full_blocking_mailbox_drops_and_counts() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=1)
    assert bus.publish_nowait("t", Item(0)) == 1
    assert bus.publish_nowait("t", Item(1)) == 0
    assert bus.stats().dropped == 1
    assert await take(sub, 1) == [0]
    assert sub.get_nowait() is None


# --------------------------------------------------------------------------- DROP_OLDEST


async def test_drop_oldest_keeps_the_newest_and_counts_the_drops() -> None:
    bus = Bus()
    sub = bus.subscribe("t", capacity=3, overflow=Overflow.DROP_OLDEST)
    for i in range(10):
        # never blocks: each publish finishes without another task running
        assert await bus.publish("t", Item(i)) == 1
    assert len(sub.mailbox) == 3
    assert bus.stats().dropped == 7
    assert sub.mailbox.dropped == 7
    assert await take(sub, 3) == [7, 8, 9]
    assert sub.get_nowait() is None
    await bus.publish("t", Item(10))
    assert await take(sub, 1) == [10]
    assert bus.stats().dropped == 7


async def test_drops_stay_counted_after_unsubscribe() -> None:
    bus = Bus()
    a = bus.subscribe("t", capacity=1, overflow=Overflow.DROP_OLDEST)
    b = bus.subscribe("t", capacity=2, overflow=Overflow.DROP_OLDEST)
    for i in range(5):
        await bus.publish("t", Item(i))
    assert bus.stats().dropped == 4 + 3
    a.close()
    assert bus.stats().dropped == 7
    assert await take(b, 2) == [3, 4]


async def test_drop_oldest_and_block_side_by_side() -> None:
    bus = Bus()
    telemetry = bus.subscribe("t", capacity=2, overflow=Overflow.DROP_OLDEST)
    sink = bus.subscribe("t", capacity=10)
    for i in range(6):
        await bus.publish("t", Item(i))
    assert await take(telemetry, 2) == [4, 5]
    assert await take(sink, 6) == list(range(6))
    assert bus.stats().dropped == 4


# --------------------------------------------------------------------------- Mailbox unit


def test_mailbox_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Mailbox(0)


async def test_mailbox_get_waits_for_a_frame() -> None:
    box = Mailbox(2)
    getter = asyncio.create_task(box.get())
    await yield_control()
    assert not getter.done()
    assert box.offer(b"x")
    assert await getter == b"x"
    assert box.get_nowait() is None


def test_mailbox_offer_and_drain() -> None:
    box = Mailbox(2, Overflow.BLOCK)
    assert box.offer(b"1") and box.offer(b"2")
    assert box.full()
    assert box.offer(b"3") is False
    assert box.drain() == [b"1", b"2"]
    assert len(box) == 0
    box.close()
    assert box.offer(b"4") is True  # accepted and dropped: the subscriber is gone
    assert box.dropped == 1 and len(box) == 0


async def test_cancelled_put_does_not_leave_a_waiter_behind() -> None:
    box = Mailbox(1)
    box.offer(b"1")
    putter = asyncio.create_task(box.put(b"2"))
    await yield_control()
    putter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await putter
    assert len(box._putters) == 0
    assert await box.get() == b"1"
    assert box.get_nowait() is None


# --------------------------------------------------------------------------- delivery


async def test_every_subscriber_decodes_its_own_copy() -> None:
    bus = Bus()
    a = bus.subscribe("t.*")
    b = bus.subscribe("t.>")
    sent = Blob(np.arange(4.0), ("x", "y"))
    assert await bus.publish("t.x", sent, sender="me") == 2
    ea, eb = await a.get(), await b.get()
    assert ea.sender == eb.sender == "me"
    assert ea.topic == "t.x" and not ea.is_request
    assert ea.seq == eb.seq
    assert ea.message is not eb.message and ea.message is not sent
    assert ea.message.values is not eb.message.values
    np.testing.assert_array_equal(ea.message.values, sent.values)
    assert not ea.message.values.flags.writeable


async def test_sequence_numbers_grow() -> None:
    bus = Bus()
    sub = bus.subscribe("t")
    for i in range(3):
        await bus.publish("t", Item(i))
    seqs = [(await sub.get()).seq for _ in range(3)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3


async def test_publish_without_subscribers_delivers_nothing() -> None:
    bus = Bus()
    assert await bus.publish("nobody.home", Item(1)) == 0
    assert bus.publish_nowait("nobody.home", Item(1)) == 0
    assert bus.stats().delivered == 0


async def test_subscription_is_an_async_iterator() -> None:
    bus = Bus()
    sub = bus.subscribe("t")
    for i in range(3):
        await bus.publish("t", Item(i))
    got = []
    async for env in sub:
        got.append(env.message.n)
        if len(got) == 3:
            break
    assert got == [0, 1, 2]


async def test_closed_bus_refuses_traffic() -> None:
    bus = Bus()
    sub = bus.subscribe("t")
    bus.close()
    assert bus.stats().subscriptions == 0
    assert sub.mailbox.closed
    with pytest.raises(BusClosed):
        await bus.publish("t", Item(1))
    with pytest.raises(BusClosed):
        bus.subscribe("t")
    with pytest.raises(BusClosed):
        await bus.request("t", Item(1), timeout=1.0)
    bus.close()  # idempotent
