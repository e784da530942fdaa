"""PatternStore: additive, exact, order-independent merges; validation; atomic save/load."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fom.errors import ConfigError, InvalidDelta, StateFileError
from fom.patterns import (
    PARAM_NAMES,
    PatternStore,
    load_patterns,
    remove_stale_temporaries,
    save_patterns,
    signature_for,
)

SIG = "combat/shotgun"
TWO = ("aim_offset", "flank_bias")
"""A two-parameter layout: the store's mechanics do not depend on the names."""
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def test_signature_and_defaults() -> None:
    assert signature_for("rocket") == "combat/rocket"
    store = PatternStore(initial={"flank_bias": 0.5})
    p = store.get(SIG)
    assert p.names == PARAM_NAMES
    assert p.get("aim_offset") == 0.0 and p.get("flank_bias") == 0.5
    assert (p.version, p.merges) == (0, 0)
    assert SIG in store and "combat/other" not in store
    with pytest.raises(KeyError):
        p.get("nope")
    with pytest.raises(ValueError):
        p.values[0] = 1.0  # read-only: a PatternParams cannot be changed behind the store's back


def test_merge_is_theta_plus_alpha_delta() -> None:
    store = PatternStore(names=TWO, alpha=0.5)
    p = store.merge(SIG, np.array([0.2, -1.0]))
    assert np.array_equal(p.values, [0.1, -0.5])
    p = store.merge(SIG, np.array([0.2, 1.0], dtype=np.float32))
    assert np.allclose(p.values, [0.2, 0.0])
    assert (p.version, p.merges) == (2, 2)
    assert store.get("combat/rocket").merges == 0  # patterns are independent
    assert list(store.all()) == ["combat/rocket", SIG]


@pytest.mark.parametrize(
    "delta",
    [
        np.array([0.1]),
        np.array([0.1, 0.2, 0.3]),
        np.array([[0.1, 0.2]]),
        np.array([1, 2]),
        np.array([True, False]),
        np.array([np.nan, 0.0]),
        np.array([0.0, np.inf]),
        [0.1, 0.2],
        "0.1,0.2",
    ],
)
def test_bad_deltas_are_rejected_and_leave_the_pattern_untouched(delta: object) -> None:
    store = PatternStore(names=TWO)
    before = store.merge(SIG, np.array([0.25, 0.5]))
    with pytest.raises(InvalidDelta):
        store.merge(SIG, delta)  # type: ignore[arg-type]
    after = store.get(SIG)
    assert np.array_equal(after.values, before.values)
    assert (after.version, after.merges) == (before.version, before.merges)


def test_overflowing_merge_is_rejected() -> None:
    store = PatternStore(names=TWO)
    store.merge(SIG, np.array([1.7e308, 0.0]))
    with pytest.raises(InvalidDelta):
        store.merge(SIG, np.array([1.7e308, 0.0]))
    assert store.get(SIG).values[0] == 1.7e308


def test_merge_order_does_not_change_a_single_bit() -> None:
    deltas = [np.array([0.1, 1e-17]), np.array([0.2, 1.0]), np.array([0.3, -1.0])]
    results = set()
    for order in itertools.permutations(deltas):
        store = PatternStore(names=TWO, alpha=0.7)
        for d in order:
            store.merge(SIG, d)
        results.add(store.get(SIG).values.tobytes())
    assert len(results) == 1
    # naive float addition would differ: (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=8), st.randoms())
def test_merge_is_commutative_for_any_deltas(pairs: list, rnd: object) -> None:
    deltas = [np.array(p) for p in pairs]
    shuffled = list(deltas)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = PatternStore(names=TWO, alpha=0.3), PatternStore(names=TWO, alpha=0.3)
    for d in deltas:
        a.merge(SIG, d)
    for d in shuffled:
        b.merge(SIG, d)
    assert np.array_equal(a.get(SIG).values, b.get(SIG).values)
    assert np.allclose(a.get(SIG).values, 0.3 * np.sum(deltas, axis=0), atol=1e-9)


def test_state_round_trip_keeps_exact_accumulators() -> None:
    store = PatternStore(names=TWO, alpha=0.5, initial={"aim_offset": 0.1})
    for d in ([0.1, 0.2], [1e-17, 0.3], [0.7, 1e-20]):
        store.merge(SIG, np.array(d))
    state = store.to_state()
    assert msgpack.unpackb(msgpack.packb(state), strict_map_key=True) == state  # plain data
    clone = PatternStore.from_state(state)
    for s in (store, clone):
        s.merge(SIG, np.array([0.3, -0.1]))
    assert clone.get(SIG).values.tobytes() == store.get(SIG).values.tobytes()
    assert clone.get(SIG).version == store.get(SIG).version == 4
    assert clone.alpha == 0.5 and clone.initial == store.initial
    with pytest.raises(ConfigError):
        PatternStore.from_state({**state, "format": "something else"})
    bad = {**state, "patterns": {SIG: {**state["patterns"][SIG], "values": [0.0, "x"]}}}
    with pytest.raises(ConfigError):
        PatternStore.from_state(bad)


def test_save_and_load_round_trip_atomically(tmp_path: os.PathLike) -> None:
    path = os.path.join(tmp_path, "patterns.fom")
    store = PatternStore(names=TWO)
    store.merge("combat/rocket", np.array([-0.25, 1.5]))
    save_patterns(store, path)
    store.merge("combat/rocket", np.array([0.5, 0.0]))
    save_patterns(store, path)  # overwrite in place
    loaded = load_patterns(path)
    assert np.array_equal(loaded.get("combat/rocket").values, [0.25, 1.5])
    assert loaded.get("combat/rocket").merges == 2
    assert os.listdir(tmp_path) == ["patterns.fom"]  # no temp file left behind


def test_load_errors_are_one_clear_state_file_error(tmp_path: os.PathLike) -> None:
    missing = os.path.join(tmp_path, "missing.fom")
    with pytest.raises(StateFileError, match="does not exist"):
        load_patterns(missing)
    corrupt = os.path.join(tmp_path, "corrupt.fom")
    with open(corrupt, "wb") as fh:
        fh.write(b"\xc1\xff\x00garbage")
    with pytest.raises(StateFileError, match="corrupt"):
        load_patterns(corrupt)
    foreign = os.path.join(tmp_path, "foreign.fom")
    with open(foreign, "wb") as fh:
        fh.write(msgpack.packb({"format": "other", "version": 1}))
    with pytest.raises(StateFileError, match="not a valid"):
        load_patterns(foreign)
    listing = os.path.join(tmp_path, "list.fom")
    with open(listing, "wb") as fh:
        fh.write(msgpack.packb([1, 2, 3]))
    with pytest.raises(StateFileError):
        load_patterns(listing)
    with pytest.raises(StateFileError):
        save_patterns(PatternStore(names=TWO), os.path.join(tmp_path, "no", "such", "dir.fom"))


def test_store_validates_its_configuration() -> None:
    with pytest.raises(ConfigError):
        PatternStore(alpha=float("nan"))
    with pytest.raises(ConfigError):
        PatternStore(names=("a", "a"))
    with pytest.raises(ConfigError):
        PatternStore(initial={"unknown": 1.0})
    wide = PatternStore(names=tuple(f"w{i}" for i in range(50)))  # a small network's weights
    p = wide.merge("net", np.full(50, 0.01))
    assert p.values.shape == (50,) and np.allclose(p.values, 0.01)


def test_a_saved_file_has_the_users_umask_mode(tmp_path: os.PathLike) -> None:
    """Not the 0600 of a temporary file: what any file the user creates gets."""
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    path = os.path.join(tmp_path, "p.fom")
    save_patterns(PatternStore(names=TWO), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask


def test_a_save_removes_the_temp_files_of_killed_writers_only(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    target = tmp_path / "p.fom"
    stale = tmp_path / f".p.fom.{dead_pid}.abc123.tmp"  # a writer killed in the middle of a save
    live = tmp_path / f".p.fom.{os.getppid()}.def456.tmp"  # a writer still at work
    other = tmp_path / f".q.fom.{dead_pid}.abc123.tmp"  # another file's
    for path in (stale, live, other):
        path.write_bytes(b"half a save")
    save_patterns(PatternStore(names=TWO), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["p.fom", live.name, other.name]
    )
    assert remove_stale_temporaries(target) == []
    assert load_patterns(target).all() == {}
