"""Patterns: named parameter vectors keyed by a signature, merged additively from TIP deltas.

The merge is θ ← θ + alpha·Δ. To make "addition commutes" hold bit for bit (not just up to
rounding), each pattern keeps the *exact* sum of its initial values and every scaled delta
alpha·Δ as integers in units of 2^-1074 (every finite float64 is such a multiple); the visible
values are that sum correctly rounded to float64. So any order of the same deltas gives
identical values. The cost is a few microseconds per parameter per merge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy as np

from fom.atomic import remove_stale_temporaries, write_atomically
from fom.errors import ConfigError, InvalidDelta, StateFileError

__all__ = [
    "PARAM_NAMES",
    "PatternParams",
    "PatternStore",
    "load_patterns",
    "remove_stale_temporaries",
    "save_patterns",
    "signature_for",
]

PARAM_NAMES: tuple[str, ...] = (
    "aim_offset",
    "flank_bias",
    "lead_gain",
    "first_shots",
    "first_hits",
    "refire_shots",
    "refire_hits",
)
FILE_FORMAT = "fom.patterns"
FILE_VERSION = 1

_SHIFT = 1074  # 2^-1074 is the smallest positive float64 (subnormal): the exact grid
_ONE = 1 << _SHIFT


def _to_fixed(x: float) -> int:
    """The exact value of a finite float as an integer multiple of 2^-1074."""
    num, den = float(x).as_integer_ratio()
    return num << (_SHIFT - (den.bit_length() - 1))


def _from_fixed(v: int) -> float:
    """The float nearest to ``v`` * 2^-1074 (correctly rounded; OverflowError if too large)."""
    return v / _ONE


def signature_for(weapon: str) -> str:
    """The pattern signature of a fight against an enemy with ``weapon``: ``combat/<weapon>``."""
    return f"combat/{weapon}"


@dataclass(frozen=True, slots=True)
class PatternParams:
    """An immutable view of one pattern: parameter names, values, version and merge count."""

    signature: str
    names: tuple[str, ...]
    values: np.ndarray
    version: int
    merges: int

    def get(self, name: str) -> float:
        """The value of one named parameter (KeyError if the pattern has no such name)."""
        try:
            return float(self.values[self.names.index(name)])
        except ValueError:
            raise KeyError(f"pattern {self.signature!r} has no parameter {name!r}") from None

    def as_dict(self) -> dict[str, float]:
        """The parameters as {name: value}, e.g. for events and summaries."""
        return {n: float(v) for n, v in zip(self.names, self.values, strict=True)}


class _Pattern:
    """Mutable bookkeeping behind one signature: exact accumulators and the rounded values."""

    __slots__ = ("acc", "merges", "values", "version")

    def __init__(self, acc: list[int], values: np.ndarray, version: int, merges: int) -> None:
        self.acc = acc
        self.values = values
        self.version = version
        self.merges = merges


class PatternStore:
    """All patterns of a run; creates a pattern with the initial values on first use."""

    def __init__(
        self,
        alpha: float = 1.0,
        names: Sequence[str] = PARAM_NAMES,
        initial: Mapping[str, float] | None = None,
    ) -> None:
        alpha = float(alpha)
        if not np.isfinite(alpha):
            raise ConfigError(f"alpha must be finite, got {alpha}")
        names = tuple(str(n) for n in names)
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"parameter names must be non-empty and unique, got {names}")
        init = dict(initial or {})
        unknown = set(init) - set(names)
        if unknown:
            raise ConfigError(f"initial values for unknown parameters: {sorted(unknown)}")
        values = np.array([float(init.get(n, 0.0)) for n in names], dtype=np.float64)
        if not np.isfinite(values).all():
            raise ConfigError("initial parameter values must be finite")
        self.alpha = alpha
        self.names = names
        self._initial = values
        self._initial.setflags(write=False)
        self._patterns: dict[str, _Pattern] = {}

    @property
    def initial(self) -> dict[str, float]:
        """The values a new pattern starts with."""
        return {n: float(v) for n, v in zip(self.names, self._initial, strict=True)}

    def _pattern(self, signature: str) -> _Pattern:
        """The bookkeeping for ``signature``, created from the initial values on first use."""
        pat = self._patterns.get(signature)
        if pat is None:
            if not isinstance(signature, str) or not signature:
                raise ConfigError(f"a signature must be a non-empty string, got {signature!r}")
            values = self._initial.copy()
            values.setflags(write=False)
            pat = _Pattern([_to_fixed(v) for v in values.tolist()], values, 0, 0)
            self._patterns[signature] = pat
        return pat

    def _params(self, signature: str, pat: _Pattern) -> PatternParams:
        """An immutable PatternParams for one pattern (values are a read-only array)."""
        return PatternParams(signature, self.names, pat.values, pat.version, pat.merges)

    def get(self, signature: str) -> PatternParams:
        """The current parameters of ``signature`` (created with the initial values if new)."""
        return self._params(signature, self._pattern(signature))

    def peek(self, signature: str) -> PatternParams:
        """The current parameters of ``signature`` without creating it (initial values if new)."""
        pat = self._patterns.get(signature)
        if pat is None:
            return PatternParams(signature, self.names, self._initial, 0, 0)
        return self._params(signature, pat)

    def __contains__(self, signature: object) -> bool:
        """True once ``signature`` has been created (by get or merge)."""
        return signature in self._patterns

    def validate(self, delta: object) -> np.ndarray:
        """Return ``delta`` as float64, or raise InvalidDelta (type, shape, dtype, non-finite)."""
        if not isinstance(delta, np.ndarray):
            raise InvalidDelta(f"delta must be a numpy array, got {type(delta).__name__}")
        if delta.shape != (len(self.names),):
            raise InvalidDelta(f"delta has shape {delta.shape}, expected ({len(self.names)},)")
        if delta.dtype.kind != "f":
            raise InvalidDelta(f"delta has dtype {delta.dtype}, expected a float dtype")
        if not np.isfinite(delta).all():
            raise InvalidDelta("delta has non-finite values")
        return delta.astype(np.float64)

    def merge(self, signature: str, delta: np.ndarray) -> PatternParams:
        """θ ← θ + alpha·Δ, exact and order-independent; version+1, merges+1; else InvalidDelta."""
        d = self.validate(delta)
        scaled = self.alpha * d
        if not np.isfinite(scaled).all():
            raise InvalidDelta("alpha * delta overflows")
        pat = self._pattern(signature)
        acc = [a + _to_fixed(x) for a, x in zip(pat.acc, scaled.tolist(), strict=True)]
        try:
            values = np.array([_from_fixed(a) for a in acc], dtype=np.float64)
        except OverflowError:
            raise InvalidDelta("merging this delta would overflow the parameters") from None
        if not np.isfinite(values).all():
            raise InvalidDelta("merging this delta would make the parameters non-finite")
        values.setflags(write=False)
        pat.acc, pat.values = acc, values
        pat.version += 1
        pat.merges += 1
        return self._params(signature, pat)

    def all(self) -> dict[str, PatternParams]:
        """Every pattern, signature -> PatternParams, in signature order."""
        return {s: self._params(s, self._patterns[s]) for s in sorted(self._patterns)}

    def widened(self, names: Sequence[str], initial: Mapping[str, float]) -> PatternStore:
        """This store laid out as ``names``, its own names followed by new ones: a new parameter
        starts at its ``initial`` value (0.0 if absent) in every pattern, the others keep their
        exact values, versions and merge counts (an older file read by a newer layout).
        ConfigError if ``names`` does not begin with this store's."""
        names = tuple(str(n) for n in names)
        if names[: len(self.names)] != self.names:
            raise ConfigError(f"{names} does not begin with {self.names}")
        added = names[len(self.names) :]
        start = [float(initial.get(n, 0.0)) for n in added]
        out = PatternStore(self.alpha, names, self.initial | dict(zip(added, start, strict=True)))
        for sig, pat in self._patterns.items():
            acc = [*pat.acc, *(_to_fixed(v) for v in start)]
            values = np.array([_from_fixed(a) for a in acc], dtype=np.float64)
            values.setflags(write=False)
            out._patterns[sig] = _Pattern(acc, values, pat.version, pat.merges)
        return out

    def to_state(self) -> dict:
        """Plain msgpack-able data (exact accumulators as hex strings, so a reload is exact)."""
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "alpha": self.alpha,
            "names": list(self.names),
            "initial": self._initial.tolist(),
            "patterns": {
                s: {
                    "values": p.values.tolist(),
                    "acc": [hex(a) for a in p.acc],
                    "version": p.version,
                    "merges": p.merges,
                }
                for s, p in sorted(self._patterns.items())
            },
        }

    @classmethod
    def from_state(cls, state: dict) -> PatternStore:
        """Rebuild a store from ``to_state`` data; ConfigError (a ValueError) if it is malformed."""
        try:
            if state.get("format") != FILE_FORMAT:
                raise ValueError(f"format is {state.get('format')!r}, expected {FILE_FORMAT!r}")
            if state.get("version") != FILE_VERSION:
                raise ValueError(f"unsupported version {state.get('version')!r}")
            names = tuple(state["names"])
            if not all(isinstance(n, str) for n in names):
                raise ValueError("parameter names must be strings")
            initial = [float(v) for v in state["initial"]]
            store = cls(
                alpha=float(state["alpha"]),
                names=names,
                initial=dict(zip(names, initial, strict=True)),
            )
            for sig, rec in dict(state["patterns"]).items():
                if not isinstance(sig, str) or not sig:
                    raise ValueError(f"bad signature {sig!r}")
                values = [float(v) for v in rec["values"]]
                if len(values) != len(names) or not np.isfinite(values).all():
                    raise ValueError(f"pattern {sig!r} has bad values")
                acc_raw = rec.get("acc")
                acc = (
                    [int(a, 16) for a in acc_raw]
                    if acc_raw is not None
                    else [_to_fixed(v) for v in values]
                )
                if len(acc) != len(names) or [_from_fixed(a) for a in acc] != values:
                    raise ValueError(f"pattern {sig!r}: accumulators do not match the values")
                version, merges = int(rec["version"]), int(rec["merges"])
                if version < 0 or merges < 0:
                    raise ValueError(f"pattern {sig!r} has a negative version or merge count")
                arr = np.array(values, dtype=np.float64)
                arr.setflags(write=False)
                store._patterns[sig] = _Pattern(acc, arr, version, merges)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise ConfigError(f"invalid pattern state: {exc}") from None
        return store


def save_patterns(store: PatternStore, path: str | os.PathLike[str]) -> None:
    """Write the store as msgpack atomically (:func:`fom.atomic.write_atomically`)."""
    data = msgpack.packb(store.to_state(), use_bin_type=True)
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise StateFileError(f"cannot save patterns to {path}: {exc.strerror or exc}") from None


def load_patterns(path: str | os.PathLike[str]) -> PatternStore:
    """Read a store written by save_patterns; StateFileError for missing/corrupt/foreign files."""
    target = Path(path)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise StateFileError(f"pattern file {target} does not exist") from None
    except OSError as exc:
        raise StateFileError(f"cannot read pattern file {target}: {exc.strerror or exc}") from None
    try:
        state = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for corrupt input
        raise StateFileError(f"pattern file {target} is corrupt: {exc}") from None
    if not isinstance(state, dict):
        raise StateFileError(f"pattern file {target} is not a FOM pattern file")
    try:
        return PatternStore.from_state(state)
    except ConfigError as exc:
        raise StateFileError(
            f"pattern file {target} is not a valid FOM pattern file: {exc}"
        ) from None
