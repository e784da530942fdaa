"""The level of a Doom map: a CanonicalLevel from its sectors and lines (numpy, vectorised).

Nodes are the points of a square grid that lie inside a sector and keep a player's radius from
every blocking line; an edge joins two grid neighbours (diagonals included) when the segment
between them crosses no blocking line; only the largest connected part is kept. A node's cover
is the fraction of the other nodes that cannot see it (a wall cuts the sight line).
Positions are in metres (128 map units are 3 m), z from the floor of the node's sector.

Walking is stopped by the blocking lines; sight by the walls: the one-sided lines (a line is
two-sided when two sectors list it) and the two-sided ones with no opening between their
sectors' floors and ceilings (a closed door), so one sees over a railing one cannot cross.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from fom.errors import ConfigError
from fom.level import CanonicalLevel

__all__ = [
    "UNITS_PER_METRE",
    "MapGeometry",
    "crossings",
    "inside",
    "level_from_map",
    "segment_distance",
    "sight_walls",
]

UNITS_PER_METRE = 128.0 / 3.0
"""Doom map units in a metre (a player is 56 units tall, about 1.3 m)."""
PLAYER_RADIUS = 16.0
"""Map units: a node keeps this far from every blocking line."""
_CHUNK = 1 << 22  # elements of a (segments x lines) block


def _cross(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray) -> np.ndarray:
    return ax * by - ay * bx


def crossings(p: np.ndarray, q: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(N,) bool: whether segment p[i]-q[i] properly crosses any of ``lines`` (M, 4: x1 y1 x2 y2).

    Orientation tests over every (segment, line) pair, in blocks so memory stays bounded;
    touching an end point does not count as crossing.
    """
    p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
    q = np.asarray(q, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(len(p), dtype=bool)
    if len(lines) == 0 or len(p) == 0:
        return out
    a = lines[None, :, 0:2]
    b = lines[None, :, 2:4]
    ab = b - a
    step = max(1, _CHUNK // len(lines))
    for s in range(0, len(p), step):
        pp = p[s : s + step, None, :]
        qq = q[s : s + step, None, :]
        pq = qq - pp
        d1 = _cross(ab[..., 0], ab[..., 1], pp[..., 0] - a[..., 0], pp[..., 1] - a[..., 1])
        d2 = _cross(ab[..., 0], ab[..., 1], qq[..., 0] - a[..., 0], qq[..., 1] - a[..., 1])
        d3 = _cross(pq[..., 0], pq[..., 1], a[..., 0] - pp[..., 0], a[..., 1] - pp[..., 1])
        d4 = _cross(pq[..., 0], pq[..., 1], b[..., 0] - pp[..., 0], b[..., 1] - pp[..., 1])
        out[s : s + step] = ((d1 * d2 < 0) & (d3 * d4 < 0)).any(axis=1)
    return out


def inside(points: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(N,) bool: even-odd rule of each point against a closed set of lines (one sector)."""
    x = points[:, 0:1]
    y = points[:, 1:2]
    x1, y1, x2, y2 = (lines[None, :, k] for k in range(4))
    straddle = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return (np.count_nonzero(straddle & (x < xc), axis=1) % 2) == 1


def segment_distance(points: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """(N,) the distance of each point to the nearest of ``lines`` (inf without lines)."""
    if len(lines) == 0:
        return np.full(len(points), np.inf)
    a = lines[None, :, 0:2]
    ab = lines[None, :, 2:4] - a
    ap = points[:, None, :] - a
    denom = np.maximum(np.sum(ab * ab, axis=-1), 1e-12)
    t = np.clip(np.sum(ap * ab, axis=-1) / denom, 0.0, 1.0)
    d = ap - t[..., None] * ab
    return np.sqrt(np.min(np.sum(d * d, axis=-1), axis=1))


@dataclass(frozen=True, slots=True, eq=False)
class MapGeometry:
    """A map's lines and the grid the level was made of (map units), for sight and drawing."""

    lines: np.ndarray
    """(M, 4) every line of every sector (x1, y1, x2, y2)."""
    blocking: np.ndarray
    """(B, 4) the blocking lines (no walking across)."""
    walls: np.ndarray
    """(W, 4) the lines that block sight."""
    nodes: np.ndarray
    """(n, 2) the nodes in map units (the level's positions times UNITS_PER_METRE)."""
    _cols: tuple[np.ndarray, ...] = field(init=False, repr=False)
    """Columns taken once for the per-decision queries: the nodes' x and y, and the walls'
    x1, y1, x2, y2 and x2 - x1, y2 - y1 (each query builds from these the very terms
    :func:`crossings` would, so its answers are the same to the bit)."""

    def __post_init__(self) -> None:
        w = np.asarray(self.walls, dtype=np.float64).reshape(-1, 4)
        n = np.asarray(self.nodes, dtype=np.float64).reshape(-1, 2)
        cols = (n[:, 0].copy(), n[:, 1].copy(), *(w[:, k].copy() for k in range(4)),
                w[:, 2] - w[:, 0], w[:, 3] - w[:, 1])  # fmt: skip
        object.__setattr__(self, "_cols", cols)

    def drawn_lines(self) -> np.ndarray:
        """(M, 4) the map's lines in metres (the level's units), each once, for drawing."""
        seen: dict[tuple[float, ...], int] = {}
        for k, (x1, y1, x2, y2) in enumerate(self.lines.tolist()):
            seen.setdefault((x1, y1, x2, y2) if (x1, y1) <= (x2, y2) else (x2, y2, x1, y1), k)
        return self.lines[sorted(seen.values())] / UNITS_PER_METRE

    def node_of(self, xy: np.ndarray) -> np.ndarray:
        """The nearest node of each (x, y) in map units ((k, 2) -> (k,) ints)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        nx, ny = self._cols[:2]
        return np.argmin((xy[:, 0:1] - nx) ** 2 + (xy[:, 1:2] - ny) ** 2, axis=1)

    def visible(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """(k,) bool: whether each dst (k, 2) is in sight of src (2,) (map units)."""
        dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
        if len(self.walls) == 0 or len(dst) == 0:
            return np.ones(len(dst), dtype=bool)
        ax, ay, bx, by, abx, aby = self._cols[2:]
        px, py = np.asarray(src, dtype=np.float64).reshape(2).tolist()
        qx, qy = dst[:, 0:1], dst[:, 1:2]
        pqx, pqy = qx - px, qy - py
        d1 = abx * (py - ay) - aby * (px - ax)  # crossings' orientation tests, src given once
        d2 = abx * (qy - ay) - aby * (qx - ax)
        d3 = pqx * (ay - py) - pqy * (ax - px)
        d4 = pqx * (by - py) - pqy * (bx - px)
        return ~((d1 * d2 < 0) & (d3 * d4 < 0)).any(axis=1)


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    """Connected-component label of each node."""
    adj: list[list[int]] = [[] for _ in range(n)]
    for i, j in edges.tolist():
        adj[i].append(j)
        adj[j].append(i)
    label = np.full(n, -1, dtype=np.int64)
    current = 0
    for start in range(n):
        if label[start] >= 0:
            continue
        label[start] = current
        todo = deque([start])
        while todo:
            i = todo.popleft()
            for j in adj[i]:
                if label[j] < 0:
                    label[j] = current
                    todo.append(j)
        current += 1
    return label


def sight_walls(sectors: list[tuple[float, float, np.ndarray, np.ndarray]]) -> np.ndarray:
    """(W, 4) the lines that block sight: one-sided, or two-sided with a closed opening."""
    seen: dict[tuple[float, ...], list[int]] = {}
    for k, (_, _, lines, _) in enumerate(sectors):
        for x1, y1, x2, y2 in np.asarray(lines, dtype=np.float64).tolist():
            key = (x1, y1, x2, y2) if (x1, y1) <= (x2, y2) else (x2, y2, x1, y1)
            seen.setdefault(key, []).append(k)
    walls = []
    for key, owners in seen.items():
        floors = [sectors[k][0] for k in owners]
        ceilings = [sectors[k][1] for k in owners]
        if len(set(owners)) < 2 or min(ceilings) - max(floors) <= 0:
            walls.append(key)
    return np.array(walls, dtype=np.float64).reshape(-1, 4)


def level_from_map(
    sectors: list[tuple[float, float, np.ndarray, np.ndarray]],
    *,
    spacing: float = 32.0,
    max_nodes: int = 400,
) -> tuple[CanonicalLevel, MapGeometry]:
    """The level and geometry of a map given as sectors: (floor height, ceiling height,
    lines (k, 4), is_blocking (k,)). The grid widens until it has at most ``max_nodes`` nodes."""
    if not sectors:
        raise ConfigError("the map has no sectors")
    lines = np.concatenate([s[2] for s in sectors]).astype(np.float64)
    blocking = np.concatenate([s[2][s[3]] for s in sectors]).astype(np.float64)
    walls = sight_walls(sectors)
    lo = np.minimum(lines[:, 0:2].min(axis=0), lines[:, 2:4].min(axis=0))
    hi = np.maximum(lines[:, 0:2].max(axis=0), lines[:, 2:4].max(axis=0))
    while True:
        xs = np.arange(lo[0] + spacing, hi[0], spacing)
        ys = np.arange(lo[1] + spacing, hi[1], spacing)
        gx, gy = np.meshgrid(xs, ys, indexing="ij")
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        floor = np.full(len(pts), np.nan)
        for height, _, sec_lines, _ in sectors:
            hit = np.isnan(floor) & inside(pts, np.asarray(sec_lines, dtype=np.float64))
            floor[hit] = height
        keep = ~np.isnan(floor)
        keep[keep] = segment_distance(pts[keep], blocking) >= PLAYER_RADIUS
        if np.count_nonzero(keep) <= max_nodes:
            break
        spacing *= 1.25
    if not keep.any():
        raise ConfigError("no walkable point found in the map")
    cell = np.rint((pts - np.array([xs[0], ys[0]])) / spacing).astype(np.int64)
    idx = np.flatnonzero(keep)
    pts, floor, cell = pts[idx], floor[idx], cell[idx]
    n = len(pts)
    # candidate edges: grid neighbours (right, up, both diagonals)
    lookup = {(int(a), int(b)): k for k, (a, b) in enumerate(cell.tolist())}
    pairs = [
        (k, lookup[(a + dx, b + dy)])
        for k, (a, b) in enumerate(cell.tolist())
        for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1))
        if (a + dx, b + dy) in lookup
    ]
    cand = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    ok = ~crossings(pts[cand[:, 0]], pts[cand[:, 1]], blocking)
    mid = (pts[cand[:, 0]] + pts[cand[:, 1]]) / 2
    ok &= segment_distance(mid, blocking) >= PLAYER_RADIUS / 2
    edges = cand[ok]
    label = _components(n, edges)
    biggest = np.argmax(np.bincount(label))
    sel = np.flatnonzero(label == biggest)
    remap = np.full(n, -1, dtype=np.int64)
    remap[sel] = np.arange(len(sel))
    edges = remap[edges[(label[edges[:, 0]] == biggest) & (label[edges[:, 1]] == biggest)]]
    pts, floor = pts[sel], floor[sel]
    n = len(pts)
    iu, ju = np.triu_indices(n, k=1)
    blocked = crossings(pts[iu], pts[ju], walls)
    hidden = np.zeros((n, n), dtype=bool)
    hidden[iu, ju] = blocked
    hidden |= hidden.T
    cover = hidden.sum(axis=0) / max(n - 1, 1)
    z = (floor - floor.min()) / UNITS_PER_METRE
    positions = np.column_stack([pts / UNITS_PER_METRE, z])
    level = CanonicalLevel(
        positions=positions,
        cover=cover,
        edges=tuple((int(a), int(b)) for a, b in edges.tolist()),
        floor_height=float(z.max()) + 3.0,
    )
    return level, MapGeometry(lines=lines, blocking=blocking, walls=walls, nodes=pts)
