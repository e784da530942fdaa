"""Frames that do not decode: each is a DecodeError, a dead letter, and the bus goes on."""

from __future__ import annotations

import asyncio
import re
import struct
from typing import Any

import msgpack
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from actors import Actor, Runtime
from bus import (
    DEAD_LETTER_TOPIC,
    NDARRAY_EXT,
    Bus,
    Codec,
    DeadLetter,
    DecodeError,
    EncodeError,
    Envelope,
    FrameTooLarge,
    decode_ndarray,
    default_registry,
    encode_ndarray,
    message,
)


@message("test.bad.point")
class Point:
    x: int
    label: str


@message("test.bad.sample")
class Sample:
    n: int
    value: float
    flag: bool
    name: str
    raw: bytes
    maybe: int | None
    arr: np.ndarray
    pair: tuple[int, str]
    many: tuple[int, ...]
    table: dict[str, float]
    point: Point


GOOD = Point(7, "good")
CODEC = Codec()
TAG = "test.bad.sample"


def sample(**changes: Any) -> Sample:
    base: dict[str, Any] = dict(
        n=1,
        value=2.5,
        flag=True,
        name="s",
        raw=b"r",
        maybe=None,
        arr=np.arange(4, dtype=np.float32),
        pair=(1, "a"),
        many=(1, 2, 3),
        table={"k": 1.0},
        point=Point(1, "p"),
    )
    base.update(changes)
    return Sample(**base)


def fields_of(msg: Sample) -> list[Any]:
    return [
        msg.n,
        msg.value,
        msg.flag,
        msg.name,
        msg.raw,
        msg.maybe,
        encode_ndarray(msg.arr),
        list(msg.pair),
        list(msg.many),
        msg.table,
        [msg.point.x, msg.point.label],
    ]


def frame_of(tag: Any, fields: list[Any], header: list[Any] | None = None) -> bytes:
    head = header if header is not None else ["t.x", "", 1, 0, ""]
    return msgpack.packb([*head, tag, *fields], use_bin_type=True)


def with_field(i: int, value: Any) -> bytes:
    fields = fields_of(sample())
    fields[i] = value
    return frame_of(TAG, fields)


def array_payload(dtype: str, shape: tuple[int, ...], data: bytes) -> msgpack.ExtType:
    head = bytes((len(dtype),)) + dtype.encode() + bytes((len(shape),))
    head += b"".join(struct.pack("<Q", d) for d in shape)
    return msgpack.ExtType(NDARRAY_EXT, head + data)


def test_the_reference_frame_is_good() -> None:
    # guards the helpers: the hand-built frame of the sample decodes
    env = CODEC.decode(frame_of(TAG, fields_of(sample())))
    assert env.message.point == Point(1, "p")
    np.testing.assert_array_equal(env.message.arr, np.arange(4, dtype=np.float32))
    assert frame_of(TAG, fields_of(sample())) == CODEC.encode("t.x", "", 1, 0, "", sample())


# One entry per kind of bad frame: (id, frame, regex the error message must match).
BAD_FRAMES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "not valid msgpack"),
    ("garbage", b"\xc1\xc1\xc1", "not valid msgpack"),
    ("trailing-bytes", frame_of(TAG, fields_of(sample())) + b"\x00", "not valid msgpack"),
    ("not-an-array", msgpack.packb({"topic": "t.x"}), "not an envelope"),
    ("short-array", msgpack.packb(["t.x", "", 1, 0, ""]), "not an envelope"),
    ("unknown-tag", frame_of("no.such.tag", [1]), "unknown message tag 'no.such.tag'"),
    ("tag-not-a-string", frame_of(17, [1]), "unknown message tag 17"),
    ("bad-header-topic", frame_of(TAG, fields_of(sample()), [1, "", 1, 0, ""]), "header"),
    ("bad-header-seq", frame_of(TAG, fields_of(sample()), ["t.x", "", "1", 0, ""]), "header"),
    ("too-few-fields", frame_of(TAG, fields_of(sample())[:-1]), "expected 11 fields, got 10"),
    ("too-many-fields", frame_of(TAG, [*fields_of(sample()), 0]), "expected 11 fields, got 12"),
    ("no-fields", frame_of(TAG, []), "expected 11 fields, got 0"),
    ("int-is-str", with_field(0, "1"), r"test.bad.sample.n: expected int, got str"),
    ("int-is-bool", with_field(0, True), r"\.n: expected int, got bool"),
    ("int-is-float", with_field(0, 1.0), r"\.n: expected int, got float"),
    ("float-is-str", with_field(1, "2.5"), r"\.value: expected float, got str"),
    ("float-is-none", with_field(1, None), r"\.value: expected float"),
    ("bool-is-int", with_field(2, 1), r"\.flag: expected bool, got int"),
    ("str-is-bytes", with_field(3, b"s"), r"\.name: expected str, got bytes"),
    ("bytes-is-str", with_field(4, "r"), r"\.raw: expected bytes, got str"),
    ("optional-is-str", with_field(5, "x"), r"\.maybe"),
    ("array-is-list", with_field(6, [1.0, 2.0]), r"\.arr: expected ndarray"),
    ("array-is-bytes", with_field(6, b"\x00" * 8), r"\.arr: expected ndarray"),
    ("tuple-wrong-length", with_field(7, [1]), r"\.pair: expected a 2-tuple"),
    ("tuple-item-wrong", with_field(7, ["1", "a"]), r"\.pair\[0\]: expected int"),
    ("tuple-is-int", with_field(8, 3), r"\.many: expected a sequence"),
    ("tuple-item-is-str", with_field(8, [1, "2"]), r"\.many\[\]: expected int"),
    ("dict-is-list", with_field(9, [["k", 1.0]]), r"\.table: expected a map"),
    ("dict-value-wrong", with_field(9, {"k": "v"}), r"\.table\.value: expected float"),
    ("dict-key-wrong", with_field(9, {b"k": 1.0}), r"\.table\.key: expected str"),
    ("nested-is-int", with_field(10, 5), r"\.point: expected a nested Point"),
    ("nested-wrong-count", with_field(10, [1]), r"test.bad.point: expected 2 fields, got 1"),
    ("nested-wrong-type", with_field(10, ["1", "p"]), r"\.x: expected int, got str"),
    (
        "array-size-mismatch",
        with_field(6, array_payload("<f4", (4,), b"\x00" * 15)),
        "array payload is 15 bytes",
    ),
    (
        "array-bad-dtype",
        with_field(6, array_payload("<zz", (1,), b"\x00")),
        "malformed array payload",
    ),
    ("array-object-dtype", with_field(6, array_payload("|O", (1,), b"\x00" * 8)), "cannot travel"),
    ("array-void-dtype", with_field(6, array_payload("|V0", (0,), b"")), "cannot travel"),
    (
        "array-truncated-header",
        with_field(6, msgpack.ExtType(NDARRAY_EXT, b"\x03<f8\x02\x01\x00")),
        "malformed array payload",
    ),
    ("array-empty-payload", with_field(6, msgpack.ExtType(NDARRAY_EXT, b"")), "malformed array"),
    (
        "array-huge-shape",
        with_field(6, array_payload("<f8", (2**40, 2**40), b"")),
        "array payload is 0 bytes",
    ),
    (
        "array-absurd-zero-shape",
        with_field(6, array_payload("<f8", (0, 2**63), b"")),
        "malformed array payload",
    ),
    ("unknown-ext-type", with_field(6, msgpack.ExtType(42, b"xyz")), "extension type 42"),
]


@pytest.mark.parametrize(
    ("frame", "reason"), [b[1:] for b in BAD_FRAMES], ids=[b[0] for b in BAD_FRAMES]
)
def test_bad_frame_is_a_decode_error(frame: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        CODEC.decode(frame)


async def assert_dead_lettered(
    frame: bytes, reason: str, *, bus: Bus | None = None, topic: str = "t.x"
) -> DeadLetter:
    """``frame`` reaches a subscriber, which skips it: a dead letter; the next message arrives."""
    b = bus or Bus()
    victim = b.subscribe("t.>", name="victim")
    letters = b.subscribe(DEAD_LETTER_TOPIC, name="letters")
    before = b.stats()
    assert await b.publish_raw(topic, frame) == 1
    assert await b.publish("t.x", GOOD) == 1
    env = await victim.get()
    assert env.message == GOOD and env.topic == "t.x"
    after = b.stats()
    assert after.decode_errors == before.decode_errors + 1
    assert after.dead_letters == before.dead_letters + 1
    letter_env = letters.get_nowait()
    assert letter_env is not None, "no dead letter was published"
    assert letter_env.sender == "bus"
    letter = letter_env.message
    assert isinstance(letter, DeadLetter)
    assert letter.subscriber == "victim"
    assert re.search(reason, letter.reason), letter.reason
    assert letter.size == len(frame)
    assert letter.sample == frame[: len(letter.sample)]
    # and the subscriber goes on: one more good message
    await b.publish("t.y", Point(8, "again"))
    assert (await victim.get()).message == Point(8, "again")
    assert victim.get_nowait() is None
    return letter


@pytest.mark.parametrize(
    ("frame", "reason"), [b[1:] for b in BAD_FRAMES], ids=[b[0] for b in BAD_FRAMES]
)
async def test_bad_frame_becomes_a_dead_letter(frame: bytes, reason: str) -> None:
    await assert_dead_lettered(frame, reason)


async def test_dead_letter_keeps_the_topic_and_a_sample() -> None:
    frame = frame_of("no.such.tag", [b"x" * 1000])
    letter = await assert_dead_lettered(frame, "unknown message tag")
    assert letter.topic == "t.x"
    assert 0 < len(letter.sample) <= 256


async def test_dead_letters_are_not_dead_lettered_again() -> None:
    b = Bus()
    watcher = b.subscribe(DEAD_LETTER_TOPIC, name="watcher")
    await b.publish_raw(
        DEAD_LETTER_TOPIC, frame_of("no.such.tag", [], [DEAD_LETTER_TOPIC, "", 1, 0, ""])
    )
    assert watcher.get_nowait() is None  # skipped, not looped
    assert b.stats().dead_letters == 1
    await b.publish(DEAD_LETTER_TOPIC, DeadLetter("a", "b", "c", 1, b""))
    assert (await watcher.get()).message == DeadLetter("a", "b", "c", 1, b"")


def test_every_prefix_of_a_valid_frame_is_a_decode_error() -> None:
    frame = CODEC.encode("t.x", "me", 3, 0, "", sample())
    accepted = []
    for cut in range(len(frame)):
        try:
            CODEC.decode(frame[:cut])
        except DecodeError:
            continue
        accepted.append(cut)
    assert accepted == [], f"prefixes that decoded: {accepted}"
    assert CODEC.decode(frame).message.point == Point(1, "p")


async def test_truncated_frames_are_dead_lettered_and_the_bus_goes_on() -> None:
    frame = CODEC.encode("t.x", "me", 3, 0, "", sample())
    b = Bus()
    victim = b.subscribe("t.>", name="victim")
    for cut in range(len(frame)):
        await b.publish_raw("t.x", frame[:cut])
    await b.publish_raw("t.x", frame)
    env = await victim.get()
    assert env.sender == "me" and env.message.point == Point(1, "p")
    assert b.stats().dead_letters == len(frame)
    assert b.stats().decode_errors == len(frame)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_decode_error(data: bytes) -> None:
    try:
        env = CODEC.decode(data)
    except DecodeError:
        return
    assert isinstance(env, Envelope)
    assert type(env.message) in default_registry


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_frames_never_raise_anything_but_decode_error(data: st.DataObject) -> None:
    frame = bytearray(CODEC.encode("t.x", "me", 3, 0, "", sample()))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    try:
        env = CODEC.decode(bytes(frame))
    except DecodeError:
        return
    assert type(env.message) is Sample


msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats()
    | st.text(max_size=5)
    | st.binary(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    tag=st.sampled_from(sorted(default_registry.classes)),
    fields=st.lists(msgpack_values, max_size=8),
)
def test_random_fields_for_a_real_tag_never_raise_anything_but_decode_error(
    tag: str, fields: list[Any]
) -> None:
    frame = frame_of(tag, fields)
    try:
        env = CODEC.decode(frame)
    except DecodeError:
        return
    assert type(env.message) is default_registry.classes[tag]


@settings(max_examples=200, deadline=None)
@given(payload=st.binary(max_size=64), dtype=st.sampled_from(["<f8", "|u1", "<i4", "|b1", "<c16"]))
@example(payload=b"\x01,\x00", dtype="<f8")  # dtype ",": numpy raised SyntaxError
def test_random_array_payloads_never_raise_anything_but_decode_error(
    payload: bytes, dtype: str
) -> None:
    for data in (payload, bytes((len(dtype),)) + dtype.encode() + payload):
        try:
            arr = decode_ndarray(data)
        except DecodeError:
            continue
        assert isinstance(arr, np.ndarray) and not arr.flags.writeable


async def test_random_bytes_through_the_bus() -> None:
    rng = np.random.default_rng(1)
    b = Bus()
    victim = b.subscribe("t.>", name="victim")
    for _ in range(200):
        await b.publish_raw("t.x", rng.bytes(int(rng.integers(0, 64))))
    await b.publish("t.x", GOOD)
    seen = []
    while True:
        env = await victim.get()
        seen.append(env.message)
        if env.message == GOOD:
            break
    assert b.stats().dead_letters == 200 - (len(seen) - 1)
    assert victim.get_nowait() is None


# --------------------------------------------------------------------------- oversize frames


async def test_oversize_message_fails_at_publish_and_the_bus_goes_on() -> None:
    b = Bus(max_frame_size=256)
    victim = b.subscribe("t.>", name="victim")
    big = sample(arr=np.zeros(100))
    with pytest.raises(FrameTooLarge, match="over the limit of 256"):
        await b.publish("t.x", big)
    with pytest.raises(EncodeError):
        b.publish_nowait("t.x", big)
    with pytest.raises(EncodeError):
        await b.request("t.x", big, timeout=1.0)
    assert b.pending_requests == 0
    assert len(victim.mailbox) == 0
    await b.publish("t.x", GOOD)
    assert (await victim.get()).message == GOOD


async def test_oversize_raw_frame_is_a_dead_letter() -> None:
    big = CODEC.encode("t.x", "", 1, 0, "", sample(arr=np.zeros(100)))
    assert len(big) > 512
    letter = await assert_dead_lettered(big, "over the limit of 512", bus=Bus(max_frame_size=512))
    assert letter.size == len(big)


async def test_oversize_raw_frame_is_a_dead_letter_even_with_a_tiny_limit() -> None:
    # the dead letter itself (with its sample of the frame) must not be too large to send
    big = CODEC.encode("t.x", "", 1, 0, "", sample(arr=np.zeros(100)))
    letter = await assert_dead_lettered(big, "over the limit", bus=Bus(max_frame_size=200))
    assert letter.size == len(big)


def test_codec_refuses_oversize_frames_on_both_sides() -> None:
    small = Codec(max_frame_size=64)
    with pytest.raises(FrameTooLarge):
        small.encode("t.x", "", 1, 0, "", sample())
    frame = CODEC.encode("t.x", "", 1, 0, "", sample())
    with pytest.raises(FrameTooLarge) as info:
        small.decode(frame)
    assert isinstance(info.value, DecodeError) and isinstance(info.value, EncodeError)


# --------------------------------------------------------------------------- through an actor


class Collector(Actor):
    def __init__(self, want: int) -> None:
        self.got: list[Any] = []
        self.want = want
        self.done = asyncio.Event()

    async def receive(self, envelope: Envelope) -> None:
        self.got.append(envelope.message)
        if len(self.got) >= self.want:
            self.done.set()


async def test_an_actor_survives_bad_frames() -> None:
    async with Runtime() as rt:
        letters = rt.bus.subscribe(DEAD_LETTER_TOPIC, name="letters")
        actor = Collector(2)
        rt.spawn(actor, name="collector", topics=("t.>",))
        for _, frame, _ in BAD_FRAMES[:10]:
            await rt.bus.publish_raw("t.x", frame)
        await rt.bus.publish("t.x", GOOD)
        await rt.bus.publish("t.x", Point(9, "nine"))
        await actor.done.wait()
        assert actor.got == [GOOD, Point(9, "nine")]
        assert rt.bus.stats().dead_letters == 10
        subscribers = set()
        while (env := letters.get_nowait()) is not None:
            subscribers.add(env.message.subscriber)
        assert subscribers == {"collector"}
        assert rt.failures == 0


async def test_dead_letters_are_all_counted_but_logged_at_a_bounded_rate(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bus.bus as bus_module

    b = Bus()
    victim = b.subscribe("t.>", name="victim", capacity=1024)
    bad = frame_of("no.such.tag", [])
    with caplog.at_level("WARNING", logger="bus"):
        for _ in range(500):
            await b.publish_raw("t.x", bad)
        while victim.get_nowait() is not None:
            pass
        assert b.stats().dead_letters == 500
        lines = [r for r in caplog.records if "dead letter" in r.getMessage()]
        assert len(lines) == 1  # not 500: one line per interval
        monkeypatch.setattr(bus_module, "DEAD_LETTER_LOG_INTERVAL", 0.0)
        await b.publish_raw("t.x", bad)
        victim.get_nowait()
    last = [r for r in caplog.records if "dead letter" in r.getMessage()][-1].getMessage()
    assert "(499 more since the last line)" in last
