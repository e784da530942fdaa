"""Records to event dicts and back: the event-stream form of a record, and its decoding.

Writing: ``event_dict`` puts the header (``seq``, ``tick``, ``time``, ``type``) first, then the
record's fields as plain JSON/msgpack values. Reading: ``decode_event`` turns such a dict back
into the typed record (nested records included) and its ``Header``; an unknown type or a
malformed known one becomes a ``RawEvent`` (never an exception), which every fold ignores.
Fields a record does not have are ignored; missing fields that have a default take it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from fom.events.records import EVENT_TYPES, RawEvent

__all__ = ["Header", "decode_event", "decode_record", "event_dict", "to_plain"]

_PLAIN = frozenset({int, float, str, bool, type(None)})
_field_names: dict[type, tuple[str, ...]] = {}
_HUGE = 1e308  # what the writer puts for an infinite float (JSON has none)


def _names(cls: type) -> tuple[str, ...]:
    names = _field_names.get(cls)
    if names is None:
        names = _field_names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def to_plain(value: Any) -> Any:
    """A record's fields as plain JSON/msgpack values (arrays to lists, records to maps)."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is tuple or t is list:
        return [to_plain(v) for v in value]
    if t is dict:
        return {k: to_plain(v) for k, v in value.items()}
    if t is np.ndarray:
        return value.tolist()
    if t is bytes:
        return value.hex()
    if hasattr(t, "__dataclass_fields__"):
        return {name: to_plain(getattr(value, name)) for name in _names(t)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def event_dict(record: Any, tag: str, seq: int, tick: int, time_s: float) -> dict[str, Any]:
    """The event-stream form of a record: header fields first, then its own fields."""
    event: dict[str, Any] = {"seq": seq, "tick": tick, "time": time_s, "type": tag}
    for name in _names(type(record)):
        if name != "tick":
            event[name] = to_plain(getattr(record, name))
    return event


# ----------------------------------------------------------------------------- decoding


class Header(NamedTuple):
    """An event's envelope: ``seq`` (from 0, no gaps), ``tick`` and wall-clock ``time``."""

    seq: int | None
    tick: int | None
    time: float | None


class _Malformed(ValueError):
    """A field does not have its record's type (turned into a RawEvent)."""


Converter = Callable[[Any], Any]


def _int(x: Any) -> int:
    if type(x) is int:
        return x  # type: ignore[no-any-return]
    raise _Malformed(f"expected int, got {type(x).__name__}")


def _float(x: Any) -> float:
    t = type(x)
    if t is float:
        return x if -_HUGE < x < _HUGE else (math.inf if x > 0 else -math.inf if x < 0 else x)
    if t is int:
        return float(x)
    if x is None:  # the writer's form of NaN
        return math.nan
    raise _Malformed(f"expected float, got {t.__name__}")


def _exact(expected: type) -> Converter:
    def exact(x: Any) -> Any:
        if type(x) is not expected:
            raise _Malformed(f"expected {expected.__name__}, got {type(x).__name__}")
        return x

    return exact


def _identity(x: Any) -> Any:
    return x


def _none(x: Any) -> None:
    if x is not None:
        raise _Malformed(f"expected null, got {type(x).__name__}")


def _converter(hint: Any) -> Converter:
    """A function that checks (and where needed converts) one plain value of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return _identity
    if hint is int:
        return _int
    if hint is float:
        return _float
    if hint is str or hint is bool:
        return _exact(hint)
    if hint is type(None):
        return _none
    if origin in (typing.Union, types.UnionType):
        return _union([_converter(a) for a in args], type(None) in args)
    if origin is tuple:
        return _tuple(args)
    if origin is dict:
        return _mapping(_converter(args[0]), _converter(args[1]))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        decode = _record_decoder(hint)

        def nested(x: Any) -> Any:
            if not isinstance(x, Mapping):
                raise _Malformed(f"expected a {hint.__name__} map, got {type(x).__name__}")
            return decode(x)

        return nested
    raise TypeError(f"no event decoding for field type {hint!r}")


def _union(options: list[Converter], optional: bool) -> Converter:
    def union(x: Any) -> Any:
        if x is None and optional:
            return None
        for conv in options:
            try:
                return conv(x)
            except _Malformed:
                continue
        raise _Malformed(f"{type(x).__name__} matches no allowed type")

    return union


def _tuple(args: tuple[Any, ...]) -> Converter:
    if len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0])

        def homogeneous(x: Any) -> tuple[Any, ...]:
            if type(x) is not list and type(x) is not tuple:
                raise _Malformed(f"expected a list, got {type(x).__name__}")
            return tuple([item(e) for e in x])

        return homogeneous
    items = [_converter(a) for a in args]

    def fixed(x: Any) -> tuple[Any, ...]:
        if (type(x) is not list and type(x) is not tuple) or len(x) != len(items):
            raise _Malformed(f"expected a list of {len(items)}")
        return tuple([c(e) for c, e in zip(items, x, strict=True)])

    return fixed


def _mapping(key: Converter, value: Converter) -> Converter:
    def mapping(x: Any) -> dict[Any, Any]:
        if not isinstance(x, Mapping):
            raise _Malformed(f"expected a map, got {type(x).__name__}")
        return {key(k): value(v) for k, v in x.items()}

    return mapping


_decoders: dict[type, Callable[[Mapping[str, Any]], Any]] = {}
_MISSING = dataclasses.MISSING


def _record_decoder(cls: type) -> Callable[[Mapping[str, Any]], Any]:
    """The decoder of one record class from a map of its fields, built once."""
    decoder = _decoders.get(cls)
    if decoder is not None:
        return decoder
    hints = typing.get_type_hints(cls)
    fields = [
        (f.name, _converter(hints[f.name]), f.default) for f in dataclasses.fields(cls) if f.init
    ]

    def decode(data: Mapping[str, Any]) -> Any:
        values = {}
        for name, conv, default in fields:
            raw = data.get(name, _MISSING)
            if raw is _MISSING:
                if default is _MISSING:
                    raise _Malformed(f"{name}: missing")
                values[name] = default
                continue
            try:
                values[name] = conv(raw)
            except _Malformed as exc:
                raise _Malformed(f"{name}: {exc}") from None
        return cls(**values)

    _decoders[cls] = decode
    return decode


def _header_int(x: Any) -> int | None:
    return x if type(x) is int else None


def decode_record(cls: type, fields: Mapping[str, Any]) -> Any:
    """The record ``cls`` from a map of its plain fields; ValueError if they do not fit."""
    return _record_decoder(cls)(fields)


def decode_event(event: Mapping[str, Any]) -> tuple[Any, Header]:
    """The typed record of an event dict and its header; a ``RawEvent`` for an unknown type or
    a malformed event of a known type (a header field of the wrong type reads as None)."""
    if not isinstance(event, Mapping):
        return RawEvent(None, {}, f"not an event map: {type(event).__name__}"), Header(
            None, None, None
        )
    time = event.get("time")
    header = Header(
        _header_int(event.get("seq")),
        _header_int(event.get("tick")),
        float(time) if type(time) is float or type(time) is int else None,
    )
    kind = event.get("type")
    cls = EVENT_TYPES.get(kind) if type(kind) is str else None
    if cls is None:
        name = kind if type(kind) is str else None
        return RawEvent(name, dict(event), f"unknown event type {kind!r}"), header
    try:
        return _record_decoder(cls)(event), header
    except _Malformed as exc:
        return RawEvent(kind, dict(event), f"malformed {kind}: {exc}"), header
