"""Vector helpers for 3-D points (last axis 3), vectorised over leading axes, and the floor fold."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["floor_index", "fold", "v_add", "v_dist", "v_len", "v_norm", "v_sub"]


def _vec(a: ArrayLike) -> np.ndarray:
    """Return ``a`` as a float64 array whose last axis has length 3."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"expected vectors with last axis 3, got shape {arr.shape}")
    return arr


def v_add(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Componentwise sum of two (broadcastable) vector arrays."""
    return _vec(a) + _vec(b)


def v_sub(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Componentwise difference ``a - b`` of two (broadcastable) vector arrays."""
    return _vec(a) - _vec(b)


def v_len(a: ArrayLike) -> np.ndarray:
    """Euclidean length over the last axis (shape: the leading axes)."""
    return np.sqrt(np.sum(np.square(_vec(a)), axis=-1))


def v_norm(a: ArrayLike) -> np.ndarray:
    """Unit vectors along ``a``; a zero vector stays zero instead of becoming NaN."""
    arr = _vec(a)
    length = v_len(arr)[..., None]
    return np.divide(arr, length, out=np.zeros_like(arr), where=length > 0)


def v_dist(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Euclidean distance between points ``a`` and ``b`` (broadcast)."""
    return v_len(v_sub(a, b))


def _floor_divmod(z: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """(floor, z mod h) computed together so that floor * h + rest == z, rest in [0, h)."""
    if not h > 0:
        raise ValueError(f"floor height must be positive, got {h}")
    q, r = np.divmod(z, h)
    # float mod can round up to exactly h for tiny negative z; keep the half-open interval.
    up = r >= h
    return np.where(up, q + 1, q), np.where(up, 0.0, r)


def fold(p: ArrayLike, h: float) -> np.ndarray:
    """Map points into the canonical floor: (x, y, z mod h), with z in [0, h)."""
    arr = _vec(p).copy()
    arr[..., 2] = _floor_divmod(arr[..., 2], h)[1]
    return arr


def floor_index(p: ArrayLike, h: float) -> np.ndarray | int:
    """Which floor a point is on: floor(z / h) as int (an int array for many points)."""
    idx = _floor_divmod(_vec(p)[..., 2], h)[0].astype(np.int64)
    return int(idx) if idx.ndim == 0 else idx
