"""The paper's claims, measured on our own system: writes docs/results.md and PNG plots.

    python scripts/experiment.py [--quick] [--out DIR] [--seeds N] [--jobs N]

The paper (Fractal Operations Manifold, section 4) claims, for a 9-node, 12-edge world with
shotgun and rocket enemies over 300 steps: FOM reaches 81% +- 2.3 accuracy after about 120
encounters, against 59% for static aim and 76% for a monolithic Q-network that needs 10x more
compute; path exposure drops by 27%; the median decision latency is 1.6 ms, independent of
the number of concurrent TIPs up to 64. This script measures each of those on the real system
(``fom.app.run``, every actor, the event stream read through ``listeners=``) and writes every
number of the report itself:

1. Learners (fom, static, monolithic) x planners (graph, fmc), and the fom learner with the
   ``mc`` planner (uniform random shooting at FMC's budget), in the ``dummy`` world (the
   paper's setting) for ``--ticks`` ticks, over ``--seeds`` seeds: per-encounter learning
   curves from ``tip.finished`` events, accuracy after 120 encounters, path exposure, damage.
2. Compute per decision: the learners' own CPU time around ``act`` + ``update`` in the pure
   encounter loop (``fom.simulate.run_encounters``), the whole system's CPU time per decision,
   and the learners' counted floating-point operations.
3. Decision latency p50/p99 against concurrent TIPs (1, 2, 4, ... 4096) for the graph and FMC
   planners, each planner's sweep in a fresh process, in the ``enhanced`` world (the dummy
   world cannot keep more than a few encounters going at once).

Results are deterministic given the seeds, except the wall-clock and CPU-time figures, which
all live in the section between ``<!-- timing:begin -->`` and ``<!-- timing:end -->``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from anywhere, even where a stray ``fom`` dir shadows

TIMING_BEGIN = "<!-- timing:begin -->"
TIMING_END = "<!-- timing:end -->"
"""Markers around every wall-clock and CPU-time figure of results.md (for determinism checks)."""

LEARNERS: tuple[str, ...] = ("fom", "static", "monolithic")
PLANNERS: tuple[str, ...] = ("graph", "fmc", "mc")
LEARNER_PLANNERS: tuple[str, ...] = ("graph", "fmc")
"""Planners every learner is run with; ``mc`` runs with the fom learner only."""

PAPER: dict[str, float] = {
    "fom_accuracy": 0.81,
    "fom_accuracy_pm": 0.023,
    "static_accuracy": 0.59,
    "monolithic_accuracy": 0.76,
    "encounters": 120,
    "steps": 300,
    "compute_ratio": 10.0,
    "exposure_change": -0.27,
    "latency_p50_ms": 1.6,
    "latency_tips_max": 64,
}
"""The paper's figures (section 4, Results)."""

COLORS: dict[str, str] = {
    "fom": "#1f77b4",
    "static": "#7f7f7f",
    "monolithic": "#d62728",
    "graph": "#2ca02c",
    "fmc": "#9467bd",
    "mc": "#ff7f0e",
}
UNCOVERED = 0.5
"""A node is *uncovered* when its exposure (1 - cover) exceeds this (the paper's metric)."""
INDEPENDENCE_FACTOR = 1.5
"""Latency counts as independent of the TIP count when no p50 exceeds 1 TIP's by this factor."""


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the experiment depends on (printed into results.md)."""

    seeds: tuple[int, ...]
    ticks: int = 300
    tips: int = 4
    world: str = "dummy"
    walkers: int = 32
    horizon: int = 8
    window: int = 20
    at: int = 120
    compute_seeds: tuple[int, ...] = ()
    compute_encounters: int = 120
    latency_tips: tuple[int, ...] = tuple(2**k for k in range(13))
    latency_decisions: int = 4000
    latency_min_ticks: int = 10
    latency_max_ticks: int = 400
    latency_seed: int = 0
    jobs: int = 2
    quick: bool = False

    def latency_ticks(self, tips: int) -> int:
        """Ticks of the latency run with ``tips`` TIPs: about ``latency_decisions`` decisions."""
        want = math.ceil(self.latency_decisions / tips)
        return int(min(max(want, self.latency_min_ticks), self.latency_max_ticks))


def default_settings(quick: bool, seeds: int | None, jobs: int | None) -> Settings:
    """The default run (30 seeds, TIPs up to 4096) or the ``--quick`` smoke run."""
    cores = os.cpu_count() or 1
    jobs = jobs if jobs is not None else max(1, min(2, cores))
    if quick:
        n = seeds if seeds is not None else 3
        return Settings(
            seeds=tuple(range(n)),
            ticks=140,
            compute_seeds=tuple(range(n)),
            compute_encounters=60,
            latency_tips=tuple(2**k for k in range(7)),
            latency_decisions=150,
            latency_min_ticks=5,
            latency_max_ticks=40,
            jobs=jobs,
            quick=True,
        )
    n = seeds if seeds is not None else 30
    return Settings(seeds=tuple(range(n)), compute_seeds=tuple(range(min(n, 20))), jobs=jobs)


# ----------------------------------------------------------------------------- statistics

_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


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


# ----------------------------------------------------------------------------- phase 1: runs


@dataclass(slots=True)
class RunRecord:
    """What one run of the real system produced, read from its events and summary."""

    learner: str
    planner: str
    seed: int
    ticks: int
    shots: list[int] = field(default_factory=list)
    hits: list[int] = field(default_factory=list)
    damage: list[float] = field(default_factory=list)
    end_tick: list[int] = field(default_factory=list)
    tip_ticks: int = 0
    exposure_sum: float = 0.0
    uncovered_ticks: int = 0
    plans: int = 0
    plan_requests: int = 0
    plan_samples: int = 0
    accuracy: float = 0.0
    deaths: int = 0
    decisions: int = 0
    compute_flops: int = 0
    failures: int = 0
    # wall-clock / CPU time (timing section only)
    plan_ms: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def encounters(self) -> int:
        """Encounters finished in the run."""
        return len(self.shots)

    @property
    def exposure(self) -> float:
        """Mean exposure (1 - cover) of the node a TIP stood on, over every TIP tick."""
        return self.exposure_sum / self.tip_ticks if self.tip_ticks else math.nan

    @property
    def uncovered(self) -> float:
        """Fraction of TIP ticks spent on uncovered nodes (exposure > UNCOVERED)."""
        return self.uncovered_ticks / self.tip_ticks if self.tip_ticks else math.nan

    @property
    def damage_per_encounter(self) -> float:
        """Mean damage taken per finished encounter."""
        return float(np.mean(self.damage)) if self.damage else math.nan


class _Collector:
    """An event listener that keeps only what the experiment needs from the stream."""

    def __init__(self, record: RunRecord) -> None:
        self.r = record

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        r = self.r
        if kind == "tip.shot":
            exposure = float(event["exposure"])
            r.tip_ticks += 1
            r.exposure_sum += exposure
            r.uncovered_ticks += exposure > UNCOVERED
        elif kind == "tip.finished":
            r.shots.append(int(event["shots"]))
            r.hits.append(int(event["hits"]))
            r.damage.append(float(event["damage_taken"]))
            r.end_tick.append(int(event["tick"]))
        elif kind == "plan.done":
            r.plans += 1
            r.plan_requests += int(event["requests"])
            r.plan_samples += int(event["samples"])
            r.plan_ms += float(event["elapsed_ms"])


def run_one(task: tuple[str, str, int, Settings]) -> RunRecord:
    """One run of the real system (``fom.app.run``) with ``learner``, ``planner`` and ``seed``."""
    from fom.app import run
    from fom.config import RunConfig

    learner, planner, seed, s = task
    record = RunRecord(learner, planner, seed, s.ticks)
    config = RunConfig(
        ticks=s.ticks,
        tips=s.tips,
        seed=seed,
        world=s.world,  # type: ignore[arg-type]
        learner=learner,  # type: ignore[arg-type]
        planner=planner,  # type: ignore[arg-type]
        walkers=s.walkers,
        horizon=s.horizon,
        quiet=True,
    )
    cpu, wall = time.process_time(), time.perf_counter()
    result = run(config, listeners=(_Collector(record),))
    record.cpu_s = time.process_time() - cpu
    record.wall_s = time.perf_counter() - wall
    summary = result.summary
    record.accuracy = summary.accuracy
    record.deaths = summary.deaths
    record.decisions = summary.decisions
    record.compute_flops = summary.compute_flops
    record.failures = result.failures
    record.p50_ms = summary.latency_ms.p50
    record.p99_ms = summary.latency_ms.p99
    return record


def _warm(_: int) -> int:
    """Import the system in a pool worker before the measured runs."""
    import fom.app  # noqa: F401

    return os.getpid()


def run_matrix(s: Settings) -> dict[tuple[str, str], list[RunRecord]]:
    """Every (learner, planner) over every seed, on ``s.jobs`` worker processes."""
    tasks = [(lr, pl, seed, s) for lr in LEARNERS for pl in LEARNER_PLANNERS for seed in s.seeds]
    tasks += [("fom", "mc", seed, s) for seed in s.seeds]
    tasks.sort(key=lambda t: (t[1] == "graph", t[0], t[2]))  # slow runs first: better packing
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=s.jobs, mp_context=ctx) as pool:
        list(pool.map(_warm, range(s.jobs)))
        records = list(pool.map(run_one, tasks))
    out: dict[tuple[str, str], list[RunRecord]] = {}
    for r in sorted(records, key=lambda r: (r.learner, r.planner, r.seed)):
        out.setdefault((r.learner, r.planner), []).append(r)
    return out


# ----------------------------------------------------------------------------- phase 2: compute


class _TimedLearner:
    """Wraps a learner; adds the CPU time of its ``act`` and ``update`` calls to a counter."""

    def __init__(self, inner: Any, clock: list[int]) -> None:
        self.inner = inner
        self.clock = clock

    @property
    def compute_flops(self) -> int:
        """The wrapped learner's count."""
        return int(self.inner.compute_flops)

    def act(self, observation: Any) -> Any:
        """The wrapped ``act``, timed; counts one decision."""
        t0 = time.process_time_ns()
        decision = self.inner.act(observation)
        self.clock[0] += time.process_time_ns() - t0
        self.clock[1] += 1
        return decision

    def update(self, outcome: Any, report: Any) -> None:
        """The wrapped ``update``, timed."""
        t0 = time.process_time_ns()
        self.inner.update(outcome, report)
        self.clock[0] += time.process_time_ns() - t0

    def delta(self) -> np.ndarray:
        """The wrapped ``delta`` (once per encounter, not per decision; untimed)."""
        return np.asarray(self.inner.delta())


@dataclass(frozen=True, slots=True)
class ComputeRecord:
    """CPU time of a learner's act + update per decision in the pure encounter loop."""

    learner: str
    seed: int
    decisions: int
    cpu_ns: int
    flops: int
    accuracy: float

    @property
    def us_per_decision(self) -> float:
        """Microseconds of CPU per decision."""
        return self.cpu_ns / self.decisions / 1e3


def measure_compute(s: Settings) -> list[ComputeRecord]:
    """Time every learner's act + update in ``fom.simulate.run_encounters`` (this process)."""
    import fom.simulate as simulate
    from fom.engines import make_engine
    from fom.learners.base import make_learner

    def play(kind: str, seed: int, encounters: int) -> ComputeRecord:
        clock = [0, 0]

        def timed_factory(*args: Any, **kwargs: Any) -> _TimedLearner:
            return _TimedLearner(make_learner(*args, **kwargs), clock)

        with mock.patch.object(simulate, "make_learner", timed_factory):
            stats = simulate.run_encounters(
                make_engine(s.world, seed), kind, encounters, seed, concurrency=s.tips
            )
        return ComputeRecord(kind, seed, clock[1], clock[0], stats.compute_flops, stats.accuracy)

    for kind in LEARNERS:  # warm-up: first calls into numpy and the learners
        play(kind, 10_000, 10)
    return [play(kind, seed, s.compute_encounters) for seed in s.compute_seeds for kind in LEARNERS]


# ----------------------------------------------------------------------------- phase 3: latency


@dataclass(frozen=True, slots=True)
class LatencyRow:
    """Decision latency of one run with ``tips`` concurrent TIPs."""

    planner: str
    tips: int
    ticks: int
    max_active_tips: int
    decisions: int
    p50_ms: float
    p99_ms: float
    decisions_per_s: float
    wall_s: float


def latency_sweep(task: tuple[str, Settings]) -> list[LatencyRow]:
    """Every TIP count of the sweep for one planner, in this (fresh) process."""
    from fom.app import run
    from fom.config import RunConfig

    planner, s = task

    def config(tips: int, ticks: int) -> RunConfig:
        return RunConfig(
            ticks=ticks,
            tips=tips,
            seed=s.latency_seed,
            world="enhanced",
            planner=planner,  # type: ignore[arg-type]
            walkers=s.walkers,
            horizon=s.horizon,
            quiet=True,
        )

    run(config(1, 10))  # warm-up: imports, first numpy calls
    rows = []
    for tips in s.latency_tips:
        ticks = s.latency_ticks(tips)
        started = time.perf_counter()
        summary = run(config(tips, ticks)).summary
        rows.append(
            LatencyRow(
                planner=planner,
                tips=tips,
                ticks=ticks,
                max_active_tips=summary.max_active_tips,
                decisions=summary.decisions,
                p50_ms=summary.latency_ms.p50,
                p99_ms=summary.latency_ms.p99,
                decisions_per_s=summary.decisions_per_s,
                wall_s=time.perf_counter() - started,
            )
        )
    return rows


def measure_latency(s: Settings) -> dict[str, list[LatencyRow]]:
    """The sweep for the graph and FMC planners, one after the other, each in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    out = {}
    for planner in ("graph", "fmc"):
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            out[planner] = pool.submit(latency_sweep, (planner, s)).result()
    return out


# ----------------------------------------------------------------------------- analysis


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
        return [r.end_tick[n - 1] + 1 for r in self.runs if r.encounters >= n]


def _window(shots: np.ndarray, hits: np.ndarray, width: int) -> np.ndarray:
    """Pooled accuracy over the last ``width`` encounters (fewer at the start), NaN if no shots."""
    cs, ch = np.concatenate([[0], np.cumsum(shots)]), np.concatenate([[0], np.cumsum(hits)])
    end = np.arange(1, len(shots) + 1)
    start = np.maximum(end - width, 0)
    s, h = cs[end] - cs[start], ch[end] - ch[start]
    return np.where(s > 0, h / np.maximum(s, 1), np.nan)


def analyse(runs: dict[tuple[str, str], list[RunRecord]], s: Settings) -> dict[str, Group]:
    """Build the per-(learner, planner) groups, keyed ``learner/planner``."""
    groups: dict[str, Group] = {}
    for (learner, planner), records in runs.items():
        k = min(r.encounters for r in records)
        g = Group(learner, planner, records, k=k, at=min(s.at, k))
        curves, cums = [], []
        for r in records:
            shots = np.asarray(r.shots[:k], dtype=np.float64)
            hits = np.asarray(r.hits[:k], dtype=np.float64)
            curves.append(_window(shots, hits, s.window))
            cums.append(_window(shots, hits, k))
        g.curve, g.cumulative = np.array(curves), np.array(cums)
        groups[f"{learner}/{planner}"] = g
    return groups


def paired(a: Group, b: Group, fn: Callable[[RunRecord, RunRecord], float]) -> Stat:
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


def relative(fn: Callable[[RunRecord], float]) -> Callable[[RunRecord, RunRecord], float]:
    """Per-seed relative change of ``fn``: a / b - 1."""
    return lambda a, b: fn(a) / fn(b) - 1.0 if fn(b) else math.nan


# ----------------------------------------------------------------------------- formatting

Fmt = Callable[[float], str]


def f_pct(x: float) -> str:
    """A fraction as a percentage."""
    return f"{100 * x:.1f}%"


def f_spct(x: float) -> str:
    """A relative change as a signed percentage."""
    return f"{100 * x:+.1f}%"


def f_pts(x: float) -> str:
    """A difference of fractions in percentage points."""
    return f"{100 * x:+.1f} pts"


def f_ratio(x: float) -> str:
    """A ratio."""
    return f"{x:.3g}x"


def f_ms(x: float) -> str:
    """Milliseconds."""
    return f"{x:.3g} ms"


def fixed(digits: int, signed: bool = False) -> Fmt:
    """A plain number with ``digits`` decimals."""
    sign = "+" if signed else ""
    return lambda x: f"{x:{sign}.{digits}f}"


def ci(st: Stat, fmt: Fmt) -> str:
    """``mean [lo, hi]``, or n/a when nothing was measured."""
    if st.n == 0 or not math.isfinite(st.mean):
        return "n/a"
    return f"{fmt(st.mean)} [{fmt(st.lo)}, {fmt(st.hi)}]"


def verdict(paper: float, st: Stat) -> str:
    """Agreement when the paper's figure lies inside our 95% interval."""
    if st.n == 0 or not math.isfinite(st.mean):
        return "n/a"
    if st.contains(paper):
        return "agrees"
    return "disagrees: ours higher" if st.mean > paper else "disagrees: ours lower"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


# ----------------------------------------------------------------------------- plots


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A headless matplotlib Figure (Agg canvas, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig


def plot_curves(groups: dict[str, Group], s: Settings, path: Path) -> None:
    """Accuracy learning curves (moving window) per learner, one panel per planner."""
    fig, _ = _figure(12, 4.6)
    axes = fig.subplots(1, len(LEARNER_PLANNERS), sharey=True)
    for ax, planner in zip(axes, LEARNER_PLANNERS, strict=True):
        for learner in LEARNERS:
            g = groups[f"{learner}/{planner}"]
            x = np.arange(1, g.k + 1)
            mean, lo, hi = curve_ci(g.curve)
            ax.plot(x, mean, color=COLORS[learner], lw=2, label=f"{learner} (ours)")
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
            ax.fill_between(x, lo, hi, color=COLORS[learner], alpha=0.2, lw=0)
        for key, learner in (
            ("fom_accuracy", "fom"),
            ("static_accuracy", "static"),
            ("monolithic_accuracy", "monolithic"),
        ):
            err = PAPER["fom_accuracy_pm"] if learner == "fom" else None
            ax.errorbar(
                [PAPER["encounters"]],
                [PAPER[key]],
                yerr=err,
                fmt="*",
                ms=14,
                capsize=5,
                color=COLORS[learner],
                mec="black",
                mew=0.8,
                label=f"{learner} (paper)",
            )
        ax.axvline(s.at, color="black", lw=0.8, ls=":")
        ax.set_title(f"{planner} planner — dummy world, {len(g.runs)} seeds, 95% bands")
        ax.set_xlabel("encounter (in order of completion)")
        ax.grid(alpha=0.3)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlim(0, max(g.k, int(PAPER["encounters"])) + 5)
    axes[0].set_ylabel(f"accuracy over the last {s.window} encounters")
    axes[0].legend(loc="lower right", fontsize=8, ncol=2)
    fig.savefig(path)


def _bars(
    ax: Any,
    labels: Sequence[str],
    stats: Sequence[Stat],
    colors: Sequence[str],
    scale: float,
    log: bool = False,
) -> None:
    """Bars of means with 95% error bars, the value written above each (log: zeros as 0)."""
    x = np.arange(len(labels))
    means = np.array([st.mean for st in stats]) * scale
    err = np.array([[st.mean - st.lo, st.hi - st.mean] for st in stats]).T * scale
    err = np.maximum(err, 0.0)
    ax.bar(x, means, yerr=err, color=colors, capsize=5, alpha=0.85)
    ax.set_xticks(x, labels, fontsize=8)
    top = float(np.nanmax(means + err[1])) if len(means) else 1.0
    for xi, m, e in zip(x, means, err[1], strict=True):
        text = f"{m:.3g}" if m > 0 else "0"
        y = max(m + e, 1.0) * 1.3 if log else m + e + 0.02 * top
        ax.text(xi, y, text, ha="center", va="bottom", fontsize=8)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(0.5, top * 20)
    else:
        ax.set_ylim(0, top * 1.18)
    ax.grid(axis="y", alpha=0.3)


def plot_exposure(groups: dict[str, Group], path: Path) -> None:
    """Mean exposure and uncovered fraction per learner and planner; change vs static."""
    fig, _ = _figure(13, 4.4)
    axes = fig.subplots(1, 3)
    keys = [f"{lr}/{pl}" for pl in LEARNER_PLANNERS for lr in LEARNERS]
    labels = [k.replace("/", "\n") for k in keys]
    colors = [COLORS[k.split("/")[0]] for k in keys]
    _bars(axes[0], labels, [groups[k].per_seed(lambda r: r.exposure) for k in keys], colors, 1)
    axes[0].set_title("mean exposure (1 - cover) per TIP tick")
    _bars(axes[1], labels, [groups[k].per_seed(lambda r: r.uncovered) for k in keys], colors, 1)
    axes[1].set_title(f"fraction of TIP ticks on uncovered nodes (exposure > {UNCOVERED})")
    changes = []
    names = []
    for pl in LEARNER_PLANNERS:
        for lr in ("fom", "monolithic"):
            changes.append(
                paired(groups[f"{lr}/{pl}"], groups[f"static/{pl}"], relative(_uncovered))
            )
            names.append(f"{lr}\n{pl}")
    x = np.arange(len(names))
    means = np.array([c.mean for c in changes]) * 100
    err = np.array([[c.mean - c.lo, c.hi - c.mean] for c in changes]).T * 100
    axes[2].bar(x, means, yerr=err, capsize=5, color=[COLORS[n.split()[0]] for n in names])
    for xi, m, lo, hi in zip(x, means, err[0], err[1], strict=True):
        y, va = (m + hi + 1.0, "bottom") if m >= 0 else (m - lo - 1.0, "top")
        axes[2].text(xi, y, f"{m:+.1f}%", ha="center", va=va, fontsize=8)
    axes[2].margins(y=0.12)
    axes[2].axhline(
        PAPER["exposure_change"] * 100, color="black", ls="--", lw=1, label="paper: -27%"
    )
    axes[2].axhline(0, color="black", lw=0.6)
    axes[2].set_xticks(x, names, fontsize=8)
    axes[2].set_ylabel("% change vs static (same planner)")
    axes[2].set_title("uncovered-tick fraction, change vs static")
    axes[2].legend(fontsize=8)
    axes[2].grid(axis="y", alpha=0.3)
    fig.savefig(path)


def _uncovered(r: RunRecord) -> float:
    return r.uncovered


def _exposure(r: RunRecord) -> float:
    return r.exposure


def plot_planners(groups: dict[str, Group], path: Path) -> None:
    """Graph, FMC and MC (fom learner): accuracy, damage taken per encounter, exposure."""
    fig, _ = _figure(12, 4.0)
    axes = fig.subplots(1, 3)
    gs = [groups[f"fom/{p}"] for p in PLANNERS]
    colors = [COLORS[p] for p in PLANNERS]
    _bars(axes[0], PLANNERS, [g.per_seed(lambda r: r.accuracy) for g in gs], colors, 100)
    axes[0].set_title("accuracy over the run (%)")
    _bars(axes[1], PLANNERS, [g.per_seed(lambda r: r.damage_per_encounter) for g in gs], colors, 1)
    axes[1].set_title("damage taken per encounter")
    _bars(axes[2], PLANNERS, [g.per_seed(_exposure) for g in gs], colors, 1)
    axes[2].set_title("mean exposure per TIP tick")
    fig.suptitle("planners compared (fom learner, dummy world; MC at FMC's walker-step budget)")
    fig.savefig(path)


def plot_compute(compute: list[ComputeRecord], groups: dict[str, Group], path: Path) -> None:
    """Learner CPU per decision (pure loop), whole-system CPU per decision, flops per decision."""
    fig, _ = _figure(12, 4.0)
    axes = fig.subplots(1, 3)
    colors = [COLORS[lr] for lr in LEARNERS]
    learner_cpu = [
        mean_ci(c.us_per_decision for c in compute if c.learner == lr) for lr in LEARNERS
    ]
    _bars(axes[0], LEARNERS, learner_cpu, colors, 1)
    axes[0].set_title("learner act+update: CPU µs per decision\n(pure loop, fom.simulate)")
    system = [
        groups[f"{lr}/graph"].per_seed(lambda r: r.cpu_s / r.decisions * 1e6) for lr in LEARNERS
    ]
    _bars(axes[1], LEARNERS, system, colors, 1)
    axes[1].set_title("whole system: CPU µs per decision\n(fom.app.run, graph planner)")
    flops = [
        groups[f"{lr}/graph"].per_seed(lambda r: r.compute_flops / r.decisions) for lr in LEARNERS
    ]
    _bars(axes[2], LEARNERS, flops, colors, 1, log=True)
    axes[2].set_title("learner flops per decision (counted)\nlog scale; static = 0")
    fig.savefig(path)


def plot_latency(latency: dict[str, list[LatencyRow]], path: Path) -> None:
    """p50 and p99 decision latency against concurrent TIPs, per planner (log-log)."""
    fig, _ = _figure(8.5, 5.0)
    ax = fig.subplots()
    for planner, rows in latency.items():
        x = [r.tips for r in rows]
        ax.plot(x, [r.p50_ms for r in rows], "o-", color=COLORS[planner], label=f"{planner} p50")
        ax.plot(
            x,
            [r.p99_ms for r in rows],
            "s--",
            color=COLORS[planner],
            alpha=0.7,
            label=f"{planner} p99",
        )
    ax.plot(
        [1, PAPER["latency_tips_max"]],
        [PAPER["latency_p50_ms"]] * 2,
        "k:",
        lw=2,
        label="paper: p50 1.6 ms, up to 64 TIPs",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("concurrent TIPs (enhanced world)")
    ax.set_ylabel("decision latency (ms): observation to action")
    ax.set_title("decision latency vs concurrent TIPs")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.savefig(path)


# ----------------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Claim:
    """One row of a 'paper vs ours' table: the paper's figure and ours per planner."""

    name: str
    paper_text: str
    paper: float
    fmt: Fmt
    graph: Stat
    fmc: Stat | None = None

    def row(self) -> tuple[str, ...]:
        """The table cells."""
        fmc = ("-", "-")
        if self.fmc is not None:
            fmc = (ci(self.fmc, self.fmt), verdict(self.paper, self.fmc))
        ours = ci(self.graph, self.fmt)
        return (self.name, self.paper_text, ours, verdict(self.paper, self.graph), *fmc)

    def sentence(self) -> str:
        """One plain sentence about the graph-planner figure."""
        ours = ci(self.graph, self.fmt)
        if verdict(self.paper, self.graph) == "agrees":
            return f"{self.name}: the paper's {self.paper_text} lies inside ours, {ours}."
        side = "above" if self.graph.mean > self.paper else "below"
        return f"{self.name}: ours, {ours}, is {side} the paper's {self.paper_text}."


CLAIM_HEADER = (
    "Claim",
    "Paper",
    "Ours: graph planner",
    "Verdict (graph)",
    "Ours: FMC planner",
    "Verdict (FMC)",
)


def claims_block(claims: Sequence[Claim]) -> list[str]:
    """The 'paper vs ours' table and the plain statement generated from it."""
    graph = [verdict(c.paper, c.graph) for c in claims]
    fmc = [verdict(c.paper, c.fmc) for c in claims if c.fmc is not None]
    agree = [c for c, v in zip(claims, graph, strict=True) if v == "agrees"]
    disagree = [c for c, v in zip(claims, graph, strict=True) if v.startswith("disagrees")]
    lines = [*table(CLAIM_HEADER, (c.row() for c in claims)), ""]
    lines.append(
        f"With the graph planner (the paper's own flank-biased Dijkstra), {len(agree)} of these "
        f"{len(claims)} figures {'agrees' if len(agree) == 1 else 'agree'} with the paper and "
        f"{len(disagree)} {'does' if len(disagree) == 1 else 'do'} not"
        + (
            f"; with the product's FMC planner, {fmc.count('agrees')} of {len(fmc)} "
            + ("agrees" if fmc.count("agrees") == 1 else "agree")
            if fmc
            else ""
        )
        + ". A figure agrees when the paper's value lies inside our 95% interval."
    )
    for title, group in (("Where we agree:", agree), ("Where we do not:", disagree)):
        if group:
            lines += ["", title, *(f"- {c.sentence()}" for c in group)]
    return lines


def _flops(r: RunRecord) -> float:
    """Counted learner flops per decision of a run."""
    return r.compute_flops / r.decisions if r.decisions else math.nan


def _ratio(fn: Callable[[RunRecord], float]) -> Callable[[RunRecord, RunRecord], float]:
    """Per-seed ratio of ``fn``: a / b."""
    return lambda a, b: fn(a) / fn(b) if fn(b) else math.nan


def _accuracy(r: RunRecord) -> float:
    return r.accuracy


def _damage(r: RunRecord) -> float:
    return r.damage_per_encounter


def _encounters(r: RunRecord) -> float:
    return float(r.encounters)


def _seeds(seeds: Sequence[int]) -> str:
    """A compact seed list."""
    if len(seeds) > 1 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _ticks_to(x: Group, n: int) -> str:
    """Ticks until the n-th encounter finished: mean (min-max) over the runs."""
    ticks = x.ticks_to(n)
    if not ticks:
        return "n/a"
    return f"{np.mean(ticks):.1f} ({min(ticks)}-{max(ticks)})"


def _setup_section(s: Settings, at: int, command: str) -> list[str]:
    """How the figures were made."""
    short = at < PAPER["encounters"]
    return [
        "# FOM: the paper's claims, measured",
        "",
        "Generated by `scripts/experiment.py`: every number below is written by the script. "
        "Do not edit by hand; rerun it.",
        "",
        "## Setup",
        "",
        f"- Command: `{command}`",
        f"- Seeds: {_seeds(s.seeds)} ({len(s.seeds)} seeds) for every learner and planner; "
        f"{_seeds(s.compute_seeds)} for the learner CPU-time measurement.",
        f"- World: `{s.world}`, the paper's setting (9 nodes, 12 edges, shotgun and rocket "
        f"enemies, one every other tick); {s.ticks} ticks per run (the paper: 300 steps); "
        f"`--tips {s.tips}` (at most {s.tips} encounters at once, ULP merge rate 1/{s.tips}); "
        "the real system (`fom.app.run`, every actor), results read from its events.",
        f"- Planners: `graph` (flank-biased Dijkstra: the paper's planner); `fmc` (the "
        f"product's default, Fractal Monte Carlo, {s.walkers} walkers x horizon {s.horizon}); "
        f"`mc` (uniform random shooting at the same {s.walkers} x {s.horizon} walker-step "
        "budget, in the same walker pool; fom learner only).",
        f"- Accuracy curves: hits / shots pooled over the last {s.window} finished encounters, "
        "per seed; mean and 95% t-interval across seeds. Accuracy 'after "
        f"{at} encounters' is that window ending at encounter {at}"
        + (" (not every run reached the paper's 120)" if short else "")
        + ".",
        f"- Machine: {os.cpu_count()} logical CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}."
        + (
            " **A --quick smoke run: few seeds and ticks, not the published figures.**"
            if s.quick
            else ""
        ),
        "",
    ]


def _paper_section(s: Settings, g: dict[str, Group], at: int) -> list[str]:
    """The paper's outcome figures beside ours (deterministic ones; timing comes later)."""
    fg, sg, mg = g["fom/graph"], g["static/graph"], g["monolithic/graph"]
    ff, sf, mf = g["fom/fmc"], g["static/fmc"], g["monolithic/fmc"]
    claims = [
        Claim(f"FOM accuracy after {at} encounters", "81% +- 2.3", PAPER["fom_accuracy"],
              f_pct, fg.window_at, ff.window_at),
        Claim(f"Static aim: accuracy after {at}", "59%", PAPER["static_accuracy"], f_pct,
              sg.window_at, sf.window_at),
        Claim(f"Monolithic Q-network: accuracy after {at}", "76%",
              PAPER["monolithic_accuracy"], f_pct, mg.window_at, mf.window_at),
        Claim("FOM minus static aim", "+22 pts (81 - 59)",
              PAPER["fom_accuracy"] - PAPER["static_accuracy"], f_pts,
              paired_window(fg, sg), paired_window(ff, sf)),
        Claim("FOM minus monolithic", "+5 pts (81 - 76)",
              PAPER["fom_accuracy"] - PAPER["monolithic_accuracy"], f_pts,
              paired_window(fg, mg), paired_window(ff, mf)),
        Claim("Exposure change, FOM vs static (ticks on uncovered nodes)", "-27%",
              PAPER["exposure_change"], f_spct, paired(fg, sg, relative(_uncovered)),
              paired(ff, sf, relative(_uncovered))),
        Claim("Exposure change, FOM vs static (mean exposure)", "-27%",
              PAPER["exposure_change"], f_spct, paired(fg, sg, relative(_exposure)),
              paired(ff, sf, relative(_exposure))),
        Claim("Compute, monolithic / FOM (counted flops per decision)", "10x",
              PAPER["compute_ratio"], f_ratio, paired(mg, fg, _ratio(_flops)),
              paired(mf, ff, _ratio(_flops))),
    ]  # fmt: skip
    return [
        "## Paper vs ours",
        "",
        "Ours: mean [95% interval] across seeds. The paper's agent plans with flank-biased "
        "Dijkstra, so the graph planner is the like-for-like comparison; the FMC columns show "
        "the product's default planner. The CPU-time and latency claims are in the timing "
        "section at the end (clock readings are not reproducible bit for bit).",
        "",
        *claims_block(claims),
        "",
        f"Encounters per {s.ticks}-tick run (the paper: about 120 in 300 steps): "
        f"{ci(fg.per_seed(_encounters), fixed(1))} (fom, graph); ticks until the {at}th "
        f"encounter finished: {_ticks_to(fg, at)} (mean, min-max).",
        "",
    ]


def _curves_section(s: Settings, g: dict[str, Group], at: int) -> list[str]:
    """Learning curves and the accuracy table."""
    header = (
        "Learner",
        "Planner",
        f"After {at} (last {s.window})",
        f"Cumulative 1..{at}",
        f"Whole run ({s.ticks} ticks)",
        "Encounters per run",
        f"Ticks to encounter {at}: mean (min-max)",
    )
    rows = [
        (
            x.learner,
            x.planner,
            ci(x.window_at, f_pct),
            ci(x.cumulative_at, f_pct),
            ci(x.per_seed(_accuracy), f_pct),
            ci(x.per_seed(_encounters), fixed(1)),
            _ticks_to(x, at),
        )
        for x in (g[f"{lr}/{pl}"] for pl in LEARNER_PLANNERS for lr in LEARNERS)
    ]
    return [
        "## Accuracy: learning curves",
        "",
        "![learning curves](learning_curves.png)",
        "",
        f"Accuracy over the last {s.window} encounters, in order of completion, mean and 95% "
        "band across seeds; stars: the paper's figures at 120 encounters.",
        "",
        *table(header, rows),
        "",
    ]


def _exposure_section(g: dict[str, Group]) -> list[str]:
    """Path exposure per learner and planner, and its change against static."""
    rows = []
    for pl in LEARNER_PLANNERS:
        base = g[f"static/{pl}"]
        for lr in LEARNERS:
            x = g[f"{lr}/{pl}"]
            mean_change = ci(paired(x, base, relative(_exposure)), f_spct)
            unc_change = ci(paired(x, base, relative(_uncovered)), f_spct)
            if lr == "static":
                mean_change = unc_change = "-"
            rows.append(
                (
                    lr,
                    pl,
                    ci(x.per_seed(_exposure), fixed(3)),
                    ci(x.per_seed(_uncovered), f_pct),
                    mean_change,
                    unc_change,
                )
            )
    product = paired(g["fom/fmc"], g["static/graph"], relative(_exposure))
    product_unc = paired(g["fom/fmc"], g["static/graph"], relative(_uncovered))
    header = (
        "Learner",
        "Planner",
        "Mean exposure",
        "Ticks on uncovered nodes",
        "Mean exposure vs static",
        "Uncovered ticks vs static",
    )
    return [
        "## Path exposure",
        "",
        "![exposure](exposure.png)",
        "",
        "A node's exposure is 1 - cover. Over every tick a TIP played: the mean exposure of "
        "the node it stood on after its move, and the paper's 'fraction of steps in uncovered "
        f"tiles' (nodes with exposure > {UNCOVERED}). Changes are per seed, against the static "
        "learner with the same planner and seed.",
        "",
        *table(header, rows),
        "",
        "The product against the paper's static bot (fom learner with the FMC planner, "
        f"against the static learner with the graph planner): mean exposure "
        f"{ci(product, f_spct)}, ticks on uncovered nodes {ci(product_unc, f_spct)}.",
        "",
    ]


def _planner_section(g: dict[str, Group], at: int) -> list[str]:
    """Graph, FMC and MC compared on accuracy, damage and exposure."""
    header = (
        "Planner",
        "Accuracy (run)",
        f"Accuracy after {at}",
        "Damage taken per encounter",
        "Deaths per run",
        "Mean exposure",
        "Uncovered ticks",
        "Walker-steps per plan",
    )
    rows = []
    for pl in PLANNERS:
        x = g[f"fom/{pl}"]
        steps = "-"
        if x.runs[0].plan_requests:
            steps = ci(x.per_seed(lambda r: r.plan_samples / r.plan_requests), fixed(1))
        rows.append(
            (
                pl,
                ci(x.per_seed(_accuracy), f_pct),
                ci(x.window_at, f_pct),
                ci(x.per_seed(_damage), fixed(1)),
                ci(x.per_seed(lambda r: r.deaths), fixed(2)),
                ci(x.per_seed(_exposure), fixed(3)),
                ci(x.per_seed(_uncovered), f_pct),
                steps,
            )
        )
    fmc, mc, graph = g["fom/fmc"], g["fom/mc"], g["fom/graph"]

    def diff(fn: Callable[[RunRecord], float]) -> Callable[[RunRecord, RunRecord], float]:
        return lambda a, b: fn(a) - fn(b)

    return [
        "## Planners compared",
        "",
        "![planners](planners.png)",
        "",
        "The fom learner with each planner, same seeds. `mc` is uniform random shooting "
        "(`fom.fmc.plan_batch_mc`): the same walkers x horizon walker-step budget as FMC; its "
        "decision is the first action of the best rollout (rollouts stop when the bot dies, "
        "so it may spend a little less).",
        "",
        *table(header, rows),
        "",
        "Per-seed differences: accuracy FMC - MC "
        f"{ci(paired(fmc, mc, diff(_accuracy)), f_pts)}, FMC - graph "
        f"{ci(paired(fmc, graph, diff(_accuracy)), f_pts)}; damage taken per encounter "
        f"FMC - MC {ci(paired(fmc, mc, diff(_damage)), fixed(1, True))}, FMC - graph "
        f"{ci(paired(fmc, graph, diff(_damage)), fixed(1, True))}; mean exposure FMC - MC "
        f"{ci(paired(fmc, mc, diff(_exposure)), fixed(3, True))}.",
        "",
        *_tradeoff(fmc, graph),
    ]


def _tradeoff(fmc: Group, graph: Group) -> list[str]:
    """A plain sentence on what FMC trades against the graph planner, read off the intervals."""
    acc = paired(fmc, graph, lambda a, b: a.accuracy - b.accuracy)
    exp = paired(fmc, graph, lambda a, b: a.exposure - b.exposure)
    if acc.n == 0 or exp.n == 0:
        return []
    acc_word = "lower" if acc.hi < 0 else "higher" if acc.lo > 0 else "no different"
    exp_word = "lower" if exp.hi < 0 else "higher" if exp.lo > 0 else "no different"
    return [
        f"In short: against the graph planner, FMC's accuracy is {acc_word} and its exposure "
        f"{exp_word} (95% intervals of the per-seed differences).",
        "",
    ]


def _flops_section(s: Settings, g: dict[str, Group]) -> list[str]:
    """Counted learner operations per decision (deterministic)."""
    rows = [
        (
            lr,
            ci(g[f"{lr}/graph"].per_seed(_flops), fixed(1)),
            ci(g[f"{lr}/fmc"].per_seed(_flops), fixed(1)),
        )
        for lr in LEARNERS
    ]
    return [
        "## Compute per decision: counted operations",
        "",
        "Each learner counts its floating-point operations (`compute_flops`: the FOM rule's "
        "additions and multiplications; every multiply-add of the monolithic network's forward "
        "and backward passes). Per decision = the run's total over its decisions (a decision "
        "is one TIP tick: act, plan, shoot, update). Planning is not included: it is the same "
        f"for every learner with a given planner (FMC: {s.walkers * s.horizon} walker-steps of "
        "the encounter simulator per decision). CPU times are in the timing section.",
        "",
        *table(("Learner", "Flops per decision (graph)", "Flops per decision (FMC)"), rows),
        "",
    ]


def _median_range(values: Sequence[float], fmt: Fmt) -> str:
    """``median (min-max)``."""
    return f"{fmt(float(np.median(values)))} ({fmt(min(values))}-{fmt(max(values))})"


def _timing_section(
    s: Settings,
    g: dict[str, Group],
    compute: list[ComputeRecord],
    latency: dict[str, list[LatencyRow]],
    wall_s: float,
    phase_s: dict[str, float],
) -> list[str]:
    """Everything read from a clock: differs between runs and machines."""
    by = {(c.learner, c.seed): c for c in compute}
    seeds = sorted({c.seed for c in compute})

    def us(lr: str, seed: int) -> float:
        return by[(lr, seed)].us_per_decision

    def net(lr: str, seed: int) -> float:
        return us(lr, seed) - us("static", seed)

    raw = {lr: mean_ci(us(lr, sd) for sd in seeds) for lr in LEARNERS}
    ratio_raw = mean_ci(us("monolithic", sd) / us("fom", sd) for sd in seeds)
    ratio_net = mean_ci(
        net("monolithic", sd) / net("fom", sd) if net("fom", sd) > 0 else math.nan for sd in seeds
    )
    system = {k: x.per_seed(lambda r: r.cpu_s / r.decisions * 1e6) for k, x in g.items()}
    sys_ratio = {
        pl: paired(g[f"monolithic/{pl}"], g[f"fom/{pl}"], _ratio(lambda r: r.cpu_s / r.decisions))
        for pl in LEARNER_PLANNERS
    }
    p50 = {pl: g[f"fom/{pl}"].per_seed(lambda r: r.p50_ms) for pl in PLANNERS}
    claims = [
        Claim("Compute, monolithic / FOM (learner CPU per decision, net of timer floor)",
              "10x", PAPER["compute_ratio"], f_ratio, ratio_net),
        Claim("Compute, monolithic / FOM (whole-system CPU per decision)", "10x",
              PAPER["compute_ratio"], f_ratio, sys_ratio["graph"], sys_ratio["fmc"]),
        Claim(f"Median decision latency ({s.world} world, {s.tips} TIPs)", "1.6 ms",
              PAPER["latency_p50_ms"], f_ms, p50["graph"], p50["fmc"]),
    ]  # fmt: skip
    upto = int(PAPER["latency_tips_max"])
    independence = []
    for pl, rows in latency.items():
        within = [r for r in rows if r.tips <= upto]
        growth = max(r.p50_ms for r in within) / within[0].p50_ms
        spread = max(r.p50_ms for r in within) / min(r.p50_ms for r in within)
        word = "agrees" if growth <= INDEPENDENCE_FACTOR else "disagrees: it grows"
        independence.append(
            f"- {pl} planner: largest p50 over 1..{upto} TIPs / p50 at 1 TIP = {growth:.2f} "
            f"({word}); largest / smallest p50 over 1..{upto} = {spread:.2f}; p50 at "
            f"{rows[-1].tips} TIPs / at 1 TIP = {rows[-1].p50_ms / rows[0].p50_ms:.2f}."
        )
    cpu_rows = [
        (
            lr,
            ci(raw[lr], fixed(2)),
            ci(system[f"{lr}/graph"], fixed(0)),
            ci(system[f"{lr}/fmc"], fixed(0)),
        )
        for lr in LEARNERS
    ]
    lat_rows = [
        (
            str(a.tips),
            str(a.ticks),
            f"{a.p50_ms:.3f}",
            f"{a.p99_ms:.3f}",
            f"{a.decisions_per_s:,.0f}",
            f"{b.p50_ms:.3f}",
            f"{b.p99_ms:.3f}",
            f"{b.decisions_per_s:,.0f}",
            f"{a.max_active_tips} / {b.max_active_tips}",
        )
        for a, b in zip(latency["graph"], latency["fmc"], strict=True)
    ]
    at_setting = "; ".join(
        f"{pl}: p50 {_median_range([r.p50_ms for r in g[f'fom/{pl}'].runs], fixed(3))}, "
        f"p99 {_median_range([r.p99_ms for r in g[f'fom/{pl}'].runs], fixed(3))}"
        for pl in PLANNERS
    )
    return [
        TIMING_BEGIN,
        "## Timing: CPU time and latency (clock readings; they vary between runs)",
        "",
        "Everything in this section is read from a clock; everything above it is "
        f"deterministic given the seeds. The section-1 runs ran {s.jobs} at a time (one per "
        "worker process); the latency sweeps ran alone, one planner after the other, each in "
        "a fresh process.",
        "",
        "### Paper vs ours (timing)",
        "",
        *claims_block(claims),
        "",
        f"Latency 'independent of the number of concurrent TIPs up to {upto}': we say it "
        f"agrees when no p50 for 2..{upto} TIPs exceeds the p50 at 1 TIP by more than a "
        f"factor {INDEPENDENCE_FACTOR} (the claim is that latency does not grow with "
        "concurrency).",
        "",
        *independence,
        "",
        "### Compute per decision (CPU time)",
        "",
        "![compute](compute.png)",
        "",
        "Method. (a) Learner only: `fom.simulate.run_encounters` (the pure synchronous "
        f"encounter loop, no actors) plays {s.compute_encounters} encounters of the "
        f"`{s.world}` world, up to {s.tips} at once, per learner and seed; "
        "`time.process_time_ns()` is read around every `act` and `update` call (a timing "
        "wrapper put in place of the loop's learner factory with `unittest.mock.patch`); CPU "
        "ns over decisions. The static learner does no work, so its figure is the timer's "
        "own floor; the net ratio subtracts it (same seed) from both learners. (b) Whole "
        "system: `time.process_time()` around each section-1 `fom.app.run` (every actor, the "
        "bus, the world, the planner) over the run's decisions.",
        "",
        *table(
            (
                "Learner",
                "Learner CPU us per decision (raw)",
                "Whole system, graph: CPU us per decision",
                "Whole system, FMC: CPU us per decision",
            ),
            cpu_rows,
        ),
        "",
        f"Monolithic / FOM learner CPU per decision: raw (timer floor included) "
        f"{ci(ratio_raw, f_ratio)}, net of the floor {ci(ratio_net, f_ratio)}.",
        "",
        "### Decision latency against concurrent TIPs",
        "",
        "![latency](latency.png)",
        "",
        "Latency: a TIP's observation to its action (the learner's `act` plus planning; with "
        "FMC, the round trip through the walker pool, which plans every TIP of a tick in one "
        "batch). The `enhanced` world (it keeps `--tips` encounters going; the dummy world "
        f"cannot), seed {s.latency_seed}, FMC with {s.walkers} walkers x horizon {s.horizon} "
        f"at every TIP count; ticks per row = clamp({s.latency_decisions} / TIPs, "
        f"{s.latency_min_ticks}, {s.latency_max_ticks}).",
        "",
        *table(
            (
                "TIPs",
                "Ticks",
                "Graph p50 ms",
                "Graph p99 ms",
                "Graph decisions/s",
                "FMC p50 ms",
                "FMC p99 ms",
                "FMC decisions/s",
                "Max active TIPs (graph / FMC)",
            ),
            lat_rows,
        ),
        "",
        f"At the paper's setting (the section-1 runs: {s.world} world, {s.tips} TIPs, fom "
        f"learner), per-run latency in ms, median (min-max) across seeds: {at_setting}.",
        "",
        "### This run",
        "",
        f"Wall time {wall_s:.1f} s: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in phase_s.items())
        + ".",
        "",
        TIMING_END,
        "",
    ]


def _notes(s: Settings) -> list[str]:
    """Method notes and caveats (deterministic text)."""
    return [
        "## Notes and caveats",
        "",
        "- Our world is a simulation written from the paper's description: its hit model "
        "(a hidden recoil drift per weapon, aim noise, range fall-off) and its enemy fire are "
        "ours, so absolute accuracies depend on those constants. Comparisons between learners "
        "and planners in the same world are the meaningful part.",
        "- The paper defines neither its interval nor its seeds; we read +- 2.3 as its spread "
        "and test agreement against our 95% interval of the mean across seeds. With many seeds "
        "that interval is narrow, so 'disagrees' can mean a gap of a few points.",
        "- Exposure: the paper's metric is the fraction of steps in uncovered tiles; our "
        f"nodes have a continuous cover, so 'uncovered' means exposure > {UNCOVERED}. The mean "
        "exposure is reported too.",
        "- The monolithic Q-network (one tanh hidden layer of 32 units, 13 aim offsets, one "
        "SGD step per shot) is our construction of the paper's baseline; its compute ratio "
        "scales with its size.",
        "- With the FMC planner a decision waits for the batch of every TIP of its tick: the "
        "walker pool is a throughput design (one vectorised plan per tick), so its latency "
        "grows with the TIP count; decisions per second are in the latency table.",
        f"- Runs stop after {s.ticks} ticks with their last encounters unfinished (not "
        "counted); the learning curves stop at the shortest run's encounter count.",
        "",
    ]


def write_report(
    s: Settings,
    groups: dict[str, Group],
    compute: list[ComputeRecord],
    latency: dict[str, list[LatencyRow]],
    out: Path,
    command: str,
    wall_s: float,
    phase_s: dict[str, float],
) -> str:
    """Write ``out/results.md`` and return its text."""
    at = min(x.at for x in groups.values())
    lines = [
        *_setup_section(s, at, command),
        *_paper_section(s, groups, at),
        *_curves_section(s, groups, at),
        *_exposure_section(groups),
        *_planner_section(groups, at),
        *_flops_section(s, groups),
        *_timing_section(s, groups, compute, latency, wall_s, phase_s),
        *_notes(s),
    ]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    return text


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and write results.md and the plots; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of at most 30 s")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="output directory")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 30, quick 3)")
    parser.add_argument("--jobs", type=int, help="worker processes (default min(2, cores))")
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 2:
        parser.error("--seeds must be >= 2 (intervals need two seeds)")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    s = default_settings(args.quick, args.seeds, args.jobs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = (
        "python scripts/experiment.py"
        + (" --quick" if s.quick else "")
        + (f" --seeds {args.seeds}" if args.seeds is not None else "")
    )
    started = time.perf_counter()
    phase_s: dict[str, float] = {}

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    say(f"runs: {len(s.seeds)} seeds x (3 learners x 2 planners + mc), {s.ticks} ticks")
    t = time.perf_counter()
    runs = run_matrix(s)
    phase_s["learner and planner runs"] = time.perf_counter() - t
    failures = sum(r.failures for rs in runs.values() for r in rs)
    if failures:
        say(f"warning: {failures} actor failures in the runs")
    say("compute per decision (pure loop)")
    t = time.perf_counter()
    compute = measure_compute(s)
    phase_s["compute"] = time.perf_counter() - t
    say(f"latency sweep: TIPs {', '.join(map(str, s.latency_tips))}")
    t = time.perf_counter()
    latency = measure_latency(s)
    phase_s["latency sweep"] = time.perf_counter() - t
    say("analysis, plots, report")
    t = time.perf_counter()
    groups = analyse(runs, s)
    plot_curves(groups, s, out / "learning_curves.png")
    plot_exposure(groups, out / "exposure.png")
    plot_planners(groups, out / "planners.png")
    plot_compute(compute, groups, out / "compute.png")
    plot_latency(latency, out / "latency.png")
    phase_s["report"] = time.perf_counter() - t
    write_report(s, groups, compute, latency, out, command, time.perf_counter() - started, phase_s)
    say(f"wrote {out / 'results.md'} and 5 PNGs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
