"""The timing section of results.md: every figure read from a clock (CPU time, latency, wall
time), kept between the timing markers so the rest of the report is deterministic."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from experiments.measure import ComputeRecord, LatencyRow
from experiments.runs import RunRecord
from experiments.settings import (
    INDEPENDENCE_FACTOR,
    LEARNER_PLANNERS,
    LEARNERS,
    PAPER,
    PLANNERS,
    TIMING_BEGIN,
    TIMING_END,
    Settings,
)
from experiments.stats import Group, Stat, mean_ci, paired, ratio
from experiments.tables import Claim, Fmt, ci, claims_block, f_ms, f_ratio, fixed, table

__all__ = ["timing_section"]


def _system_cpu(r: RunRecord) -> float:
    """Whole-system CPU seconds per decision."""
    return r.cpu_s / r.decisions if r.decisions else math.nan


def _median_range(values: Sequence[float], fmt: Fmt) -> str:
    """``median (min-max)``."""
    return f"{fmt(float(np.median(values)))} ({fmt(min(values))}-{fmt(max(values))})"


def _load_line(s: Settings, loads: Sequence[float]) -> list[str]:
    """The machine's load during the run: the clock readings above share the CPUs with it."""
    if not loads or not all(math.isfinite(x) for x in loads):
        return []
    return [
        "1-minute load average at the start and after each measuring phase: "
        f"{', '.join(f'{x:.2f}' for x in loads)} ({os.cpu_count()} logical CPUs). The "
        f"experiment's own processes account for about {s.jobs} during the matrix runs and 1 "
        "during the other phases; more means other processes shared the CPUs and slowed the "
        "clock readings.",
        "",
    ]


def _independence(latency: dict[str, list[LatencyRow]], upto: int) -> list[str]:
    """Per planner: does the p50 grow with the TIP count up to ``upto``?"""
    lines = []
    for pl, rows in latency.items():
        within = [r for r in rows if r.tips <= upto]
        growth = max(r.p50_ms for r in within) / within[0].p50_ms
        spread = max(r.p50_ms for r in within) / min(r.p50_ms for r in within)
        verdict = "agrees" if growth <= INDEPENDENCE_FACTOR else "disagrees: it grows"
        lines.append(
            f"- {pl} planner: largest p50 over 1..{upto} TIPs / p50 at 1 TIP = {growth:.2f} "
            f"({verdict}); largest / smallest p50 over 1..{upto} = {spread:.2f}; p50 at "
            f"{rows[-1].tips} TIPs / at 1 TIP = {rows[-1].p50_ms / rows[0].p50_ms:.2f}."
        )
    return lines


def _latency_rows(latency: dict[str, list[LatencyRow]]) -> list[tuple[str, ...]]:
    """One table row per TIP count, the graph and FMC sweeps side by side."""
    return [
        (
            str(a.tips), str(a.ticks),
            f"{a.p50_ms:.3f}", f"{a.p99_ms:.3f}", f"{a.decisions_per_s:,.0f}",
            f"{b.p50_ms:.3f}", f"{b.p99_ms:.3f}", f"{b.decisions_per_s:,.0f}",
            f"{a.max_active_tips} / {b.max_active_tips}",
        )
        for a, b in zip(latency["graph"], latency["fmc"], strict=True)
    ]  # fmt: skip


LATENCY_HEADER = (
    "TIPs",
    "Ticks",
    "Graph p50 ms",
    "Graph p99 ms",
    "Graph decisions/s",
    "FMC p50 ms",
    "FMC p99 ms",
    "FMC decisions/s",
    "Max active TIPs (graph / FMC)",
)

CPU_HEADER = (
    "Learner",
    "Learner CPU us per decision (raw)",
    "Whole system, graph: CPU us per decision",
    "Whole system, FMC: CPU us per decision",
)


def timing_section(
    s: Settings,
    g: dict[str, Group],
    compute: list[ComputeRecord],
    latency: dict[str, list[LatencyRow]],
    wall_s: float,
    phase_s: dict[str, float],
    loads: Sequence[float] = (),
) -> list[str]:
    """Everything read from a clock: differs between runs and machines."""
    by = {(c.learner, c.seed): c.us_per_decision for c in compute}
    seeds = sorted({c.seed for c in compute})

    def net(lr: str, seed: int) -> float:
        return by[(lr, seed)] - by[("static", seed)]

    def net_ratio(a: str, b: str) -> Stat:
        return mean_ci(net(a, sd) / net(b, sd) if net(b, sd) > 0 else math.nan for sd in seeds)

    raw = {lr: mean_ci(by[(lr, sd)] for sd in seeds) for lr in LEARNERS}
    ratio_raw = mean_ci(by[("monolithic", sd)] / by[("fom", sd)] for sd in seeds)
    system = {k: x.per_seed(lambda r: _system_cpu(r) * 1e6) for k, x in g.items()}
    sys_ratio = {
        pl: paired(g[f"monolithic/{pl}"], g[f"fom/{pl}"], ratio(_system_cpu))
        for pl in LEARNER_PLANNERS
    }
    p50 = {pl: g[f"fom/{pl}"].per_seed(lambda r: r.p50_ms) for pl in PLANNERS}
    claims = [
        Claim("Compute, monolithic / FOM (learner CPU per decision, net of timer floor)",
              "10x", PAPER["compute_ratio"], f_ratio, net_ratio("monolithic", "fom")),
        Claim("Compute, monolithic / FOM (whole-system CPU per decision)", "10x",
              PAPER["compute_ratio"], f_ratio, sys_ratio["graph"], sys_ratio["fmc"]),
        Claim(f"Median decision latency ({s.world} world, {s.tips} TIPs)", "1.6 ms",
              PAPER["latency_p50_ms"], f_ms, p50["graph"], p50["fmc"]),
    ]  # fmt: skip
    upto = int(PAPER["latency_tips_max"])
    cpu_rows = [
        (lr, ci(raw[lr], fixed(2)), ci(system[f"{lr}/graph"], fixed(0)),
         ci(system[f"{lr}/fmc"], fixed(0)))
        for lr in LEARNERS
    ]  # fmt: skip
    at_setting = "; ".join(
        f"{pl}: p50 {_median_range([r.p50_ms for r in g[f'fom/{pl}'].runs], fixed(3))}, "
        f"p99 {_median_range([r.p99_ms for r in g[f'fom/{pl}'].runs], fixed(3))}"
        for pl in PLANNERS
    )
    mlp_sys = {
        pl: paired(g[f"mlp/{pl}"], g[f"fom/{pl}"], ratio(_system_cpu)) for pl in LEARNER_PLANNERS
    }
    return [
        TIMING_BEGIN,
        "## Timing: CPU time and latency (clock readings; they vary between runs)",
        "",
        "Everything in this section is read from a clock; everything above it is "
        f"deterministic given the seeds. The matrix runs ran {s.jobs} at a time (one per "
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
        *_independence(latency, upto),
        "",
        "### Compute per decision (CPU time)",
        "",
        "![compute](compute.png)",
        "",
        "Method. (a) Learner only: the synchronous driver `fom.simulate.run_encounters` (the "
        "match core without actors or bus, playing what the actors play) plays "
        f"{s.compute_encounters} encounters of the `{s.world}` world, up to {s.tips} at once, "
        "graph planner, per learner and seed. Its learner factory is a timing wrapper, passed "
        "as `make=`: it builds the learner with `fom.learners.base.make_learner` and reads "
        "`time.process_time_ns()` around every `act` and `update` call; CPU ns over "
        "decisions. The static learner does no work, so its figure is the timer's own floor; "
        "the net ratio subtracts it (same seed) from both learners. (b) Whole system: "
        "`time.process_time()` around each matrix run of `fom.app.run` (every actor, the bus, "
        "the world, the planner; the events are only kept during the run and decoded after "
        "it) over the run's decisions.",
        "",
        *table(CPU_HEADER, cpu_rows),
        "",
        f"Monolithic / FOM learner CPU per decision: raw (timer floor included) "
        f"{ci(ratio_raw, f_ratio)}, net of the floor {ci(net_ratio('monolithic', 'fom'), f_ratio)}."
        f" MLP / FOM: net of the floor {ci(net_ratio('mlp', 'fom'), f_ratio)}; whole system "
        f"{ci(mlp_sys['graph'], f_ratio)} (graph), {ci(mlp_sys['fmc'], f_ratio)} (FMC).",
        "",
        "### Decision latency against concurrent TIPs",
        "",
        "![latency](latency.png)",
        "",
        "Latency: a TIP's observation to its action (the learner's `act` plus planning; with "
        "FMC, the round trip through the walker pool, which plans every TIP of a tick in one "
        "batch), as the run summary reports it. The `enhanced` world (it keeps `--tips` "
        "encounters going; the dummy world cannot), seed "
        f"{s.latency_seed}, FMC with {s.walkers} walkers x horizon {s.horizon} at every TIP "
        f"count; ticks per row = clamp({s.latency_decisions} / TIPs, {s.latency_min_ticks}, "
        f"{s.latency_max_ticks}).",
        "",
        *table(LATENCY_HEADER, _latency_rows(latency)),
        "",
        f"At the paper's setting (the matrix runs: {s.world} world, {s.tips} TIPs, fom "
        f"learner), per-run latency in ms, median (min-max) across seeds: {at_setting}.",
        "",
        "### This run",
        "",
        f"Wall time {wall_s:.1f} s: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in phase_s.items())
        + ".",
        "",
        *_load_line(s, loads),
        TIMING_END,
        "",
    ]
