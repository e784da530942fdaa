"""The canonical level: nodes with cover, walkable edges, and exposure-aware shortest paths."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fom.errors import ConfigError

__all__ = ["CanonicalLevel", "default_level"]


def _readonly(arr: np.ndarray) -> np.ndarray:
    """Mark an array read-only so a shared level cannot be mutated by accident."""
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class CanonicalLevel:
    """One floor of the level; floors repeat every ``floor_height`` along z (the fractal fold)."""

    positions: np.ndarray
    cover: np.ndarray
    edges: tuple[tuple[int, int], ...]
    floor_height: float
    n: int = field(init=False, repr=False)
    exposure: np.ndarray = field(init=False, repr=False)
    adjacency: np.ndarray = field(init=False, repr=False)
    edge_length: np.ndarray = field(init=False, repr=False)
    neighbors: np.ndarray = field(init=False, repr=False)
    distance: np.ndarray = field(init=False, repr=False)
    _adj_list: tuple[tuple[int, ...], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Validate the inputs and derive the read-only lookup arrays."""
        pos = np.array(self.positions, dtype=np.float64)
        cover = np.array(self.cover, dtype=np.float64)
        h = float(self.floor_height)
        if pos.ndim != 2 or pos.shape[1] != 3 or pos.shape[0] == 0:
            raise ConfigError(f"positions must have shape (n, 3) with n >= 1, got {pos.shape}")
        n = pos.shape[0]
        if not np.isfinite(pos).all():
            raise ConfigError("positions must be finite")
        if not (np.isfinite(h) and h > 0):
            raise ConfigError(f"floor_height must be a positive finite number, got {h}")
        if ((pos[:, 2] < 0) | (pos[:, 2] >= h)).any():
            raise ConfigError(f"every node needs 0 <= z < floor_height ({h})")
        if cover.shape != (n,) or not np.isfinite(cover).all():
            raise ConfigError(f"cover must be {n} finite values, got shape {cover.shape}")
        if ((cover < 0) | (cover > 1)).any():
            raise ConfigError("cover values must lie in [0, 1]")
        edges: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        for e in self.edges:
            try:
                i, j = (int(e[0]), int(e[1]))
            except (TypeError, ValueError, IndexError):
                raise ConfigError(f"an edge must be a pair of node indices, got {e!r}") from None
            if len(e) != 2 or not (0 <= i < n and 0 <= j < n) or i == j:
                raise ConfigError(f"edge {e!r} is not a pair of two distinct nodes in [0, {n})")
            key = (min(i, j), max(i, j))
            if key in seen:
                raise ConfigError(f"edge {e!r} is listed twice")
            seen.add(key)
            edges.append((i, j))
        adjacency = np.zeros((n, n), dtype=bool)
        for i, j in edges:
            adjacency[i, j] = adjacency[j, i] = True
        diff = pos[:, None, :] - pos[None, :, :]
        distance = np.sqrt(np.sum(diff * diff, axis=-1))
        edge_length = np.where(adjacency, distance, np.inf)
        np.fill_diagonal(edge_length, 0.0)
        adj_list = tuple(tuple(int(j) for j in np.flatnonzero(adjacency[i])) for i in range(n))
        max_degree = max((len(a) for a in adj_list), default=0)
        neighbors = np.full((n, max_degree + 1), -1, dtype=np.int64)
        for i, adj in enumerate(adj_list):
            neighbors[i, 0] = i
            neighbors[i, 1 : 1 + len(adj)] = adj
        setter = object.__setattr__
        setter(self, "positions", _readonly(pos))
        setter(self, "cover", _readonly(cover))
        setter(self, "edges", tuple(edges))
        setter(self, "floor_height", h)
        setter(self, "n", n)
        setter(self, "exposure", _readonly(1.0 - cover))
        setter(self, "adjacency", _readonly(adjacency))
        setter(self, "edge_length", _readonly(edge_length))
        setter(self, "neighbors", _readonly(neighbors))
        setter(self, "distance", _readonly(distance))
        setter(self, "_adj_list", adj_list)

    def _check_node(self, node: int) -> int:
        """Return ``node`` as an int, or raise ConfigError when it is not a node of the level."""
        idx = int(node)
        if not 0 <= idx < self.n:
            raise ConfigError(f"node {node} is not in [0, {self.n})")
        return idx

    def shortest_path(self, src: int, dst: int, flank_bias: float) -> tuple[int, ...]:
        """Dijkstra path src..dst; step i->j costs len * (1 + max(flank_bias, 0) * exposure[j])."""
        s, t = self._check_node(src), self._check_node(dst)
        bias = float(flank_bias)
        if not np.isfinite(bias):
            raise ConfigError(f"flank_bias must be finite, got {flank_bias}")
        if s == t:
            return (s,)
        bias = max(bias, 0.0)
        step_factor = (1.0 + bias * self.exposure).tolist()
        lengths = self.edge_length
        best = [np.inf] * self.n
        prev = [-1] * self.n
        best[s] = 0.0
        heap: list[tuple[float, int]] = [(0.0, s)]
        while heap:
            cost, i = heapq.heappop(heap)
            if cost > best[i]:
                continue
            if i == t:
                break
            row = lengths[i]
            for j in self._adj_list[i]:
                c = cost + float(row[j]) * step_factor[j]
                if c < best[j]:
                    best[j] = c
                    prev[j] = i
                    heapq.heappush(heap, (c, j))
        if prev[t] < 0:
            raise ConfigError(f"node {t} is not reachable from node {s}")
        path = [t]
        while path[-1] != s:
            path.append(prev[path[-1]])
        return tuple(reversed(path))

    def path_exposure(self, path: Sequence[int]) -> float:
        """Mean exposure of the nodes after the first (a one-node path: that node's exposure)."""
        nodes = [self._check_node(p) for p in path]
        if not nodes:
            raise ConfigError("path_exposure needs a non-empty path")
        tail = nodes[1:] if len(nodes) > 1 else nodes
        return float(np.mean(self.exposure[tail]))

    def position(self, node: int, floor: int) -> np.ndarray:
        """Unfolded 3-D position of ``node`` on floor ``floor`` (z shifted by floor * height)."""
        p = self.positions[self._check_node(node)].copy()
        p[2] += int(floor) * self.floor_height
        return p



def default_level() -> CanonicalLevel:
    """The DESIGN's default level: a 3x3 grid (9 nodes, 12 edges), an open centre, varied cover.

    Layout (x to the right, y up the page; spacing 10 m, gentle ramps in z)::

        6 - 7 - 8
        |   |   |
        3 - 4 - 5
        |   |   |
        0 - 1 - 2
    """
    xy = [(x * 10.0, y * 10.0) for y in range(3) for x in range(3)]
    z = [0.0, 0.5, 1.0, 0.5, 0.0, 1.5, 1.0, 2.0, 0.5]
    positions = np.array([(x, y, zz) for (x, y), zz in zip(xy, z, strict=True)])
    cover = np.array([0.8, 0.3, 0.7, 0.6, 0.05, 0.2, 0.9, 0.4, 0.75])
    edges = (
        (0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8),
        (0, 3), (3, 6), (1, 4), (4, 7), (2, 5), (5, 8),
    )  # fmt: skip
    return CanonicalLevel(positions=positions, cover=cover, edges=edges, floor_height=6.0)
