"""FMC on Atari at the published samples per step, one episode per game, beside the published table.

    python scripts/bench_atari.py [--games boxing,pong,ms_pacman,qbert] [--steps N]
                                  [--processes 2] [--seed 0] [--json]

Each game is played by ``fom-fmc``'s own code path (:func:`fom.app.play`) with the recipe below:
the adaptive budget (walkers that clone do not step; a decision stops when the walkers' mean depth
reaches the horizon or the cap is spent), RAM distances, the reaction time ``frameskip``, and for
games that can be won a negative reward as death. ``--steps`` caps the decisions of an episode
(the table says so when the game was not over). Wall time depends on the machine's load; the CPU
time (this process and its workers) is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

from fom.app import play
from fom.config import FmcConfig

PUBLISHED: dict[str, tuple[float, int | None]] = {
    "boxing": (100, 77),
    "pong": (21, None),
    "ms_pacman": (58_521, 5_129),
    "qbert": (35_750, 2_728),
}
"""FractalAI (Hernández, Durán 2018): score and mean samples per step (None: not published)."""

RECIPES: dict[str, dict[str, Any]] = {
    "boxing": {"walkers": 8, "horizon": 10, "max_samples": 80, "frameskip": 5,
               "loss_is_death": True},
    "pong": {"walkers": 32, "horizon": 30, "max_samples": 1_000, "min_walkers": 32,
             "frameskip": 5, "loss_is_death": True},
    "ms_pacman": {"walkers": 250, "horizon": 20, "max_samples": 5_129, "frameskip": 10},
    "qbert": {"walkers": 136, "horizon": 20, "max_samples": 2_728, "frameskip": 5},
}  # fmt: skip
"""Per game: ``fom-fmc`` settings whose samples per step stay within the published figure
(MsPacman and Qbert: the reference's horizon and reaction time, walkers x horizon about the
published mean; Boxing: at most 100 per step; Pong, whose count is not published: a look-ahead
of 150 frames, at most 1,000 per step, and a swarm that never shrinks: with the reference's floor
of 2 walkers it collapsed behind balls it could still return, see docs/results_atari.md)."""


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def episode(
    game: str, *, steps: int | None = None, processes: int = 2, seed: int = 0, **overrides: Any
) -> dict[str, Any]:
    """Play one episode of ``game`` (at most ``steps`` decisions) with its recipe; the figures."""
    settings = RECIPES[game] | overrides
    config = FmcConfig(
        game=game, steps=steps if steps is not None else 10**9, seed=seed, processes=processes,
        quiet=True, **settings,
    )  # fmt: skip
    cpu0, t0 = _cpu_s(), time.perf_counter()
    result = play(config, handle_signals=False)
    total = time.perf_counter() - t0
    return {
        "game": game,
        "score": result.score,
        "steps": result.steps,
        "game_over": result.game_over,
        "frames": result.steps * config.frameskip,
        "samples_per_step": result.samples_per_step,
        "wall_s": result.wall_s,
        "wall_with_start_s": total,
        "cpu_s": _cpu_s() - cpu0,
        "cores": processes,
        "seed": seed,
        "settings": settings,
        "published_score": PUBLISHED[game][0],
        "published_samples_per_step": PUBLISHED[game][1],
    }


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of episodes beside the published figures."""
    lines = [
        "| game | published score | published samples/step | our score | our samples/step "
        "| decisions (frames) | episode | settings | wall s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for r in rows:
        pub = r["published_samples_per_step"]
        ended = "game over" if r["game_over"] else f"**capped** at {r['steps']:,} decisions"
        k = r["settings"]
        floor = k.get("min_walkers", 2)
        settings = (
            f"{k['walkers']} walkers, horizon {k['horizon']}, cap {k['max_samples']:,}, "
            f"frameskip {k['frameskip']}{', loss = death' if k.get('loss_is_death') else ''}"
            f"{f', min walkers {floor}' if floor > 2 else ''}"
        )
        lines.append(
            f"| {r['game']} | {r['published_score']:,g} | {'n/a' if pub is None else f'{pub:,}'} "
            f"| {r['score']:,g} | {r['samples_per_step']:,.0f} | {r['steps']:,} ({r['frames']:,}) "
            f"| {ended} | {settings} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Play the games and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default="boxing,pong,ms_pacman,qbert",
                        help="comma-separated, among " + ", ".join(RECIPES))  # fmt: skip
    parser.add_argument("--steps", type=int, default=None, help="cap on decisions per episode")
    parser.add_argument("--processes", type=int, default=2, help="processes stepping walkers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    args = parser.parse_args(argv)
    games = [g.strip() for g in args.games.split(",") if g.strip()]
    unknown = [g for g in games if g not in RECIPES]
    if unknown:
        parser.error(f"unknown game(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    rows = []
    for game in games:
        rows.append(episode(game, steps=args.steps, processes=args.processes, seed=args.seed))
        if not args.json:
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(json.dumps(rows, indent=2) if args.json else table(rows))


if __name__ == "__main__":
    main()
