"""Vector helpers and the fractal fold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fom.geometry import floor_index, fold, v_add, v_dist, v_len, v_norm, v_sub

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def test_add_sub_len_dist_values() -> None:
    a = np.array([1.0, 2.0, 2.0])
    b = np.array([4.0, 6.0, 2.0])
    assert np.array_equal(v_add(a, b), [5.0, 8.0, 4.0])
    assert np.array_equal(v_sub(b, a), [3.0, 4.0, 0.0])
    assert v_len(a) == pytest.approx(3.0)
    assert v_dist(a, b) == pytest.approx(5.0)


def test_helpers_vectorise_over_leading_axes() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 5, 3))
    b = rng.normal(size=(5, 3))
    assert v_add(a, b).shape == (4, 5, 3)
    d = v_dist(a, b)
    assert d.shape == (4, 5)
    assert np.allclose(d, np.linalg.norm(a - b, axis=-1))


def test_norm_keeps_zero_vector_zero_and_normalises_others() -> None:
    out = v_norm(np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 4.0]]))
    assert np.array_equal(out[0], [0.0, 0.0, 0.0])
    assert np.allclose(out[1], [0.6, 0.0, 0.8])
    assert not np.isnan(out).any()


def test_wrong_last_axis_is_rejected() -> None:
    with pytest.raises(ValueError):
        v_len(np.zeros((2, 2)))
    with pytest.raises(ValueError):
        fold(np.zeros(3), 0.0)


def test_fold_maps_every_floor_onto_the_canonical_one() -> None:
    p = np.array([[1.0, 2.0, 0.5], [1.0, 2.0, 6.5], [1.0, 2.0, -5.5]])
    f = fold(p, 6.0)
    assert np.allclose(f, [[1.0, 2.0, 0.5]] * 3)
    assert list(floor_index(p, 6.0)) == [0, 1, -1]
    assert floor_index(p[1], 6.0) == 1
    assert isinstance(floor_index(p[1], 6.0), int)


@given(finite, finite, finite, st.floats(0.1, 100.0))
def test_fold_and_floor_index_reconstruct_the_point(x: float, y: float, z: float, h: float) -> None:
    p = np.array([x, y, z])
    f = fold(p, h)
    assert f[0] == x and f[1] == y
    assert 0.0 <= f[2] < h
    assert f[2] + floor_index(p, h) * h == pytest.approx(z, abs=1e-6 * max(1.0, abs(z)))
