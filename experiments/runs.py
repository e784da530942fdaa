"""The learner x planner matrix on the real system (``fom.app.run``, every actor).

Each run's event stream is read through ``listeners=``: the event dicts are kept during the
run and decoded (``fom.events.decode_event``) after it, outside the CPU-time measurement, then
folded by the one statistics fold, ``fom.events.MatchStats``. Beside the fold, a run keeps
what the fold has no figure for: the per-encounter records (``tip.finished``, for the learning
curves), the decisions on uncovered nodes and the planner's walker-steps.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from experiments.settings import UNCOVERED, Settings
from fom.events import MatchStats, PlanDone, RunSummary, TipFinished, TipShot, decode_event
from fom.progress import progress_bar

__all__ = ["SUMMARY_COUNTS", "RunRecord", "fold_events", "run_matrix", "run_one"]

SUMMARY_COUNTS: tuple[str, ...] = (
    "ticks", "encounters", "shots", "hits", "decisions", "deaths", "kills", "timeouts",
    "compute_flops",
)  # fmt: skip
"""Deterministic counts of the run summary, checked against the experiment's own fold."""


@dataclass(slots=True)
class RunRecord:
    """What one run of the real system produced, folded from its event stream."""

    learner: str
    planner: str
    seed: int
    ticks: int
    summary: RunSummary
    """``MatchStats.summary`` of the run's stream (latency and wall figures: clock readings)."""
    shots: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Shots of each finished encounter, in order of completion (likewise hits, ...)."""
    hits: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    damage: np.ndarray = field(default_factory=lambda: np.zeros(0))
    end_tick: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    uncovered_decisions: int = 0
    plan_samples: int = 0
    planned_requests: int = 0
    """Plan requests the walker pool answered (the fold's ``planned_requests``)."""
    failures: int = 0
    mismatched: tuple[str, ...] = ()
    """Counts where the system's own summary differs from this fold (none expected)."""
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def encounters(self) -> int:
        """Encounters finished in the run."""
        return len(self.shots)

    @property
    def accuracy(self) -> float:
        """Hits over shots of the whole run."""
        return self.summary.accuracy

    @property
    def decisions(self) -> int:
        """TIP ticks played (one ``tip.shot`` each)."""
        return self.summary.decisions

    @property
    def exposure(self) -> float:
        """Mean exposure (1 - cover) of the node a TIP stood on, over every decision."""
        return self.summary.exposure if self.decisions else math.nan

    @property
    def uncovered(self) -> float:
        """Fraction of decisions taken on uncovered nodes (exposure > UNCOVERED)."""
        return self.uncovered_decisions / self.decisions if self.decisions else math.nan

    @property
    def damage_per_encounter(self) -> float:
        """Mean damage taken per finished encounter."""
        return float(self.damage.mean()) if self.damage.size else math.nan

    @property
    def flops_per_decision(self) -> float:
        """Counted learner flops per decision."""
        return self.summary.compute_flops / self.decisions if self.decisions else math.nan

    @property
    def steps_per_plan(self) -> float:
        """Walker-steps per planned decision (NaN for a planner without the walker pool)."""
        requests = self.planned_requests
        return self.plan_samples / requests if requests else math.nan

    @property
    def p50_ms(self) -> float:
        """Median decision latency (wall clock)."""
        return self.summary.latency_ms.p50

    @property
    def p99_ms(self) -> float:
        """99th percentile of the decision latency (wall clock)."""
        return self.summary.latency_ms.p99


def fold_events(
    events: list[dict[str, Any]], learner: str, planner: str, seed: int, ticks: int, wall_s: float
) -> RunRecord:
    """Decode a run's event dicts and fold them into a RunRecord (``MatchStats`` and the
    per-encounter records)."""
    stats = MatchStats()
    uncovered = samples = 0
    finished: list[TipFinished] = []
    for event in events:
        record, _ = decode_event(event)
        stats.fold(record)
        if isinstance(record, TipShot):
            uncovered += record.exposure > UNCOVERED
        elif isinstance(record, TipFinished):
            finished.append(record)
        elif isinstance(record, PlanDone):
            samples += record.samples
    return RunRecord(
        learner,
        planner,
        seed,
        ticks,
        summary=stats.summary(wall_s),
        shots=np.array([r.shots for r in finished], dtype=np.int64),
        hits=np.array([r.hits for r in finished], dtype=np.int64),
        damage=np.array([r.damage_taken for r in finished], dtype=np.float64),
        end_tick=np.array([r.tick for r in finished], dtype=np.int64),
        uncovered_decisions=int(uncovered),
        plan_samples=int(samples),
        planned_requests=stats.planned_requests,
    )


def run_one(task: tuple[str, str, int, Settings]) -> RunRecord:
    """One run of the real system (``fom.app.run``) with ``learner``, ``planner`` and ``seed``."""
    from fom.app import run
    from fom.config import RunConfig

    learner, planner, seed, s = task
    config = RunConfig(
        ticks=s.ticks,
        tips=s.tips,
        seed=seed,
        world=s.world,  # type: ignore[arg-type]
        learner=learner,
        planner=planner,
        walkers=s.walkers,
        horizon=s.horizon,
        quiet=True,
    )
    events: list[dict[str, Any]] = []
    cpu, wall = time.process_time(), time.perf_counter()
    result = run(config, listeners=(events.append,))
    cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
    record = fold_events(events, learner, planner, seed, s.ticks, wall_s)
    record.cpu_s, record.wall_s = cpu_s, wall_s
    record.failures = result.failures
    record.mismatched = tuple(
        name
        for name in SUMMARY_COUNTS
        if getattr(result.summary, name) != getattr(record.summary, name)
    )
    return record


def _warm(_: int) -> int:
    """Import the system in a pool worker before the measured runs."""
    import fom.app  # noqa: F401

    return os.getpid()


def run_matrix(
    s: Settings, progress: TextIO | None = None
) -> dict[tuple[str, str], list[RunRecord]]:
    """Every (learner, planner) over every seed, on ``s.jobs`` worker processes; a bar of the
    runs done on ``progress`` (``fom.progress``) when given."""
    tasks = [(lr, pl, seed, s) for lr, pl, seed in s.tasks()]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=s.jobs, mp_context=ctx) as pool:
        list(pool.map(_warm, range(s.jobs)))
        futures = [pool.submit(run_one, task) for task in tasks]
        with progress_bar(len(tasks), "run", progress, desc="runs") as bar:
            for _ in as_completed(futures):
                bar.update(1)
        records = [f.result() for f in futures]
    out: dict[tuple[str, str], list[RunRecord]] = {}
    for r in sorted(records, key=lambda r: (r.learner, r.planner, r.seed)):
        out.setdefault((r.learner, r.planner), []).append(r)
    return out
