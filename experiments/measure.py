"""Clock measurements: the learners' CPU time per decision in the synchronous driver, and the
decision latency against the number of concurrent TIPs on the real system.

The learner time is read by a timing wrapper handed to ``fom.simulate.run_encounters`` as its
learner factory (``make=``): the driver plays exactly what the actors play, and the wrapper
reads ``time.process_time_ns()`` around every ``act`` and ``update``.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from experiments.settings import LEARNERS, Settings
from fom.progress import progress_bar

__all__ = [
    "ComputeRecord",
    "LatencyRow",
    "TimedLearner",
    "latency_sweep",
    "measure_compute",
    "measure_latency",
]

WARMUP_SEED = 10_000
"""Seed of the untimed warm-up play (first calls into numpy and each learner)."""


class _Clock:
    """CPU nanoseconds spent in learners, and their decisions."""

    __slots__ = ("decisions", "ns")

    def __init__(self) -> None:
        self.ns = 0
        self.decisions = 0


class TimedLearner:
    """A learner that adds the CPU time of the wrapped learner's ``act`` and ``update`` to a
    clock; everything else is the wrapped learner's."""

    def __init__(self, inner: Any, clock: _Clock) -> None:
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
        self.clock.ns += time.process_time_ns() - t0
        self.clock.decisions += 1
        return decision

    def update(self, outcome: Any, report: Any) -> None:
        """The wrapped ``update``, timed."""
        t0 = time.process_time_ns()
        self.inner.update(outcome, report)
        self.clock.ns += time.process_time_ns() - t0

    def delta(self) -> np.ndarray:
        """The wrapped ``delta`` (once per encounter, not per decision; untimed)."""
        return np.asarray(self.inner.delta())


@dataclass(frozen=True, slots=True)
class ComputeRecord:
    """CPU time of a learner's act + update per decision in the synchronous driver."""

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


def measure_compute(s: Settings, progress: TextIO | None = None) -> list[ComputeRecord]:
    """Time every learner's act + update in ``fom.simulate.run_encounters`` (this process),
    graph planner, each learner's own pattern layout; a bar on ``progress`` when given."""
    from fom.engines import make_engine
    from fom.learners.base import make_learner
    from fom.planners import make_planner
    from fom.simulate import run_encounters

    def play(kind: str, seed: int, encounters: int) -> ComputeRecord:
        clock = _Clock()

        def timed(*args: Any, **kwargs: Any) -> TimedLearner:
            return TimedLearner(make_learner(*args, **kwargs), clock)

        stats = run_encounters(
            make_engine(s.world, seed, s.tips),
            kind,
            encounters,
            seed,
            concurrency=s.tips,
            planner=make_planner("graph", walkers=s.walkers, horizon=s.horizon),
            make=timed,
        )
        return ComputeRecord(kind, seed, clock.decisions, clock.ns, stats.compute_flops,
                             stats.accuracy)  # fmt: skip

    for kind in LEARNERS:
        play(kind, WARMUP_SEED, 10)
    plays = [(kind, seed) for seed in s.compute_seeds for kind in LEARNERS]
    records = []
    with progress_bar(len(plays), "play", progress, desc="compute") as bar:
        for kind, seed in plays:
            records.append(play(kind, seed, s.compute_encounters))
            bar.update(1)
    return records


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
    """Every TIP count of the sweep for one planner, in this (fresh) process. The figures are
    the run summary's (CoreAgent folds the stream with ``MatchStats``); no listener is added,
    so the experiment costs the measured system nothing."""
    from fom.app import run
    from fom.config import RunConfig

    planner, s = task

    def config(tips: int, ticks: int) -> RunConfig:
        return RunConfig(
            ticks=ticks,
            tips=tips,
            seed=s.latency_seed,
            world="enhanced",
            planner=planner,
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


def measure_latency(s: Settings, progress: TextIO | None = None) -> dict[str, list[LatencyRow]]:
    """The sweep for the graph and FMC planners, one after the other, each in a fresh process;
    a bar of the sweeps done on ``progress`` when given."""
    ctx = multiprocessing.get_context("spawn")
    out = {}
    planners = ("graph", "fmc")
    with progress_bar(len(planners), "sweep", progress, desc="latency") as bar:
        for planner in planners:
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                out[planner] = pool.submit(latency_sweep, (planner, s)).result()
            bar.update(1)
    return out
