"""What the dashboard draws besides numbers: the level, learning curves, engaged enemies and
planned paths (plain values, folded by ``DashboardState``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from fom.events import LevelInfo

__all__ = [
    "CURVE_PARAMS",
    "DEFAULT_MAX_CURVE_POINTS",
    "Curve",
    "EngagedEnemy",
    "LevelView",
    "PlannedPath",
    "finite_params",
    "weapon_of",
]

DEFAULT_MAX_CURVE_POINTS = 1000
CURVE_PARAMS = ("aim_offset", "flank_bias")


def weapon_of(signature: str) -> str:
    """Weapon name of a `combat/<weapon>` signature (the signature itself for other kinds)."""
    _, sep, rest = signature.partition("/")
    return rest if sep and rest else signature


def finite_params(params: Mapping[str, float]) -> dict[str, float]:
    """The finite entries of a {name: value} mapping."""
    return {name: value for name, value in params.items() if math.isfinite(value)}


@dataclass(frozen=True, slots=True, eq=False)
class LevelView:
    """The canonical level as announced by `run.started`: node positions, cover and edges."""

    positions: np.ndarray  # (n, 3) float64
    cover: np.ndarray  # (n,) float64 in [0, 1]
    edges: np.ndarray  # (m, 2) int64, valid node indices only
    floor_height: float
    lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    """(k, 4) a real map's lines (x1, y1, x2, y2), drawn under the graph."""

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.positions.shape[0])

    def has_node(self, node: int | None) -> bool:
        """Whether `node` is a valid index into this level."""
        return node is not None and 0 <= node < self.n

    @classmethod
    def from_info(cls, info: LevelInfo) -> LevelView | None:
        """The drawable level of a `run.started` record; None when it has no node."""
        n = len(info.positions)
        if n == 0:
            return None
        positions = np.nan_to_num(np.asarray(info.positions, dtype=np.float64).reshape(n, 3))
        cover = np.full(n, 0.5)
        if len(info.cover) == n:
            cover = np.clip(np.nan_to_num(np.asarray(info.cover, dtype=np.float64), nan=0.5), 0, 1)
        edges = np.asarray(info.edges, dtype=np.int64).reshape(-1, 2)
        edges = edges[((edges >= 0) & (edges < n)).all(axis=1)]
        height = info.floor_height if math.isfinite(info.floor_height) else 0.0
        lines = np.asarray(getattr(info, "lines", ()), dtype=np.float64).reshape(-1, 4)
        lines = lines[np.isfinite(lines).all(axis=1)]
        for arr in (positions, cover, edges, lines):
            arr.setflags(write=False)
        return cls(positions, cover, edges, height, lines)


class Curve:
    """Learning curve of one pattern: (tick, aim_offset, flank_bias), decimated to at most a cap.

    Samples are kept at a uniform stride over merges; when the cap is exceeded every other kept
    sample is dropped and the stride doubles, so memory stays bounded and the whole run stays
    visible. The latest sample is always available, so the curve ends at the current value.
    """

    __slots__ = ("_count", "_last", "_stride", "aim_offset", "flank_bias", "max_points", "ticks")

    def __init__(self, max_points: int = DEFAULT_MAX_CURVE_POINTS) -> None:
        """Create an empty curve holding at most `max_points` (>= 2) decimated samples."""
        self.max_points = max(2, int(max_points))
        self.ticks: list[float] = []
        self.aim_offset: list[float] = []
        self.flank_bias: list[float] = []
        self._stride = 1
        self._count = 0
        self._last: tuple[float, float, float] | None = None

    def add(self, tick: float, aim_offset: float, flank_bias: float) -> None:
        """Record one sample (NaN marks a parameter the event did not carry)."""
        sample = (float(tick), float(aim_offset), float(flank_bias))
        self._last = sample
        if self._count % self._stride == 0:
            self.ticks.append(sample[0])
            self.aim_offset.append(sample[1])
            self.flank_bias.append(sample[2])
            if len(self.ticks) > self.max_points:
                self.ticks = self.ticks[::2]
                self.aim_offset = self.aim_offset[::2]
                self.flank_bias = self.flank_bias[::2]
                self._stride *= 2
        self._count += 1

    def __len__(self) -> int:
        """Number of stored samples (not counting a pending latest one)."""
        return len(self.ticks)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ticks, aim_offset, flank_bias) arrays ending with the latest sample."""
        ticks, aim, flank = list(self.ticks), list(self.aim_offset), list(self.flank_bias)
        last = self._last
        if last is not None and (not ticks or (ticks[-1], aim[-1], flank[-1]) != last):
            ticks.append(last[0])
            aim.append(last[1])
            flank.append(last[2])
        return np.asarray(ticks), np.asarray(aim), np.asarray(flank)


@dataclass(slots=True)
class EngagedEnemy:
    """An enemy currently engaged by a TIP, as last reported."""

    encounter: int | None
    tip: str | None
    weapon: str
    signature: str
    node: int | None
    floor: int | None
    since: int


@dataclass(frozen=True, slots=True)
class PlannedPath:
    """One planned path from a `tip.shot` event."""

    tick: int
    encounter: int | None
    weapon: str
    nodes: tuple[int, ...]
