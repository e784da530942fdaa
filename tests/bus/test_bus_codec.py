"""Registry and codec: round trips of every registered message, arrays, registration rules."""

from __future__ import annotations

import dataclasses
import importlib
import math
import pkgutil
import types
import typing
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import actors
import bus
from bus import (
    Bus,
    Codec,
    EncodeError,
    Envelope,
    Registry,
    RegistryError,
    decode_ndarray,
    default_registry,
    encode_ndarray,
    message,
    register,
)

# Import every actor module so that every channel message is registered.
for _info in pkgutil.walk_packages(actors.__path__, "actors."):
    importlib.import_module(_info.name)


# --------------------------------------------------------------------------- test messages


@message("test.codec.inner")
class Inner:
    x: int
    label: str


@message("test.codec.everything")
class Everything:
    """One field of every supported kind, so the strategy builder covers them all."""

    i: int
    f: float
    s: str
    b: bool
    raw: bytes
    maybe: int | None
    arr: np.ndarray
    pair: tuple[int, str]
    many: tuple[float, ...]
    table: dict[str, float]
    mixed: dict[str, str | int | float | bool | None]
    inner: Inner
    maybe_inner: Inner | None
    inners: tuple[Inner, ...]
    nested: tuple[tuple[int, int], ...]


@message("test.codec.empty")
class Empty:
    pass


# --------------------------------------------------------------------------- strategies

DTYPES = [
    np.dtype(np.float32),
    np.dtype(np.float64),
    np.dtype(np.int8),
    np.dtype(np.int16),
    np.dtype(np.int32),
    np.dtype(np.int64),
    np.dtype(np.uint8),
    np.dtype(np.bool_),
    np.dtype(np.complex128),
    np.dtype(">f8"),
]

arrays = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
)


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """A strategy for values of a message field's declared type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**63), 2**64 - 1)
    if hint is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if hint is str:
        return st.text(max_size=12)
    if hint is bytes:
        return st.binary(max_size=24)
    if hint is type(None):
        return st.none()
    if hint is np.ndarray:
        return arrays
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[strategy_for(a) for a in args])
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
        return st.tuples(*[strategy_for(a) for a in args])
    if origin is dict:
        return st.dictionaries(strategy_for(args[0]), strategy_for(args[1]), max_size=3)
    if dataclasses.is_dataclass(hint) and hint in default_registry:
        return message_strategy(hint)
    raise AssertionError(f"no strategy for field type {hint!r}")


def message_strategy(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(cls) if f.init}
    return st.builds(cls, **fields)


def assert_same(a: Any, b: Any, where: str = "msg") -> None:
    """Deep equality that understands arrays (dtype and shape too) and NaN."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype, f"{where}: dtype {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{where}: shape {a.shape} != {b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple):
        assert type(b) is tuple and len(a) == len(b), f"{where}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert type(b) is dict and a.keys() == b.keys(), f"{where}: {a!r} != {b!r}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, float) and math.isnan(a):
        assert type(b) is float and math.isnan(b), f"{where}: {b!r} is not nan"
    else:
        assert type(a) is type(b), f"{where}: type {type(a)} != {type(b)}"
        assert a == b, f"{where}: {a!r} != {b!r}"


CODEC = Codec()
ALL_TAGS = sorted(default_registry.classes)


def test_every_channel_message_is_registered() -> None:
    # a smoke check that the import loop above did its job
    for tag in ("bus.dead_letter", "bus.error_reply", "actor.failed", "world.tick", "tip.start"):
        assert tag in ALL_TAGS


@pytest.mark.parametrize("tag", ALL_TAGS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_every_registered_message(tag: str, data: st.DataObject) -> None:
    cls = default_registry.classes[tag]
    msg = data.draw(message_strategy(cls), label="message")
    header = data.draw(
        st.tuples(
            st.text(max_size=8),
            st.text(max_size=8),
            st.integers(0, 2**63 - 1),
            st.integers(0, 2**63 - 1),
            st.text(max_size=8),
        ),
        label="header",
    )
    frame = CODEC.encode(*header, msg)
    env = CODEC.decode(frame)
    assert isinstance(env, Envelope)
    assert tuple(env[:5]) == header
    assert type(env.message) is cls
    assert_same(msg, env.message)
    # the decoded copy encodes to the very same bytes
    assert CODEC.encode(*header, env.message) == frame


@settings(max_examples=60, deadline=None)
@given(msg=message_strategy(Everything))
def test_round_trip_covers_every_field_kind(msg: Everything) -> None:
    assert_same(msg, CODEC.copy(msg))


def test_empty_message_round_trips() -> None:
    assert CODEC.copy(Empty()) == Empty()


def test_int_in_float_field_decodes_as_float() -> None:
    m = CODEC.copy(Everything(**{**_everything_kwargs(), "f": 2}))  # type: ignore[arg-type]
    assert m.f == 2.0 and type(m.f) is float


def test_numpy_scalars_encode_as_python_values() -> None:
    m = Inner(np.int64(7), "x")  # type: ignore[arg-type]
    out = CODEC.copy(m)
    assert out.x == 7 and type(out.x) is int


def test_unregistered_message_is_an_encode_error() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Stranger:
        x: int

    with pytest.raises(EncodeError, match="not a registered message"):
        CODEC.encode_message(Stranger(1))


def test_values_that_cannot_be_encoded_are_encode_errors() -> None:
    with pytest.raises(EncodeError):
        CODEC.encode_message(Inner(2**70, "too big"))
    with pytest.raises(EncodeError):
        CODEC.encode_message(Inner(1, object()))  # type: ignore[arg-type]
    with pytest.raises(EncodeError, match="object arrays"):
        CODEC.encode_message(
            Everything(**{**_everything_kwargs(), "arr": np.array([None, 1], dtype=object)})
        )
    # the packer is reset after a failure: the next encode is clean
    assert CODEC.copy(Inner(1, "ok")) == Inner(1, "ok")


def _everything_kwargs() -> dict[str, Any]:
    return dict(
        i=1,
        f=1.5,
        s="s",
        b=True,
        raw=b"\x00\x01",
        maybe=None,
        arr=np.arange(3.0),
        pair=(1, "a"),
        many=(1.0, 2.0),
        table={"a": 1.0},
        mixed={"a": "x", "b": 1, "c": 1.5, "d": False, "e": None},
        inner=Inner(1, "i"),
        maybe_inner=None,
        inners=(Inner(2, "j"),),
        nested=((1, 2), (3, 4)),
    )


# --------------------------------------------------------------------------- arrays

ARRAYS = {
    "scalar": np.array(3.25),
    "empty": np.zeros((0,)),
    "vector": np.arange(3.0),
    "matrix": np.arange(6).reshape(2, 3),
    "empty-3d": np.zeros((2, 0, 4), dtype=np.int16),
    "strided": np.arange(20.0)[::3],
    "column": np.arange(12).reshape(3, 4)[:, 1],
    "transposed": np.arange(12).reshape(3, 4).T,
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "reversed": np.arange(5)[::-1],
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_array_round_trip(name: str, dtype: np.dtype) -> None:
    src = ARRAYS[name].astype(dtype)
    if name in ("strided", "column", "transposed", "reversed"):
        # astype copies to C order; take the same view again to stay non-contiguous
        src = {
            "strided": lambda: np.arange(20).astype(dtype)[::3],
            "column": lambda: np.arange(12).astype(dtype).reshape(3, 4)[:, 1],
            "transposed": lambda: np.arange(12).astype(dtype).reshape(3, 4).T,
            "reversed": lambda: np.arange(5).astype(dtype)[::-1],
        }[name]()
        assert not src.flags.c_contiguous
    out = CODEC.copy(Everything(**{**_everything_kwargs(), "arr": src})).arr
    assert out.dtype == src.dtype
    assert out.dtype.str == src.dtype.str  # byte order kept
    assert out.shape == src.shape
    np.testing.assert_array_equal(out, src)


def _base_bytes(arr: np.ndarray) -> object:
    base: object = arr
    while isinstance(base, np.ndarray):
        base = base.base
    return base


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_decoded_arrays_are_read_only_views_of_the_frame_bytes(name: str) -> None:
    src = ARRAYS[name]
    ext = encode_ndarray(src)
    out = decode_ndarray(ext.data)
    np.testing.assert_array_equal(out, src)
    assert not out.flags.writeable
    assert not out.flags.owndata
    base = _base_bytes(out)
    assert isinstance(base, bytes)
    if out.size:
        assert np.shares_memory(out, np.frombuffer(base, dtype=np.uint8))
    with pytest.raises(ValueError):
        out[...] = 0


def test_array_in_a_decoded_message_is_read_only_and_shares_memory() -> None:
    msg = Everything(**{**_everything_kwargs(), "arr": np.arange(8, dtype=np.float32)})
    out = CODEC.copy(msg).arr
    assert not out.flags.writeable
    base = _base_bytes(out)
    assert isinstance(base, bytes)
    # the raw payload sits at the end of the extension bytes: no extra copy was made
    assert base.endswith(out.tobytes())
    assert np.shares_memory(out, np.frombuffer(base, dtype=np.uint8))


@settings(max_examples=100, deadline=None)
@given(arr=arrays)
def test_array_round_trip_hypothesis(arr: np.ndarray) -> None:
    out = decode_ndarray(encode_ndarray(arr).data)
    assert out.dtype == arr.dtype and out.shape == arr.shape
    np.testing.assert_array_equal(out, arr)


# --------------------------------------------------------------------------- registration


def test_registration_rejects_a_mutable_dataclass() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    with pytest.raises(RegistryError, match="frozen"):
        Registry().register("t.mutable", Mutable)


def test_registration_rejects_a_dataclass_without_slots() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        x: int

    with pytest.raises(RegistryError, match="slot"):
        Registry().register("t.noslots", NoSlots)


def test_registration_rejects_a_plain_class() -> None:
    class Plain:
        __slots__ = ("x",)

    with pytest.raises(RegistryError, match="not a dataclass"):
        Registry().register("t.plain", Plain)


@pytest.mark.parametrize(
    "hint",
    [list[int], set, object.__class__, complex, "Undefined", tuple[list[int], ...], Codec],
    ids=str,
)
def test_registration_rejects_unsupported_field_types(hint: Any) -> None:
    cls = dataclasses.make_dataclass("Bad", [("x", hint)], frozen=True, slots=True)
    reg = Registry()
    with pytest.raises(RegistryError):
        reg.register("t.bad", cls)
    assert "t.bad" not in reg.classes


def test_registration_rejects_an_unregistered_nested_message() -> None:
    child = dataclasses.make_dataclass("Child", [("x", int)], frozen=True, slots=True)
    parent = dataclasses.make_dataclass("Parent", [("child", child)], frozen=True, slots=True)
    reg = Registry()
    with pytest.raises(RegistryError, match="registered before use"):
        reg.register("t.parent", parent)
    reg.register("t.child", child)
    reg.register("t.parent", parent)
    assert Codec(reg).copy(parent(child(4))) == parent(child(4))


def test_registration_rejects_duplicate_tags_and_classes() -> None:
    reg = Registry()

    @message("t.one", reg)
    class One:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Other:
        x: int

    with pytest.raises(RegistryError, match="already registered"):
        reg.register("t.one", Other)
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("t.two", One)
    with pytest.raises(RegistryError):
        reg.register("", Other)
    # re-registering the same pair is a no-op
    assert reg.register("t.one", One) is One
    assert reg.classes == {"t.one": One}
    assert reg.tag_of(One) == "t.one"
    with pytest.raises(RegistryError):
        reg.tag_of(Other)


def test_default_registry_rejects_a_tag_clash() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Impostor:
        topic: str

    with pytest.raises(RegistryError):
        register("bus.dead_letter", Impostor)
    assert default_registry.classes["bus.dead_letter"] is bus.DeadLetter


def test_message_decorator_makes_frozen_slotted_dataclasses() -> None:
    reg = Registry()

    @message("t.made", reg)
    class Made:
        x: int

    assert dataclasses.is_dataclass(Made)
    assert "__slots__" in Made.__dict__
    with pytest.raises(dataclasses.FrozenInstanceError):
        Made(1).x = 2  # type: ignore[misc]


def test_bus_uses_its_registry() -> None:
    b = Bus()
    assert b.registry is default_registry
    assert b.codec.registry is default_registry
