"""Read a recorded event stream (JSONL or back-to-back msgpack maps) as dicts or typed records."""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from fom.errors import FomError
from fom.events.codec import Header, decode_event

__all__ = [
    "EventStreamError",
    "EventStreamWarning",
    "MalformedEventWarning",
    "TruncatedStreamWarning",
    "decode_events",
    "detect_format",
    "read_events",
    "read_records",
]

JSON_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson"})
MSGPACK_SUFFIXES = frozenset({".msgpack", ".mp", ".msgpk"})


class EventStreamError(FomError):
    """Raised when an events file cannot be read or is not an event stream (one clear line)."""


class EventStreamWarning(UserWarning):
    """Base of the warnings issued while reading a damaged, but still usable, event stream."""


class TruncatedStreamWarning(EventStreamWarning):
    """Warned when the last line/object of a stream is incomplete; the events before it are used."""


class MalformedEventWarning(EventStreamWarning):
    """Warned when a record in the middle of a stream does not decode to an event and is skipped."""


def detect_format(path: str | os.PathLike[str], head: bytes = b"") -> str:
    """'jsonl' or 'msgpack': by suffix, else by sniffing the first non-blank byte for `{`."""
    suffix = Path(path).suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "jsonl"
    if suffix in MSGPACK_SUFFIXES:
        return "msgpack"
    stripped = head.lstrip()
    return "jsonl" if not stripped or stripped[:1] == b"{" else "msgpack"


def _open(path: str | os.PathLike[str]) -> tuple[BinaryIO, str]:
    """Open an events file (or '-' for stdin) for binary reading, with one clear error."""
    name = os.fspath(path)
    if name == "-":
        return sys.stdin.buffer, "<stdin>"
    try:
        return open(name, "rb"), name  # closed by the reading generator
    except FileNotFoundError:
        raise EventStreamError(f"events file not found: {name}") from None
    except IsADirectoryError:
        raise EventStreamError(f"events path is a directory, not a file: {name}") from None
    except OSError as exc:
        raise EventStreamError(f"cannot read events file {name}: {exc.strerror or exc}") from None


def read_events(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Iterate the events of a JSONL or msgpack stream ('-' reads stdin) as dicts.

    Opening fails at once with EventStreamError (missing, unreadable, or not an event stream).
    A truncated last line/object ends the iteration with a TruncatedStreamWarning; a corrupt
    record in the middle is skipped (JSONL) or ends the stream (msgpack cannot resync), with a
    MalformedEventWarning.
    """
    handle, name = _open(path)
    try:
        peek = getattr(handle, "peek", None)
        head = peek(64)[:64] if peek is not None else b""
        fmt = detect_format(name if name != "<stdin>" else "", head)
    except OSError as exc:
        handle.close()
        raise EventStreamError(f"cannot read events file {name}: {exc.strerror or exc}") from None
    reader = _iter_jsonl if fmt == "jsonl" else _iter_msgpack
    return _guarded(reader(handle, name), handle, name)


def decode_events(events: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, Header]]:
    """Each event dict as its typed record (a RawEvent when unknown or malformed) and header."""
    for event in events:
        yield decode_event(event)


def read_records(path: str | os.PathLike[str]) -> Iterator[tuple[Any, Header]]:
    """The events of a recording as typed records with their headers (see ``read_events``)."""
    return decode_events(read_events(path))


def _guarded(
    records: Iterator[dict[str, Any]], handle: BinaryIO, name: str
) -> Iterator[dict[str, Any]]:
    """Close the file when done and turn read errors into EventStreamError."""
    try:
        yield from records
    except OSError as exc:
        raise EventStreamError(f"error reading events file {name}: {exc.strerror or exc}") from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def _not_a_stream(name: str, fmt: str, detail: str) -> EventStreamError:
    """The error for a file whose first record is not an event."""
    return EventStreamError(f"{name} is not an FOM event stream ({fmt}): {detail}")


def _iter_jsonl(handle: BinaryIO, name: str) -> Iterator[dict[str, Any]]:
    """Events of a JSONL stream, one object per line."""
    first = True
    for lineno, raw in enumerate(handle, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            if not raw.endswith(b"\n"):
                warnings.warn(
                    TruncatedStreamWarning(
                        f"{name}: line {lineno} is incomplete (stream truncated); "
                        "using the events before it"
                    ),
                    stacklevel=3,
                )
                return
            if first:
                raise _not_a_stream(name, "JSONL", f"line {lineno} is not JSON ({exc})") from None
            warnings.warn(
                MalformedEventWarning(f"{name}: line {lineno} is not JSON ({exc}); skipped"),
                stacklevel=3,
            )
            continue
        if not isinstance(obj, dict) or (first and "type" not in obj):
            if first:
                raise _not_a_stream(name, "JSONL", f"line {lineno} is not an event object")
            warnings.warn(
                MalformedEventWarning(f"{name}: line {lineno} is not an event object; skipped"),
                stacklevel=3,
            )
            continue
        first = False
        yield obj


def _iter_msgpack(handle: BinaryIO, name: str) -> Iterator[dict[str, Any]]:
    """Events of a stream of msgpack maps written back to back."""
    unpacker = msgpack.Unpacker(handle, raw=False)
    first = True
    consumed = 0
    index = 0
    while True:
        try:
            obj = next(unpacker)
        except StopIteration:
            break
        except (ValueError, msgpack.UnpackException) as exc:
            if first:
                raise _not_a_stream(name, "msgpack", f"undecodable data ({exc})") from None
            warnings.warn(
                MalformedEventWarning(
                    f"{name}: undecodable data after object {index} at byte {consumed} ({exc}); "
                    "the rest of the stream is ignored"
                ),
                stacklevel=3,
            )
            return
        consumed = unpacker.tell()
        index += 1
        if not isinstance(obj, dict) or (first and "type" not in obj):
            if first:
                raise _not_a_stream(name, "msgpack", "the first object is not an event map")
            warnings.warn(
                MalformedEventWarning(f"{name}: object {index} is not an event map; skipped"),
                stacklevel=3,
            )
            continue
        first = False
        yield obj
    if unpacker.tell() > consumed:
        warnings.warn(
            TruncatedStreamWarning(
                f"{name}: the last {unpacker.tell() - consumed} bytes are an incomplete object "
                "(stream truncated); using the events before it"
            ),
            stacklevel=3,
        )
