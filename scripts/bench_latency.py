"""Decision latency, throughput and memory against the number of concurrent TIPs.

    python scripts/bench_latency.py [--tips 1 64 1024 4096 10000] [--planner graph] [--json]
                                    [--no-gc-tuning]

Each row is a fresh process running ``fom.app.run`` headless (no event file) with ``--tips N``:
the decision latency (a TIP's observation to its action, p50/p99), decisions per second over
the run's wall time, and resident memory per TIP: (peak RSS of the run - peak RSS of the same
process before the run) / N. The last lines compare decisions/s at 4096 TIPs with 64 TIPs.
``--no-gc-tuning`` runs with CPython's collector settings (``fom-run --no-gc-tuning``), to see
what the runtime's GcPolicy buys at each TIP count.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from typing import Any

DECISIONS_PER_ROW = 60_000
"""Each row runs enough ticks for about this many decisions (at least 30 ticks)."""


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(tips: int, planner: str, seed: int, gc_tuning: bool) -> dict[str, Any]:
    """One row, measured in this process."""
    from fom.app import run
    from fom.config import RunConfig

    ticks = max(30, DECISIONS_PER_ROW // tips)
    # Warm imports and the loop once so the baseline RSS holds the code, not the TIPs.
    run(RunConfig(ticks=5, tips=1, seed=seed, planner=planner, quiet=True))
    base = _rss_mb()
    config = RunConfig(
        ticks=ticks, tips=tips, seed=seed, planner=planner, quiet=True, gc_tuning=gc_tuning
    )
    result = run(config)
    s = result.summary
    peak = _rss_mb()
    return {
        "tips": tips,
        "ticks": ticks,
        "max_active_tips": s.max_active_tips,
        "decisions": s.decisions,
        "p50_ms": s.latency_ms.p50,
        "p99_ms": s.latency_ms.p99,
        "decisions_per_s": s.decisions_per_s,
        "rss_mb": peak,
        "rss_per_tip_kb": (peak - base) * 1024.0 / tips,
        "wall_s": s.wall_s,
    }


def main(argv: list[str] | None = None) -> None:
    """Run every row in its own process and print a table (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, nargs="+", default=[1, 64, 1024, 4096, 10_000])
    parser.add_argument("--planner", choices=("graph", "fmc"), default="graph")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--no-gc-tuning", dest="gc_tuning", action="store_false",
        help="leave the garbage collector at CPython's settings",
    )  # fmt: skip
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.planner, args.seed, args.gc_tuning)))
        return
    rows: dict[str, dict[str, Any]] = {}
    for tips in args.tips:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", str(tips), "--planner", args.planner,
             "--seed", str(args.seed), *([] if args.gc_tuning else ["--no-gc-tuning"])],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        rows[str(tips)] = json.loads(out.stdout.strip().splitlines()[-1])
        if not args.json:
            r = rows[str(tips)]
            print(
                f"tips {tips:6d}  active {r['max_active_tips']:6d}  p50 {r['p50_ms']:7.3f} ms  "
                f"p99 {r['p99_ms']:7.3f} ms  {r['decisions_per_s']:9,.0f} decisions/s  "
                f"RSS {r['rss_mb']:7.1f} MB ({r['rss_per_tip_kb']:6.1f} KB/TIP)",
                flush=True,
            )
    ratio = None
    if "64" in rows and "4096" in rows:
        ratio = rows["4096"]["decisions_per_s"] / rows["64"]["decisions_per_s"]
    if args.json:
        print(json.dumps({
            "planner": args.planner, "gc_tuning": args.gc_tuning, "tips": rows,
            "ratio_4096_vs_64": ratio,
        }))  # fmt: skip
    elif ratio is not None:
        print(f"decisions/s at 4096 TIPs / at 64 TIPs: {ratio:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
