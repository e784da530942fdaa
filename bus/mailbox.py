"""A bounded FIFO of frames with an overflow policy: block the publisher, or drop the oldest."""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from typing import Any, ClassVar

__all__ = ["Mailbox", "Overflow"]


class Overflow(enum.Enum):
    """What a full mailbox does with one more frame."""

    BLOCK = "block"
    """The publisher waits for room (the default: nothing is lost)."""
    DROP_OLDEST = "drop_oldest"
    """The oldest frame is dropped and counted (telemetry that may be shed)."""


class Mailbox:
    """Frames waiting for one subscriber. Not thread-safe: one event loop owns it."""

    __slots__ = ("_getter", "_items", "_putters", "capacity", "closed", "dropped", "policy")

    forwards: ClassVar[bool] = False
    """True for a bridge's mailbox, which sends frames on to another bus (NATS)."""

    def __init__(self, capacity: int = 1024, policy: Overflow = Overflow.BLOCK) -> None:
        if capacity < 1:
            raise ValueError("mailbox capacity must be at least 1")
        self.capacity = capacity
        self.policy = policy
        self.dropped = 0
        self.closed = False
        self._items: deque[bytes] = deque()
        self._getter: asyncio.Future[None] | None = None
        self._putters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def full(self) -> bool:
        """Whether one more frame would overflow."""
        return len(self._items) >= self.capacity

    def offer(self, frame: bytes) -> bool:
        """Enqueue without waiting. False only when full under BLOCK (the caller must ``put``)."""
        if self.closed:
            self.dropped += 1
            return True
        items = self._items
        if len(items) >= self.capacity:
            if self.policy is Overflow.BLOCK:
                return False
            items.popleft()
            self.dropped += 1
        items.append(frame)
        getter = self._getter
        if getter is not None:
            self._getter = None
            if not getter.done():
                getter.set_result(None)
        return True

    async def put(self, frame: bytes, *, until: asyncio.Future[Any] | None = None) -> bool:
        """Enqueue, waiting for room under BLOCK; False if ``until`` completes first."""
        while not self.offer(frame):
            if until is not None and until.done():
                return False
            waiter = asyncio.get_running_loop().create_future()
            self._putters.append(waiter)
            if until is not None:
                until.add_done_callback(lambda _, w=waiter: w.done() or w.set_result(None))
            try:
                await waiter
            finally:
                if waiter in self._putters:
                    self._putters.remove(waiter)
        return True

    async def get(self) -> bytes:
        """The oldest frame, waiting for one if empty."""
        items = self._items
        while not items:
            if self.closed:
                raise asyncio.CancelledError
            waiter = asyncio.get_running_loop().create_future()
            self._getter = waiter
            try:
                await waiter
            finally:
                if self._getter is waiter:
                    self._getter = None
        frame = items.popleft()
        if self._putters:
            self._wake_putter()
        return frame

    def get_nowait(self) -> bytes | None:
        """The oldest frame, or None when empty."""
        if not self._items:
            return None
        frame = self._items.popleft()
        if self._putters:
            self._wake_putter()
        return frame

    def drain(self) -> list[bytes]:
        """Remove and return every waiting frame."""
        frames = list(self._items)
        self._items.clear()
        while self._putters:
            self._wake_putter()
        return frames

    def close(self) -> None:
        """Refuse further frames; blocked publishers are released (their frames are dropped)."""
        self.closed = True
        while self._putters:
            self._wake_putter()

    def _wake_putter(self) -> None:
        waiter = self._putters.popleft()
        if not waiter.done():
            waiter.set_result(None)
