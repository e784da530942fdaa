"""The canonical level: derived arrays, validation, exposure-aware shortest paths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fom.errors import ConfigError
from fom.level import CanonicalLevel, default_level

LEVEL = default_level()


def _simple_paths(level: CanonicalLevel, src: int, dst: int) -> list[tuple[int, ...]]:
    """Every simple path src..dst (brute force, for checking Dijkstra)."""
    out: list[tuple[int, ...]] = []

    def walk(path: list[int]) -> None:
        if path[-1] == dst:
            out.append(tuple(path))
            return
        for j in np.flatnonzero(level.adjacency[path[-1]]):
            if int(j) not in path:
                walk([*path, int(j)])

    walk([src])
    return out


def _cost(level: CanonicalLevel, path: tuple[int, ...], bias: float) -> float:
    b = max(bias, 0.0)
    return sum(
        level.edge_length[i, j] * (1 + b * level.exposure[j]) for i, j in itertools.pairwise(path)
    )


def test_default_level_shape() -> None:
    assert LEVEL.n == 9
    assert len(LEVEL.edges) == 12
    assert LEVEL.positions.shape == (9, 3)
    assert ((LEVEL.positions[:, 2] >= 0) & (LEVEL.positions[:, 2] < LEVEL.floor_height)).all()
    assert ((LEVEL.cover >= 0) & (LEVEL.cover <= 1)).all()
    assert len(set(np.round(LEVEL.cover, 3))) >= 6  # varied cover
    assert np.allclose(LEVEL.exposure, 1 - LEVEL.cover)


def test_derived_arrays_are_consistent_and_read_only() -> None:
    adj = LEVEL.adjacency
    assert np.array_equal(adj, adj.T) and not adj.diagonal().any()
    assert adj.sum() == 2 * len(LEVEL.edges)
    assert np.array_equal(np.diag(LEVEL.edge_length), np.zeros(9))
    assert np.isinf(LEVEL.edge_length[~adj & ~np.eye(9, dtype=bool)]).all()
    assert np.allclose(LEVEL.edge_length[adj], LEVEL.distance[adj])
    assert LEVEL.neighbors.shape == (9, int(adj.sum(axis=1).max()) + 1)
    for i in range(9):
        row = LEVEL.neighbors[i]
        assert row[0] == i
        assert set(row[1:][row[1:] >= 0].tolist()) == set(np.flatnonzero(adj[i]).tolist())
    for arr in (LEVEL.positions, LEVEL.cover, LEVEL.exposure, LEVEL.adjacency, LEVEL.neighbors):
        with pytest.raises(ValueError):
            arr[0] = 0


def test_shortest_path_without_bias_is_the_shortest_walk() -> None:
    for src, dst in itertools.product(range(9), repeat=2):
        path = LEVEL.shortest_path(src, dst, 0.0)
        assert path[0] == src and path[-1] == dst
        assert all(LEVEL.adjacency[i, j] for i, j in itertools.pairwise(path))
        best = min(_cost(LEVEL, p, 0.0) for p in _simple_paths(LEVEL, src, dst))
        assert _cost(LEVEL, path, 0.0) == pytest.approx(best)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 8), st.integers(0, 8), st.floats(-5.0, 20.0))
def test_shortest_path_minimises_the_biased_cost(src: int, dst: int, bias: float) -> None:
    path = LEVEL.shortest_path(src, dst, bias)
    best = min(_cost(LEVEL, p, bias) for p in _simple_paths(LEVEL, src, dst))
    assert _cost(LEVEL, path, bias) == pytest.approx(best)


def test_flank_bias_routes_through_cover() -> None:
    def exposed_metres(path: tuple[int, ...]) -> float:
        return _cost(LEVEL, path, 1.0) - _cost(LEVEL, path, 0.0)

    changed = 0
    for src, dst in itertools.permutations(range(9), 2):
        plain = LEVEL.shortest_path(src, dst, 0.0)
        flank = LEVEL.shortest_path(src, dst, 5.0)
        # optimal for length vs optimal for length + 5 * exposed metres: never more exposed
        assert exposed_metres(flank) <= exposed_metres(plain) + 1e-9
        assert _cost(LEVEL, flank, 0.0) >= _cost(LEVEL, plain, 0.0) - 1e-9
        changed += flank != plain
    assert changed >= 6  # the bias changes many routes
    open_route = LEVEL.shortest_path(0, 8, 0.0)
    covered = LEVEL.shortest_path(0, 8, 5.0)
    assert LEVEL.path_exposure(covered) < LEVEL.path_exposure(open_route)
    assert LEVEL.shortest_path(0, 8, -3.0) == open_route  # negative bias counts as zero


def test_path_exposure_and_position() -> None:
    assert LEVEL.path_exposure([0, 1, 2]) == pytest.approx(np.mean(LEVEL.exposure[[1, 2]]))
    assert LEVEL.path_exposure([4]) == pytest.approx(LEVEL.exposure[4])
    p = LEVEL.position(5, 3)
    assert np.allclose(p[:2], LEVEL.positions[5, :2])
    assert p[2] == pytest.approx(LEVEL.positions[5, 2] + 3 * LEVEL.floor_height)
    with pytest.raises(ConfigError):
        LEVEL.shortest_path(0, 9, 0.0)
    with pytest.raises(ConfigError):
        LEVEL.shortest_path(0, 1, float("nan"))


@pytest.mark.parametrize(
    ("positions", "cover", "edges", "h"),
    [
        ([[0, 0, 0], [1, 0, 6.0]], [0.5, 0.5], ((0, 1),), 6.0),  # z == floor height
        ([[0, 0, 0], [1, 0, 0]], [0.5, 1.5], ((0, 1),), 6.0),  # cover > 1
        ([[0, 0, 0], [1, 0, 0]], [0.5, 0.5], ((0, 2),), 6.0),  # edge to a missing node
        ([[0, 0, 0], [1, 0, 0]], [0.5, 0.5], ((0, 0),), 6.0),  # self loop
        ([[0, 0, 0], [1, 0, 0]], [0.5, 0.5], ((0, 1), (1, 0)), 6.0),  # duplicate edge
        ([[0, 0, 0], [1, 0, 0]], [0.5, 0.5], ((0, 1),), 0.0),  # bad floor height
        ([[0, 0], [1, 0]], [0.5, 0.5], ((0, 1),), 6.0),  # not 3-D
    ],
)
def test_invalid_levels_are_rejected(positions: list, cover: list, edges: tuple, h: float) -> None:
    with pytest.raises(ConfigError):
        CanonicalLevel(np.array(positions, float), np.array(cover, float), edges, h)


def test_unreachable_node_is_a_clear_error() -> None:
    positions = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    level = CanonicalLevel(positions, np.array([0.5, 0.5, 0.5]), ((0, 1),), 4.0)
    with pytest.raises(ConfigError, match="not reachable"):
        level.shortest_path(0, 2, 0.0)
