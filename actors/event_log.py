"""EventLog: writes every ``event.*`` record (and dead letters) as the run's event stream.

Each event gets ``seq`` (from 0, no gaps), ``tick`` (its own, else the latest world tick),
``time`` (wall seconds since the log started) and ``type`` (the record's tag), then its fields.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from actors.actor import Actor
from bus import DEAD_LETTER_TOPIC, Envelope
from fom.events import EventWriter

__all__ = ["EventLog", "event_fields", "event_record"]


_PLAIN = frozenset({int, float, str, bool, type(None)})
_field_names: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    names = _field_names.get(cls)
    if names is None:
        names = _field_names[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def event_fields(value: Any) -> Any:
    """A record's fields as plain JSON/msgpack values (arrays to lists, records to maps)."""
    t = type(value)
    if t in _PLAIN:
        return value
    if t is tuple or t is list:
        return [event_fields(v) for v in value]
    if t is dict:
        return {k: event_fields(v) for k, v in value.items()}
    if t is np.ndarray:
        return value.tolist()
    if t is bytes:
        return value.hex()
    if hasattr(t, "__dataclass_fields__"):
        return {name: event_fields(getattr(value, name)) for name in _names(t)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def event_record(message: Any, tag: str, seq: int, tick: int, time_s: float) -> dict[str, Any]:
    """The event-stream form of a telemetry record: header fields first, then its own fields."""
    event: dict[str, Any] = {"seq": seq, "tick": tick, "time": time_s, "type": tag}
    for name in _names(type(message)):
        if name != "tick":
            event[name] = event_fields(getattr(message, name))
    return event


class EventLog(Actor):
    """A sink: never sheds an event (blocking mailbox), flushes on stop."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 16
    drain_on_stop = True

    def __init__(
        self,
        writer: EventWriter | None,
        *,
        listeners: tuple[Callable[[dict[str, Any]], None], ...] = (),
    ) -> None:
        self.writer = writer
        self.listeners = listeners
        self.seq = 0
        self.tick = 0
        self._t0 = time.perf_counter()
        self._tags = {}  # type: dict[type, str]

    async def receive(self, envelope: Envelope) -> None:
        msg = envelope.message
        tag = self._tags.get(type(msg))
        if tag is None:
            tag = self._tags[type(msg)] = self.bus.registry.tag_of(type(msg))
        tick = getattr(msg, "tick", None)
        if isinstance(tick, int):
            self.tick = max(self.tick, tick)
        else:
            tick = self.tick
        event = event_record(msg, tag, self.seq, tick, round(time.perf_counter() - self._t0, 6))
        self.seq += 1
        if self.writer is not None:
            self.writer.write(event)
        for listener in self.listeners:
            listener(event)

    async def on_stop(self) -> None:
        if self.writer is not None:
            self.writer.close()
