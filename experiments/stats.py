"""Statistics across seeds: means with 95% t-intervals, per-seed paired differences, and the
per-(learner, planner) groups with their learning curves."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from experiments.runs import RunRecord
from experiments.settings import Settings

__all__ = [
    "Group",
    "Stat",
    "analyse",
    "curve_ci",
    "diff",
    "mean_ci",
    "paired",
    "paired_window",
    "ratio",
    "relative",
    "t975",
    "window",
]

_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
"""Student's t 97.5% quantiles for 1..30 degrees of freedom."""


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        return math.nan
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959963984540054  # Cornish-Fisher expansion; exact to 1e-4 for df > 30
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True, slots=True)
class Stat:
    """Mean of per-seed values with its 95% t-interval, and their standard deviation."""

    mean: float
    lo: float
    hi: float
    sd: float
    n: int

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the 95% interval."""
        return self.lo <= value <= self.hi


def mean_ci(values: Iterable[float]) -> Stat:
    """Mean and 95% t-interval across seeds (NaNs dropped)."""
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return Stat(math.nan, math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if x.size == 1:
        return Stat(mean, mean, mean, 0.0, 1)
    sd = float(x.std(ddof=1))
    half = t975(x.size - 1) * sd / math.sqrt(x.size)
    return Stat(mean, mean - half, mean + half, sd, int(x.size))


def curve_ci(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-wise mean and 95% t-interval of a (seeds, points) array (NaNs dropped)."""
    mean = np.full(rows.shape[1], np.nan)
    lo, hi = mean.copy(), mean.copy()
    for j in range(rows.shape[1]):
        s = mean_ci(rows[:, j])
        mean[j], lo[j], hi[j] = s.mean, s.lo, s.hi
    return mean, lo, hi


def window(shots: np.ndarray, hits: np.ndarray, width: int) -> np.ndarray:
    """Pooled accuracy over the last ``width`` encounters (fewer at the start), NaN if no shots."""
    cs, ch = np.concatenate([[0], np.cumsum(shots)]), np.concatenate([[0], np.cumsum(hits)])
    end = np.arange(1, len(shots) + 1)
    start = np.maximum(end - width, 0)
    s, h = cs[end] - cs[start], ch[end] - ch[start]
    return np.where(s > 0, h / np.maximum(s, 1), np.nan)


@dataclass(slots=True)
class Group:
    """The runs of one (learner, planner) and their statistics across seeds."""

    learner: str
    planner: str
    runs: list[RunRecord]
    k: int = 0
    """Encounters every run finished: the length of the learning curves."""
    at: int = 0
    """The encounter the 'after N encounters' figures are taken at: min(settings.at, k)."""
    curve: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(seeds, k) moving-window accuracy after each encounter."""
    cumulative: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    """(seeds, k) accuracy over encounters 1..j."""

    def per_seed(self, fn: Callable[[RunRecord], float]) -> Stat:
        """Mean and 95% interval across seeds of ``fn(run)``."""
        return mean_ci(fn(r) for r in self.runs)

    @property
    def window_at(self) -> Stat:
        """Accuracy over the ``window`` encounters ending at encounter ``at``."""
        return mean_ci(self.curve[:, self.at - 1]) if self.at else mean_ci([])

    @property
    def cumulative_at(self) -> Stat:
        """Accuracy over encounters 1..at."""
        return mean_ci(self.cumulative[:, self.at - 1]) if self.at else mean_ci([])

    def ticks_to(self, n: int) -> list[int]:
        """Ticks each run took until its ``n``-th encounter finished (runs that got there)."""
        return [int(r.end_tick[n - 1]) + 1 for r in self.runs if r.encounters >= n]


def analyse(runs: dict[tuple[str, str], list[RunRecord]], s: Settings) -> dict[str, Group]:
    """Build the per-(learner, planner) groups, keyed ``learner/planner``."""
    groups: dict[str, Group] = {}
    for (learner, planner), records in runs.items():
        k = min(r.encounters for r in records)
        g = Group(learner, planner, records, k=k, at=min(s.at, k))
        curves, cums = [], []
        for r in records:
            shots = r.shots[:k].astype(np.float64)
            hits = r.hits[:k].astype(np.float64)
            curves.append(window(shots, hits, s.window))
            cums.append(window(shots, hits, k))
        g.curve, g.cumulative = np.array(curves), np.array(cums)
        groups[f"{learner}/{planner}"] = g
    return groups


PairFn = Callable[[RunRecord, RunRecord], float]


def paired(a: Group, b: Group, fn: PairFn) -> Stat:
    """Mean and 95% interval of ``fn(run_a, run_b)`` over seeds both groups ran."""
    by_seed = {r.seed: r for r in b.runs}
    return mean_ci(fn(r, by_seed[r.seed]) for r in a.runs if r.seed in by_seed)


def paired_window(a: Group, b: Group) -> Stat:
    """Accuracy-after-``at`` difference a - b, per seed."""
    at = min(a.at, b.at)
    seeds_b = {r.seed: i for i, r in enumerate(b.runs)}
    diffs = [
        a.curve[i, at - 1] - b.curve[seeds_b[r.seed], at - 1]
        for i, r in enumerate(a.runs)
        if r.seed in seeds_b
    ]
    return mean_ci(diffs)


def relative(fn: Callable[[RunRecord], float]) -> PairFn:
    """Per-seed relative change of ``fn``: a / b - 1."""
    return lambda a, b: fn(a) / fn(b) - 1.0 if fn(b) else math.nan


def ratio(fn: Callable[[RunRecord], float]) -> PairFn:
    """Per-seed ratio of ``fn``: a / b."""
    return lambda a, b: fn(a) / fn(b) if fn(b) else math.nan


def diff(fn: Callable[[RunRecord], float]) -> PairFn:
    """Per-seed difference of ``fn``: a - b."""
    return lambda a, b: fn(a) - fn(b)
