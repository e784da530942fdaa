"""Does the dashboard slow the simulation down or change it? One run with it, one without.

    python scripts/bench_dashboard.py [--ticks 1500] [--tips 16] [--planner graph] [--rounds 3]

Both runs write their event stream; the script checks that the streams are identical apart
from wall-clock fields (and the output paths in the config), and prints decisions/s with and
without ``--dashboard`` (best of ``--rounds`` alternating runs each) and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fom.app import run
from fom.config import RunConfig
from fom.events import read_events, strip_wallclock


def _run(tmp: Path, name: str, args: argparse.Namespace, dashboard: bool) -> tuple[float, list]:
    events = tmp / f"{name}.jsonl"
    config = RunConfig(
        ticks=args.ticks,
        tips=args.tips,
        planner=args.planner,
        seed=args.seed,
        events=str(events),
        dashboard=str(tmp / f"{name}.png") if dashboard else None,
        quiet=True,
    )
    result = run(config)
    stream = [strip_wallclock(e) for e in read_events(events)]
    for key in ("events", "dashboard"):  # the output paths differ between the runs by design
        stream[0]["config"].pop(key)
    return result.summary.decisions_per_s, stream


def main(argv: list[str] | None = None) -> None:
    """Alternate runs with and without the dashboard; print rates, ratio and stream equality."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1500)
    parser.add_argument("--tips", type=int, default=16)
    parser.add_argument("--planner", choices=("graph", "fmc"), default="graph")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        best = {False: 0.0, True: 0.0}
        streams: dict[bool, list] = {}
        for i in range(args.rounds):
            for dashboard in (False, True):
                rate, stream = _run(Path(tmp), f"r{i}-{dashboard}", args, dashboard)
                best[dashboard] = max(best[dashboard], rate)
                streams.setdefault(dashboard, stream)
    same = streams[False] == streams[True]
    print(f"events per run: {len(streams[False])}; identical apart from wall clock: {same}")
    print(f"decisions/s without dashboard {best[False]:10,.0f}")
    print(f"decisions/s with --dashboard  {best[True]:10,.0f}")
    print(f"ratio {best[True] / best[False]:.3f} (the issue asks for >= 0.9)")


if __name__ == "__main__":
    main()
