"""Message registry: frozen, slotted dataclasses registered under stable string tags.

Registering a class compiles, once, a decoder that checks every field's type and builds the
instance without calling ``__init__`` (frozen dataclass initialisers are slow), and a getter
that turns an instance into the tuple of its field values for the codec.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, get_type_hints

import numpy as np

from bus.errors import DecodeError, RegistryError

__all__ = ["MessageSpec", "Registry", "default_registry", "message", "register"]

T = TypeVar("T")

Converter = Callable[[Any], Any]


class MessageSpec:
    """What the codec needs to know about one registered message class."""

    __slots__ = (
        "cls",
        "decode_envelope",
        "decode_fields",
        "decode_message",
        "field_names",
        "fields_of",
        "frame_values",
        "tag",
    )

    def __init__(
        self,
        cls: type,
        tag: str,
        field_names: tuple[str, ...],
        fields_of: Callable[[Any], tuple[Any, ...]],
        decode_fields: Callable[[tuple[Any, ...], int], Any],
        decode_envelope: Callable[[tuple[Any, ...]], Any],
        frame_values: Callable[[str, str, int, int, str, Any], tuple[Any, ...]] | None = None,
        decode_message: Callable[[tuple[Any, ...]], Any] | None = None,
    ) -> None:
        self.cls = cls
        self.tag = tag
        self.field_names = field_names
        self.fields_of = fields_of
        self.decode_fields = decode_fields
        self.decode_envelope = decode_envelope
        if frame_values is None:

            def frame_values(
                topic: str, sender: str, seq: int, corr: int, reply_to: str, m: Any
            ) -> tuple[Any, ...]:
                return (topic, sender, seq, corr, reply_to, tag, *fields_of(m))

        self.frame_values = frame_values
        if decode_message is None:

            def decode_message(v: tuple[Any, ...]) -> Any:
                return decode_envelope(v)[5]

        self.decode_message = decode_message


class Registry:
    """Maps tags to message classes and back; one per bus (a process-wide default exists)."""

    def __init__(self) -> None:
        self._by_tag: dict[str, MessageSpec] = {}
        self._by_cls: dict[type, MessageSpec] = {}

    def register(self, tag: str, cls: type[T]) -> type[T]:
        """Register ``cls`` under ``tag``; re-registering the same pair is a no-op."""
        if not isinstance(tag, str) or not tag:
            raise RegistryError(f"tag must be a non-empty string, got {tag!r}")
        known = self._by_tag.get(tag)
        if known is not None:
            if known.cls is cls:
                return cls
            raise RegistryError(f"tag {tag!r} is already registered for {known.cls.__qualname__}")
        if cls in self._by_cls:
            raise RegistryError(
                f"{cls.__qualname__} is already registered as {self._by_cls[cls].tag!r}"
            )
        spec = _compile(self, tag, cls)
        self._by_tag[tag] = spec
        self._by_cls[cls] = spec
        return cls

    def spec_for(self, cls: type) -> MessageSpec | None:
        """The spec of a registered class, or None."""
        return self._by_cls.get(cls)

    def tag_of(self, cls: type) -> str:
        """The tag ``cls`` is registered under."""
        spec = self._by_cls.get(cls)
        if spec is None:
            raise RegistryError(f"{cls.__qualname__} is not a registered message")
        return spec.tag

    @property
    def classes(self) -> dict[str, type]:
        """Every registered class by tag (a copy)."""
        return {tag: spec.cls for tag, spec in self._by_tag.items()}

    def __contains__(self, cls: object) -> bool:
        return cls in self._by_cls


default_registry = Registry()


def register(tag: str, cls: type[T], registry: Registry | None = None) -> type[T]:
    """Register an existing frozen, slotted dataclass (e.g. from the pure model) under ``tag``."""
    return (registry or default_registry).register(tag, cls)


def message(tag: str, registry: Registry | None = None) -> Callable[[type[T]], type[T]]:
    """Class decorator: make ``cls`` a frozen, slotted dataclass and register it under ``tag``."""

    def wrap(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
        return register(tag, cls, registry)

    return wrap


# --------------------------------------------------------------------------- compilation


def _compile(registry: Registry, tag: str, cls: type) -> MessageSpec:
    if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
        raise RegistryError(f"{cls!r} is not a dataclass")
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen:
        raise RegistryError(f"{cls.__qualname__} must be a frozen dataclass")
    if "__slots__" not in cls.__dict__:
        raise RegistryError(f"{cls.__qualname__} must be a slotted dataclass (slots=True)")
    try:
        hints = get_type_hints(cls)
    except Exception as exc:
        raise RegistryError(f"cannot resolve the annotations of {cls.__qualname__}: {exc}") from exc
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = tuple(f.name for f in fields)
    converters = [_converter(registry, hints[n], f"{cls.__qualname__}.{n}") for n in names]

    if len(names) == 1:
        single = attrgetter(names[0])

        def fields_of(obj: Any) -> tuple[Any, ...]:
            return (single(obj),)

    elif names:
        fields_of = attrgetter(*names)  # type: ignore[assignment]
    else:

        def fields_of(obj: Any) -> tuple[Any, ...]:
            return ()

    field_hints = [hints[n] for n in names]
    decode_fields, decode_envelope, decode_message = (
        _compile_decoder(cls, tag, names, field_hints, converters, mode=mode)
        for mode in ("fields", "envelope", "message")
    )
    frame_values = _compile_frame_values(tag, names, field_hints)
    return MessageSpec(
        cls, tag, names, fields_of, decode_fields, decode_envelope, frame_values, decode_message
    )


def _compile_frame_values(
    tag: str, names: tuple[str, ...], hints: list[Any]
) -> Callable[..., tuple[Any, ...]]:
    """Generate ``frame_values(topic, sender, seq, corr, reply_to, m)``: the tuple a frame packs.

    One flat tuple built in one go (no intermediate field tuple to splice in), and arrays in
    fields declared ``np.ndarray`` already turned into their extension type, which spares the
    packer a call back into Python (``Codec._default``) for each of them.
    """
    from bus.codec import encode_ndarray

    env: dict[str, Any] = {"_tag": tag, "_ndarray": np.ndarray, "_encode_ndarray": encode_ndarray}
    lines = ["def frame_values(t, s, q, c, r, m):"]
    values = []
    for i, (name, hint) in enumerate(zip(names, hints, strict=True)):
        if hint is np.ndarray:
            lines.append(f"    x{i} = m.{name}")
            lines.append(f"    if type(x{i}) is _ndarray: x{i} = _encode_ndarray(x{i})")
            values.append(f"x{i}")
        else:
            values.append(f"m.{name}")
    lines.append(f"    return (t, s, q, c, r, _tag, {', '.join(values)})")
    exec("\n".join(lines), env)
    return env["frame_values"]  # type: ignore[no-any-return]


_EXACT = {int: "int", float: "float", str: "str", bool: "bool", bytes: "bytes"}


def _compile_decoder(
    cls: type,
    tag: str,
    names: tuple[str, ...],
    hints: list[Any],
    converters: list[Converter],
    *,
    mode: str,
) -> Callable[..., Any]:
    """Generate a decoder for ``cls``: type checks inline, then slot stores.

    Mode ``fields``: ``decode(values, offset)`` builds the message from ``values[offset:]``.
    Mode ``envelope``: ``decode(frame_values)`` also checks the routing header and returns an
    ``Envelope``; mode ``message`` checks the same but returns the message alone (replies).
    The values are taken by one tuple unpacking (a wrong count is a ``ValueError`` turned into
    a ``DecodeError``), cheaper than an index per field.
    """
    from bus.codec import Envelope

    n = len(names)
    env: dict[str, Any] = {
        "_new": object.__new__,
        "_cls": cls,
        "_DecodeError": DecodeError,
        "_ndarray": np.ndarray,
        "_as_float": _as_float,
        "_as_int": _as_int,
        "_env_new": tuple.__new__,
        "_Envelope": Envelope,
    }
    targets = "".join(f"x{i}, " for i in range(n))
    if mode != "fields":
        lines = [
            "def decode(v):",
            "    try:",
            f"        t, s, q, c, r, _, {targets}= v",
            "    except ValueError:",
            f"        raise _DecodeError({tag + ': expected ' + str(n) + ' fields, got '!r}"
            " + str(len(v) - 6)) from None",
            "    if type(t) is not str or type(s) is not str or type(q) is not int"
            " or type(c) is not int or type(r) is not str:",
            "        raise _DecodeError('frame has a malformed envelope header')",
        ]
    else:
        lines = [
            "def decode(v, o):",
            "    if o:",
            "        v = v[o:]",
            "    try:",
            f"        ({targets}) = v",
            "    except ValueError:",
            f"        raise _DecodeError({tag + ': expected ' + str(n) + ' fields, got '!r}"
            " + str(len(v))) from None",
        ]
    for i, (name, hint, conv) in enumerate(zip(names, hints, converters, strict=True)):
        var = f"x{i}"
        where = f"{tag}.{name}"
        if hint is float:
            lines.append(f"    if type({var}) is not float: {var} = _as_float({var}, {where!r})")
        elif hint is int:
            lines.append(f"    if type({var}) is not int: {var} = _as_int({var}, {where!r})")
        elif hint in _EXACT:
            name_ = _EXACT[hint]
            lines.append(
                f"    if type({var}) is not {name_}: "
                f"raise _DecodeError({where + ': expected ' + name_ + ', got '!r}"
                f" + type({var}).__name__)"
            )
        elif hint is np.ndarray:
            lines.append(
                f"    if type({var}) is not _ndarray: "
                f"raise _DecodeError({where + ': expected ndarray, got '!r}"
                f" + type({var}).__name__)"
            )
        else:
            env[f"_c{i}"] = conv
            lines.append(f"    {var} = _c{i}({var})")
    twin = _mutable_twin(cls, names)
    if twin is not None:
        # Make an instance of a mutable twin with the same slot layout, store the fields
        # (plain slot stores, which the interpreter specialises), then give it the frozen
        # class: much faster than the frozen class's __init__ or its slot descriptors.
        env["_twin"] = twin
        lines.append("    m = _new(_twin)")
        for i, name in enumerate(names):
            lines.append(f"    m.{name} = x{i}")
        lines.append("    m.__class__ = _cls")
    else:
        lines.append("    m = _new(_cls)")
        for i, name in enumerate(names):
            env[f"_s{i}"] = getattr(cls, name).__set__
            lines.append(f"    _s{i}(m, x{i})")
    lines.append(
        "    return _env_new(_Envelope, (t, s, q, c, r, m))"
        if mode == "envelope"
        else "    return m"
    )
    exec("\n".join(lines), env)
    return env["decode"]  # type: ignore[no-any-return]


def _mutable_twin(cls: type, names: tuple[str, ...]) -> type | None:
    """A plain slotted class whose instances can become ``cls`` instances, or None."""
    if cls.__bases__ != (object,) or tuple(cls.__slots__) != names:  # type: ignore[attr-defined]
        return None
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": names})
    try:
        probe = object.__new__(twin)
        for i, name in enumerate(names):
            setattr(probe, name, i)
        probe.__class__ = cls
        if tuple(getattr(probe, name) for name in names) != tuple(range(len(names))):
            return None
    except (TypeError, AttributeError):
        return None
    return twin


def _as_float(x: Any, where: str) -> float:
    if type(x) is int:
        return float(x)
    raise DecodeError(f"{where}: expected float, got {type(x).__name__}")


def _as_int(x: Any, where: str) -> int:
    raise DecodeError(f"{where}: expected int, got {type(x).__name__}")


def _converter(registry: Registry, hint: Any, where: str) -> Converter:
    """A function that checks (and where needed converts) one decoded value of type ``hint``."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint is object:
        return _identity
    if hint is float:
        return lambda x: x if type(x) is float else _as_float(x, where)
    if hint is int:
        return lambda x: x if type(x) is int else _as_int(x, where)
    if hint in _EXACT or hint is np.ndarray:
        expected = hint

        def exact(x: Any) -> Any:
            if type(x) is not expected:
                raise DecodeError(f"{where}: expected {expected.__name__}, got {type(x).__name__}")
            return x

        return exact
    if hint is type(None):

        def none(x: Any) -> None:
            if x is not None:
                raise DecodeError(f"{where}: expected None, got {type(x).__name__}")

        return none
    if origin in (typing.Union, types.UnionType):
        options = [_converter(registry, a, where) for a in args]
        optional = type(None) in args
        rest = [c for a, c in zip(args, options, strict=True) if a is not type(None)]

        def union(x: Any) -> Any:
            if x is None and optional:
                return None
            for conv in rest:
                try:
                    return conv(x)
                except DecodeError:
                    continue
            raise DecodeError(f"{where}: {type(x).__name__} matches none of {hint}")

        return union
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(registry, args[0], f"{where}[]")

            def homogeneous(x: Any) -> tuple[Any, ...]:
                if type(x) is not tuple and type(x) is not list:
                    raise DecodeError(f"{where}: expected a sequence, got {type(x).__name__}")
                return tuple([item(e) for e in x])

            return homogeneous
        items = [_converter(registry, a, f"{where}[{i}]") for i, a in enumerate(args)]

        def fixed(x: Any) -> tuple[Any, ...]:
            if (type(x) is not tuple and type(x) is not list) or len(x) != len(items):
                raise DecodeError(f"{where}: expected a {len(items)}-tuple")
            return tuple([c(e) for c, e in zip(items, x, strict=True)])

        return fixed
    if origin is dict:
        key = _converter(registry, args[0], f"{where}.key") if args else _identity
        value = _converter(registry, args[1], f"{where}.value") if args else _identity

        def mapping(x: Any) -> dict[Any, Any]:
            if type(x) is not dict:
                raise DecodeError(f"{where}: expected a map, got {type(x).__name__}")
            return {key(k): value(v) for k, v in x.items()}

        return mapping
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        spec = registry.spec_for(hint)
        if spec is None:
            raise RegistryError(f"{where}: {hint.__qualname__} must be registered before use")
        nested = spec.decode_fields

        def message_field(x: Any) -> Any:
            if type(x) is not tuple and type(x) is not list:
                raise DecodeError(f"{where}: expected a nested {hint.__qualname__}")
            return nested(tuple(x), 0)

        return message_field
    raise RegistryError(f"{where}: unsupported field type {hint!r}")


def _identity(x: Any) -> Any:
    return x
