"""Writing the event stream: JSONL or msgpack, and which fields are wall-clock."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Mapping
from typing import IO, Any

import msgpack

from fom.errors import ConfigError

__all__ = [
    "WALLCLOCK_FIELDS",
    "EventWriter",
    "open_event_writer",
    "strip_wallclock",
]

WALLCLOCK_FIELDS = frozenset(
    {
        "time",
        "elapsed_ms",
        "decisions_per_s",
        "latency_ms",
        "wall_s",
        "walker_steps_per_s",
        "traceback",
    }
)
"""Fields whose values depend on the machine, not on the seed (dropped to compare runs)."""


def strip_wallclock(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` without wall-clock fields, at any depth."""
    out: dict[str, Any] = {}
    for key, value in event.items():
        if key in WALLCLOCK_FIELDS:
            continue
        out[key] = strip_wallclock(value) if isinstance(value, Mapping) else value
    return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else (1e308 if value > 0 else -1e308)
    return value


FLUSH_AFTER_S = 1.0
"""Seconds after which a write pushes the buffer to the file: a reader following it (``tail
-f``, a tool of the user's) sees a slow run's events as they come, a fast run stays buffered."""


class EventWriter:
    """Appends events to a file or stdout, as JSON lines or back-to-back msgpack maps."""

    def __init__(
        self, stream: IO[bytes], fmt: str, *, owns: bool, flush_after_s: float = FLUSH_AFTER_S
    ) -> None:
        self._stream = stream
        self._owns = owns
        self._flush_after = flush_after_s
        self._flushed = time.monotonic()
        self.format = fmt
        self.count = 0
        self.closed = False
        if fmt == "jsonl":
            encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_json_safe)
            self._encode = lambda e: (encoder.encode(e) + "\n").encode()
        else:
            packer = msgpack.Packer(autoreset=True)
            self._encode = packer.pack

    def write(self, event: Mapping[str, Any]) -> None:
        """Write one event; push the buffer to the file if the last push is ``flush_after_s``
        old (OSError if it cannot be written)."""
        try:
            data = self._encode(event)
        except ValueError:  # a non-finite float somewhere: write it as null / +-1e308
            data = self._encode(_replace_nonfinite(event))
        self._stream.write(data)
        self.count += 1
        now = time.monotonic()
        if now - self._flushed >= self._flush_after:
            self._stream.flush()
            self._flushed = now

    def flush(self) -> None:
        """Push buffered events to the file."""
        self._stream.flush()

    def close(self) -> None:
        """Flush, then close the file (stdout stays open); later calls do nothing."""
        if self.closed:
            return
        self.closed = True
        try:
            self._stream.flush()
            if self._owns:
                os.fsync(self._stream.fileno())
        finally:
            if self._owns:
                self._stream.close()


def _replace_nonfinite(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _replace_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_nonfinite(v) for v in value]
    return _json_safe(value)


def open_event_writer(path: str, fmt: str) -> EventWriter:
    """Open ``path`` (``-`` is stdout) for writing events; ConfigError if it cannot be written."""
    if fmt not in ("jsonl", "msgpack"):
        raise ConfigError(f"unknown events format {fmt!r}")
    if path == "-":
        return EventWriter(sys.stdout.buffer, fmt, owns=False)
    try:
        stream = open(path, "wb", buffering=1 << 16)  # noqa: SIM115 - closed by EventWriter.close
    except OSError as exc:
        raise ConfigError(f"cannot write events to {path}: {exc.strerror or exc}") from exc
    return EventWriter(stream, fmt, owns=True)
