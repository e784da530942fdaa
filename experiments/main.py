"""The command line: run the matrix, the compute measurement and the latency sweep, then write
the plots and results.md.

    python -m experiments [--quick] [--out DIR] [--seeds N] [--jobs N] [--quiet]

Results are deterministic given the seeds, except the wall-clock and CPU-time figures, which
all live between ``<!-- timing:begin -->`` and ``<!-- timing:end -->``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from experiments.measure import measure_compute, measure_latency
from experiments.planners import ABLATIONS, PLANNERS, planners_section, run_planners
from experiments.plots import PNGS, plot_all
from experiments.report import write_report
from experiments.runs import run_matrix
from experiments.sections import sections, splice
from experiments.settings import LEARNER_PLANNERS, LEARNERS, default_settings
from experiments.stats import analyse
from fom.progress import terminal_stderr

__all__ = ["default_out", "main"]

OWN_SECTIONS = ("timing", "planners")
"""The marked sections of results.md this command writes; it keeps the others (another script's,
such as ``scripts/bench_atari.py --write``'s Atari table) as they were."""


def default_out() -> Path:
    """``docs/`` of the source tree this package lives in, else ``docs/`` here."""
    root = Path(__file__).resolve().parents[1]
    return root / "docs" if (root / "pyproject.toml").is_file() else Path("docs")


def _load() -> float:
    """The machine's 1-minute load average (NaN where the system has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/experiment.py",
        description="The paper's claims, measured on our own system: docs/results.md and plots.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--out", type=Path, default=None, help="output directory (docs/)")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 30, quick 3)")
    parser.add_argument("--jobs", type=int, help="worker processes (default min(2, cores))")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars (shown on a terminal's stderr)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the experiment and write results.md and the plots; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.seeds is not None and args.seeds < 2:
        parser.error("--seeds must be >= 2 (intervals need two seeds)")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be >= 1")
    s = default_settings(args.quick, args.seeds, args.jobs)
    out: Path = args.out if args.out is not None else default_out()
    out.mkdir(parents=True, exist_ok=True)
    command = (
        "python scripts/experiment.py"
        + (" --quick" if s.quick else "")
        + (f" --seeds {args.seeds}" if args.seeds is not None else "")
    )
    progress = terminal_stderr(args.quiet)  # a bar for each phase that lasts over 2 s
    started = time.perf_counter()
    phase_s: dict[str, float] = {}
    loads = [_load()]  # at the start and after each phase: other work skews the clocks

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {msg}", file=sys.stderr, flush=True)

    say(
        f"runs: {len(s.seeds)} seeds x ({len(LEARNERS)} learners x {len(LEARNER_PLANNERS)} "
        f"planners + mc), {s.ticks} ticks"
    )
    t = time.perf_counter()
    runs = run_matrix(s, progress)
    phase_s["learner and planner runs"] = time.perf_counter() - t
    loads.append(_load())
    records = [r for rs in runs.values() for r in rs]
    failures = sum(r.failures for r in records)
    if failures:
        say(f"warning: {failures} actor failures in the runs")
    for r in records:
        if r.mismatched:
            say(f"warning: {r.learner}/{r.planner} seed {r.seed}: the run summary and the "
                f"stream's fold differ in {', '.join(r.mismatched)}")  # fmt: skip
    say("compute per decision (synchronous driver)")
    t = time.perf_counter()
    compute = measure_compute(s, progress)
    phase_s["compute"] = time.perf_counter() - t
    loads.append(_load())
    say(f"latency sweep: TIPs {', '.join(map(str, s.latency_tips))}")
    t = time.perf_counter()
    latency = measure_latency(s, progress)
    phase_s["latency sweep"] = time.perf_counter() - t
    loads.append(_load())
    say("planners on fight outcomes, both worlds (synchronous driver)")
    t = time.perf_counter()
    planner_runs = run_planners(s.planner_seeds, PLANNERS, s.jobs)
    ablation_runs = None
    if s.ablation_seeds:
        ablation_runs = run_planners(s.ablation_seeds, ("fmc", *ABLATIONS), s.jobs)
    phase_s["planners, both worlds"] = time.perf_counter() - t
    loads.append(_load())
    say("analysis, plots, report")
    t = time.perf_counter()
    groups = analyse(runs, s)
    plot_all(groups, compute, latency, s, out)
    phase_s["report"] = time.perf_counter() - t
    wall_s = time.perf_counter() - started
    report = out / "results.md"
    others = {k: v for k, v in sections(report).items() if k not in OWN_SECTIONS}
    write_report(s, groups, compute, latency, out, command, wall_s, phase_s, loads)
    section = planners_section(
        planner_runs, s.planner_seeds, command, ablation_runs, s.ablation_seeds
    )
    splice(report, section)
    for block in others.values():  # such as the Atari table, which takes hours to make
        splice(report, block)
    say(f"wrote {out / 'results.md'} and {len(PNGS)} PNGs")
    return 0
