"""msgpack codec for envelopes and registered messages; numpy arrays travel as an extension type.

A frame is one msgpack array ``[topic, sender, seq, corr, reply_to, tag, *fields]``: flat, so an
envelope costs one ``pack`` and one ``unpack``. Nested messages are arrays of their fields (the
field's declared type says which class they are). An array is the extension type
``NDARRAY_EXT``: ``u8 len(dtype) | dtype.str | u8 ndim | u64 shape... | raw bytes``; it decodes to
a read-only view of the frame's bytes, with no copy.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import msgpack
import numpy as np
from msgpack import unpackb as _unpackb

from bus.errors import DecodeError, EncodeError, FrameTooLarge
from bus.registry import MessageSpec, Registry, default_registry

__all__ = ["NDARRAY_EXT", "Codec", "Envelope", "decode_ndarray", "encode_ndarray"]

NDARRAY_EXT = 1
_U64 = struct.Struct("<Q")
_ext = tuple.__new__  # ExtType's own __new__ re-checks types we already know


class Envelope(NamedTuple):
    """A delivered message with its routing data: topic, sender, sequence and reply information."""

    topic: str
    sender: str
    seq: int
    corr: int
    reply_to: str
    message: Any

    @property
    def is_request(self) -> bool:
        """True when the sender waits for a reply."""
        return self.corr != 0


_headers: dict[tuple[np.dtype, tuple[int, ...]], bytes] = {}
_layouts: dict[bytes, tuple[np.dtype, tuple[int, ...], int]] = {}
_LAYOUT_CACHE = 4096


def encode_ndarray(arr: np.ndarray) -> msgpack.ExtType:
    """Pack an array as the ``NDARRAY_EXT`` extension type (C order, any fixed-size dtype)."""
    key = (arr.dtype, arr.shape)
    header = _headers.get(key)
    if header is None:
        if arr.dtype.hasobject:
            raise EncodeError("object arrays cannot travel on the bus")
        dtype = arr.dtype.str.encode()
        header = b"".join(
            [bytes((len(dtype),)), dtype, bytes((arr.ndim,)), *(_U64.pack(d) for d in arr.shape)]
        )
        if len(_headers) < _LAYOUT_CACHE:
            _headers[key] = header
    if not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    return _ext(msgpack.ExtType, (NDARRAY_EXT, header + arr.tobytes()))


def decode_ndarray(data: bytes) -> np.ndarray:
    """Unpack an ``NDARRAY_EXT`` payload into a read-only array viewing ``data``."""
    try:
        n = data[0]
        end = 2 + n + 8 * data[1 + n]
        layout = _layouts.get(data[:end])
        if layout is None:
            layout = _parse_layout(data, n, end)
        dtype, shape, count = layout
        if len(data) - end != count * dtype.itemsize:
            raise DecodeError(
                f"array payload is {len(data) - end} bytes, shape {shape} of {dtype} needs "
                f"{count * dtype.itemsize}"
            )
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=end)
        return arr if len(shape) == 1 else arr.reshape(shape)
    except DecodeError:
        raise
    except (IndexError, TypeError, ValueError, struct.error, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed array payload: {exc}") from exc


def _parse_layout(data: bytes, n: int, end: int) -> tuple[np.dtype, tuple[int, ...], int]:
    text = data[1 : 1 + n].decode()
    try:
        dtype = np.dtype(text)
    except Exception as exc:  # numpy parses some dtype strings with ast: SyntaxError and more
        raise DecodeError(f"malformed array payload: dtype {text!r}: {exc!r}") from None
    if dtype.hasobject or dtype.itemsize == 0:
        raise DecodeError(f"array dtype {dtype} cannot travel on the bus")
    ndim = data[1 + n]
    shape = tuple(_U64.unpack_from(data, 2 + n + 8 * i)[0] for i in range(ndim))
    count = 1
    for d in shape:
        count *= d
    layout = (dtype, shape, count)
    if len(_layouts) < _LAYOUT_CACHE:
        _layouts[bytes(data[:end])] = layout
    return layout


def _ext_hook(code: int, data: bytes) -> Any:
    if code == NDARRAY_EXT:
        return decode_ndarray(data)
    raise DecodeError(f"unknown msgpack extension type {code}")


class Codec:
    """Encodes envelopes to frames and decodes them back, checking every field's type."""

    def __init__(self, registry: Registry | None = None, max_frame_size: int = 16 << 20) -> None:
        self.registry = registry or default_registry
        self.max_frame_size = max_frame_size
        self._packer = msgpack.Packer(default=self._default, autoreset=True)
        self._spec_for = self.registry.spec_for
        self._by_tag = self.registry._by_tag
        self._by_cls = self.registry._by_cls
        self._pack = self._packer.pack

    def _default(self, obj: Any) -> Any:
        if type(obj) is np.ndarray:
            return encode_ndarray(obj)
        spec = self._spec_for(type(obj))
        if spec is not None:
            return spec.fields_of(obj)
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return encode_ndarray(np.asarray(obj))
        raise EncodeError(f"cannot encode a value of type {type(obj).__qualname__}")

    def encode(
        self, topic: str, sender: str, seq: int, corr: int, reply_to: str, message: Any
    ) -> bytes:
        """One frame for ``message`` with its routing header."""
        try:
            spec = self._by_cls[type(message)]
        except KeyError:
            raise EncodeError(f"{type(message).__qualname__} is not a registered message") from None
        try:
            frame = self._pack(spec.frame_values(topic, sender, seq, corr, reply_to, message))
        except EncodeError:
            self._packer.reset()
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            self._packer.reset()
            raise EncodeError(f"cannot encode {spec.tag}: {exc}") from exc
        if len(frame) > self.max_frame_size:
            raise FrameTooLarge(
                f"{spec.tag} frame is {len(frame)} bytes, over the limit of {self.max_frame_size}"
            )
        return frame

    def encode_message(self, message: Any) -> bytes:
        """A headerless frame for a message alone (for files and snapshots)."""
        return self.encode("", "", 0, 0, "", message)

    def decode(self, frame: bytes) -> Envelope:
        """The envelope in ``frame``; anything malformed raises ``DecodeError``."""
        # (decode and decode_message run once per message: their common part is written out
        # in both rather than called)
        spec, v = self._parse(frame)
        try:
            return spec.decode_envelope(v)
        except DecodeError:
            raise
        except Exception as exc:
            raise DecodeError(f"{spec.tag}: {type(exc).__name__}: {exc}") from exc

    def decode_message(self, frame: bytes) -> Any:
        """``decode(frame).message``, with the same checks, without building the envelope."""
        spec, v = self._parse(frame)
        try:
            return spec.decode_message(v)
        except DecodeError:
            raise
        except Exception as exc:
            raise DecodeError(f"{spec.tag}: {type(exc).__name__}: {exc}") from exc

    def _parse(self, frame: bytes) -> tuple[MessageSpec, tuple[Any, ...]]:
        """The spec a frame's tag names and the frame's values; DecodeError for bad frames."""
        if len(frame) > self.max_frame_size:
            raise FrameTooLarge(
                f"frame is {len(frame)} bytes, over the limit of {self.max_frame_size}"
            )
        try:
            v = _unpackb(frame, use_list=False, ext_hook=_ext_hook, raw=False)
        except DecodeError:
            raise
        except Exception as exc:  # msgpack raises a zoo of types for bad input
            raise DecodeError(f"frame is not valid msgpack: {type(exc).__name__}: {exc}") from exc
        # The tag picks the message's spec: a short array, or a tag that is not a registered
        # string, fails the look-up itself (`_not_an_envelope` tells which), so no check first.
        try:
            spec = self._by_tag[v[5]] if type(v) is tuple else None
        except Exception:
            raise self._not_an_envelope(v) from None
        if spec is None:
            raise DecodeError("frame is not an envelope array")
        return spec, v

    @staticmethod
    def _not_an_envelope(v: tuple[Any, ...]) -> DecodeError:
        """Why the array ``v`` names no message: too short, or an unknown tag."""
        if len(v) < 6:
            return DecodeError("frame is not an envelope array")
        return DecodeError(f"unknown message tag {v[5]!r}")

    def peek_header(self, frame: bytes) -> tuple[str, int]:
        """Best-effort (topic, corr) of a frame that failed to decode, for dead letters."""
        try:
            v = msgpack.unpackb(frame, use_list=False, ext_hook=_ext_hook, raw=False)
            topic, corr = v[0], v[3]
            if type(topic) is str and type(corr) is int:
                return topic, corr
        except Exception:
            pass
        return "?", 0

    @staticmethod
    def topic_of(frame: bytes) -> str | None:
        """A frame's topic read from its first bytes without unpacking the rest; None when the
        frame does not start as an envelope does."""
        try:
            head = frame[0]
            i = 1 if 0x90 <= head <= 0x9F else 3 if head == 0xDC else 5 if head == 0xDD else 0
            if not i:
                return None
            kind = frame[i]
            if 0xA0 <= kind <= 0xBF:
                start, size = i + 1, kind - 0xA0
            elif kind == 0xD9:
                start, size = i + 2, frame[i + 1]
            elif kind == 0xDA:
                start, size = i + 3, int.from_bytes(frame[i + 1 : i + 3], "big")
            else:
                return None
            if start + size > len(frame):
                return None
            return frame[start : start + size].decode()
        except (IndexError, UnicodeDecodeError):
            return None

    def peek_reply(self, frame: bytes) -> tuple[int, str]:
        """Best-effort (corr, reply_to) of a frame that failed to decode, to fail its request."""
        try:
            v = msgpack.unpackb(frame, use_list=False, ext_hook=_ext_hook, raw=False)
            corr, reply_to = v[3], v[4]
            if type(corr) is int and type(reply_to) is str:
                return corr, reply_to
        except Exception:
            pass
        return 0, ""

    def copy(self, message: Any) -> Any:
        """A deep copy of ``message`` made by a round trip through the codec."""
        return self.decode(self.encode_message(message)).message
