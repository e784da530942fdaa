"""Counter-based random streams: a stream is a 64-bit key, draw ``i`` is a pure function of both.

Draw ``i`` of stream ``key`` is SplitMix64 of ``key + (i + 1) * golden``, as a float in [0, 1)
from its top 53 bits. A stream is just (key, counter): creating one is free, thousands are saved
as two arrays, and what one stream yields never depends on any other stream. The engines key an
encounter's stream by (run seed, encounter) (:func:`stream_keys`); the planner keys its own by
(run seed, encounter, tick) (:func:`plan_keys`) and draws through :class:`RowStreams`, one stream
per walker row, so a plan depends only on its own keys, never on which other plans share its batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "PLAN_STREAM",
    "RowStreams",
    "box_muller",
    "plan_keys",
    "stream_key",
    "stream_keys",
    "stream_uniforms",
]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_ID_SALT = 0x632BE59BD9B4E019
_TICK_SALT = 0xD1B54A32D192ED03
_ROW_SALT = 0x8CB92BA72F3D8DD7
_INV_2_53 = 1.0 / (1 << 53)
_TWO_PI = 2.0 * math.pi
_U11, _U27, _U30, _U31 = (np.uint64(b) for b in (11, 27, 30, 31))
_UM1, _UM2 = np.uint64(_M1), np.uint64(_M2)

PLAN_STREAM = 3
"""Which stream of a run the planner draws from (the engines' encounter streams are another)."""


def _mix(z: int) -> int:
    """SplitMix64 finaliser on a Python int (mod 2^64)."""
    z &= _MASK
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _mix_vec(z: ArrayLike, *, inplace: bool = False) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic), same values as ``_mix``.

    ``inplace`` mixes ``z`` itself (a fresh uint64 array the caller owns) instead of a copy.
    """
    z = z if inplace else np.array(z, dtype=np.uint64)
    tmp = np.empty_like(z)
    np.right_shift(z, _U30, out=tmp)
    z ^= tmp
    z *= _UM1
    np.right_shift(z, _U27, out=tmp)
    z ^= tmp
    z *= _UM2
    np.right_shift(z, _U31, out=tmp)
    z ^= tmp
    return z


def stream_key(seed: int, encounter: int) -> int:
    """The key of encounter ``encounter``'s random stream under engine seed ``seed``."""
    return _mix((_mix(seed & _MASK) + _mix((encounter + _ID_SALT) & _MASK)) & _MASK)


def stream_keys(seed: int, encounters: ArrayLike) -> np.ndarray:
    """Vectorised ``stream_key`` for many encounter ids (uint64 array)."""
    e = np.asarray(encounters, dtype=np.int64).astype(np.uint64)
    salted = _mix_vec(e + np.uint64(_ID_SALT))
    return _mix_vec(np.uint64(_mix(seed & _MASK)) + salted)


def plan_keys(seed: int, encounters: ArrayLike, ticks: ArrayLike) -> np.ndarray:
    """Keys of the planner's streams for (run seed, encounter, tick), vectorised (uint64 array).

    Mixed from the encounter's engine key, :data:`PLAN_STREAM` and the tick, so they are
    distinct from the engine's encounter streams and from one another.
    """
    base = stream_keys(seed, encounters) ^ np.uint64(_mix(PLAN_STREAM + _ID_SALT))
    t = np.asarray(ticks, dtype=np.int64).astype(np.uint64)
    return _mix_vec(_mix_vec(base) + _mix_vec(t + np.uint64(_TICK_SALT)))


def _uniform(key: int, index: int) -> float:
    """Draw ``index`` of the stream ``key`` as a float in [0, 1)."""
    return (_mix((key + (index + 1) * _GOLDEN) & _MASK) >> 11) * _INV_2_53


def stream_uniforms(keys: ArrayLike, indices: ArrayLike) -> np.ndarray:
    """Vectorised ``_uniform``: draw ``indices[i]`` of stream ``keys[i]``, floats in [0, 1)."""
    k = np.asarray(keys, dtype=np.uint64)
    i = np.asarray(indices, dtype=np.uint64)
    x = _mix_vec(k + (i + np.uint64(1)) * np.uint64(_GOLDEN))
    return (x >> np.uint64(11)).astype(np.float64) * _INV_2_53


class _Counter:
    """The draw counter shared by a RowStreams and every view of it."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value & _MASK


class RowStreams:
    """One counter-based stream per row of a batch, with the Generator methods planners call.

    Every call draws ``k`` values per row (the leading axes of ``size``) and advances the shared
    counter by ``k``: value ``j`` of row ``i`` is draw ``counter + j`` of row ``i``'s stream. A
    row's draws thus depend only on its key and on the calls made so far, never on the other
    rows. ``size``'s last axis must be the number of rows; anything else is a ValueError.
    """

    __slots__ = ("_counter", "keys")

    def __init__(self, keys: ArrayLike, counter: int = 0, *, _shared: _Counter | None = None):
        """Streams ``keys`` (uint64, one per row), starting at draw ``counter`` (mod 2^64)."""
        self.keys = np.ascontiguousarray(keys, dtype=np.uint64).reshape(-1)
        self._counter = _shared if _shared is not None else _Counter(counter)

    @classmethod
    def for_groups(cls, keys: ArrayLike, walkers: int) -> RowStreams:
        """Row ``g * walkers + w`` gets a key mixed from keys[g] and w (plan_batch order)."""
        if walkers < 1:
            raise ValueError(f"walkers must be >= 1, got {walkers}")
        k = np.asarray(keys, dtype=np.uint64).reshape(-1)
        w = _mix_vec(np.arange(walkers, dtype=np.uint64) + np.uint64(_ROW_SALT))
        return cls(_mix_vec((k[:, None] + w[None, :]).reshape(-1)))

    @property
    def counter(self) -> int:
        """The index of the next draw of every row (shared with the parent and all views)."""
        return self._counter.value

    def __len__(self) -> int:
        """The number of rows."""
        return len(self.keys)

    def rows(self, index: ArrayLike) -> RowStreams:
        """A view over rows ``index`` that shares this object's call counter."""
        return RowStreams(self.keys[np.asarray(index, dtype=np.intp)], _shared=self._counter)

    def _draws(self, size: int | Sequence[int] | None) -> tuple[tuple[int, ...], int]:
        """Check ``size``; return it as a shape and the number of draws per row it makes."""
        if size is None:
            raise ValueError("RowStreams needs a size whose last axis is the number of rows")
        if isinstance(size, (int, np.integer)):
            shape: tuple[int, ...] = (int(size),)
        else:
            shape = tuple(int(s) for s in size)
        if not shape or shape[-1] != len(self.keys) or min(shape) < 0:
            raise ValueError(f"size {shape} does not end with the number of rows {len(self.keys)}")
        return shape, math.prod(shape[:-1])

    def _bits(self, size: int | Sequence[int] | None) -> np.ndarray:
        """Mixed 64-bit draws, ``(draws per row, rows)``; advances the shared counter."""
        shape, per_row = self._draws(size)
        start = self._counter.value
        self._counter.value = (start + per_row) & _MASK
        steps = [((start + j) * _GOLDEN) & _MASK for j in range(1, per_row + 1)]
        z = np.add(np.array(steps, dtype=np.uint64)[:, None], self.keys[None, :])
        return _mix_vec(z, inplace=True).reshape(shape)

    def random(self, size: int | Sequence[int] | None = None) -> np.ndarray:
        """Floats in [0, 1), one draw per value."""
        x = self._bits(size)
        x >>= _U11
        out = x.astype(np.float64)
        out *= _INV_2_53
        return out

    def integers(
        self, low: int, high: int | None = None, size: int | Sequence[int] | None = None
    ) -> np.ndarray:
        """Ints in [low, high) (or [0, low) without ``high``), one draw per value."""
        if high is None:
            low, high = 0, low
        if high <= low:
            raise ValueError(f"high must be > low, got low={low}, high={high}")
        span = high - low
        picked = (self.random(size) * span).astype(np.int64)
        np.minimum(picked, span - 1, out=picked)
        if low:
            picked += low
        return picked


def box_muller(u_radius: Any, u_angle: Any) -> Any:
    """Standard normals from two uniforms in [0, 1): ``sqrt(-2 ln(1 - u1)) * cos(2 pi u2)``.

    Floats in, a float out (by ``math``: an engine's single shot), or arrays (by numpy).
    """
    xp: Any = math if isinstance(u_radius, float) else np
    return xp.sqrt(-2.0 * xp.log(1.0 - u_radius)) * xp.cos(_TWO_PI * u_angle)
