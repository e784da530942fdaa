"""The planners on a Doom scenario, same seeds: kills, hit rate, deaths and wall time per planner.

    python scripts/doom_planners.py [--scenario deadly_corridor] [--ticks 300] [--seeds 4]

``fmc-engine`` plans over the real game (save and load) with ``--walkers``/``--horizon``; the
others with the run's defaults. Runs go one per core; counts, not timings, are what to compare
across machines.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

from fom.app import run
from fom.config import RunConfig

PLANNERS = ("fmc-engine", "fmc", "graph")


def one(planner: str, scenario: str, seed: int, ticks: int, walkers: int, horizon: int
        ) -> tuple[str, int, int, int, int, float, float]:  # fmt: skip
    """(planner, kills, hits, shots, deaths, damage taken, wall seconds) of one run."""
    extra = {"walkers": walkers, "horizon": horizon} if planner == "fmc-engine" else {}
    t0 = time.perf_counter()
    s = run(RunConfig(world=f"doom:{scenario}", ticks=ticks, planner=planner, seed=seed,
                      quiet=True, **extra)).summary  # fmt: skip
    return planner, s.kills, s.hits, s.shots, s.deaths, s.damage_taken, time.perf_counter() - t0


def main() -> None:
    """Parse the flags, run every planner on every seed, print one row per planner."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="deadly_corridor")
    parser.add_argument("--ticks", type=int, default=300, help="decisions per run")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--walkers", type=int, default=8, help="fmc-engine's walkers")
    parser.add_argument("--horizon", type=int, default=4, help="fmc-engine's horizon")
    a = parser.parse_args()
    jobs = [(p, a.scenario, s, a.ticks, a.walkers, a.horizon)
            for p in PLANNERS for s in range(a.seeds)]  # fmt: skip
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        rows = list(pool.map(one, *zip(*jobs, strict=True)))
    print(f"{a.scenario}, {a.ticks} decisions, seeds 0-{a.seeds - 1}")
    print(f"{'planner':<11} {'kills':>6} {'hit rate':>9} {'deaths':>7} {'damage taken':>13} "
          f"{'s/run':>7}")  # fmt: skip
    for p in PLANNERS:
        mine = [r for r in rows if r[0] == p]
        kills, hits, shots, deaths = (sum(r[k] for r in mine) for k in (1, 2, 3, 4))
        taken, wall = sum(r[5] for r in mine), sum(r[6] for r in mine) / len(mine)
        print(f"{p:<11} {kills:>6} {hits / max(shots, 1):>9.3f} {deaths:>7} {taken:>13.0f} "
              f"{wall:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
