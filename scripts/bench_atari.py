"""FMC on Atari at the published samples per step, one episode per game, beside the published table.

    python scripts/bench_atari.py [--games boxing,pong,ms_pacman,qbert] [--steps N]
                                  [--processes 2] [--seed 0] [--json] [--checkpoint-dir DIR]
                                  [--report] [--write docs/results.md]

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
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.sections import sections, splice
from fom.app import play
from fom.atomic import write_atomically
from fom.checkpoint import AtariCheckpoint
from fom.config import FmcConfig
from fom.engines.atari import MAX_EPISODE_FRAMES, AtariSimulator
from fom.signals import StopSignals

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
    game: str,
    *,
    steps: int | None = None,
    processes: int = 2,
    seed: int = 0,
    checkpoint_dir: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Play one episode of ``game`` (at most ``steps`` decisions) with its recipe; the figures.
    With ``checkpoint_dir``, the game goes on from its checkpoint there if there is one, and
    saves one (every 100 decisions, at its end and on Ctrl-C): a full game may take several
    sessions; the CPU time of those before is kept beside it."""
    settings = RECIPES[game] | overrides
    ckpt = checkpoint_path(checkpoint_dir, game, seed) if checkpoint_dir else None
    if ckpt is not None:
        ckpt.parent.mkdir(parents=True, exist_ok=True)
    before = _sessions(ckpt)
    played_before = AtariCheckpoint.load(ckpt).step if before["sessions"] else 0
    config = FmcConfig(
        game=game, steps=steps if steps is not None else 10**9, seed=seed, processes=processes,
        quiet=True, checkpoint=str(ckpt) if ckpt else None, resume=before["sessions"] > 0,
        **settings,
    )  # fmt: skip
    signals = StopSignals()
    cpu0, t0 = _cpu_s(), time.perf_counter()
    result = play(config, handle_signals=signals if ckpt is not None else False)  # Ctrl-C saves
    total = time.perf_counter() - t0
    cpu = before["cpu_s"] + _cpu_s() - cpu0
    sessions = before["sessions"] + (result.steps > played_before)
    if ckpt is not None:
        write_atomically(_sidecar(ckpt), json.dumps({"sessions": sessions, "cpu_s": cpu}).encode())
    return _row(
        game, seed, settings, processes, score=result.score, steps=result.steps,
        game_over=result.game_over, samples=result.samples, wall_s=result.wall_s, cpu_s=cpu,
        sessions=sessions, signal=signals.received[0] if signals.received else None,
        resumable=ckpt is not None and not result.game_over, wall_with_start_s=total,
    )  # fmt: skip


def standing(game: str, seed: int, checkpoint_dir: str) -> dict[str, Any] | None:
    """Where the game checkpointed in ``checkpoint_dir`` stands (its row), without playing;
    None if it has no checkpoint there."""
    ckpt = checkpoint_path(checkpoint_dir, game, seed)
    if not ckpt.exists():
        return None
    saved = AtariCheckpoint.load(ckpt)
    with AtariSimulator(game, frameskip=saved.settings["frameskip"], seed=seed) as sim:
        sim.import_root(saved.state, saved.score)
        over = sim.game_over
    before = _sessions(ckpt)
    keys = RECIPES[game].keys() | {"min_walkers"}
    settings = {k: v for k, v in saved.settings.items() if k in keys}
    return _row(
        game, seed, settings, None, score=saved.score, steps=saved.step, game_over=over,
        samples=saved.samples, wall_s=saved.wall_s, cpu_s=before["cpu_s"],
        sessions=before["sessions"], signal=None, resumable=not over,
    )  # fmt: skip


def _row(
    game: str, seed: int, settings: dict[str, Any], processes: int | None, **figures: Any
) -> dict[str, Any]:
    """One game's figures beside the published ones."""
    steps = figures["steps"]
    return {
        "game": game,
        **figures,
        "frames": steps * settings["frameskip"],
        "samples_per_step": figures["samples"] / steps if steps else 0.0,
        "cores": processes,
        "seed": seed,
        "settings": settings,
        "published_score": PUBLISHED[game][0],
        "published_samples_per_step": PUBLISHED[game][1],
    }


def checkpoint_path(checkpoint_dir: str, game: str, seed: int) -> Path:
    """Where a game of ``game`` with ``seed`` is checkpointed in ``checkpoint_dir``."""
    return Path(checkpoint_dir) / f"{game}-seed{seed}.ckpt"


def _sidecar(ckpt: Path) -> Path:
    return ckpt.with_suffix(".sessions.json")


def _sessions(ckpt: Path | None) -> dict[str, Any]:
    """The sessions a checkpointed game was played in so far, and their CPU seconds."""
    if ckpt is None or not ckpt.exists():
        return {"sessions": 0, "cpu_s": 0.0}
    side = _sidecar(ckpt)
    return json.loads(side.read_text()) if side.exists() else {"sessions": 1, "cpu_s": 0.0}


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
        if r["game_over"] and r["frames"] >= MAX_EPISODE_FRAMES:
            ended = f"ALE's {MAX_EPISODE_FRAMES:,}-frame limit (30 minutes), game still on"
        if r.get("resumable") and not r["game_over"]:
            ended = f"**stopped** at {r['steps']:,} decisions, game not over (checkpointed)"
        if r.get("sessions", 1) > 1:
            ended += f" ({r['sessions']} sessions)"
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


BEGIN, END = "<!-- atari:begin -->", "<!-- atari:end -->"


def kept_rows(path: Path, games: list[str]) -> list[str]:
    """The table lines a section of ``path`` already holds for games other than ``games``:
    what an earlier run measured that this one did not play again (a finished game whose
    checkpoint is gone keeps its row)."""
    old = sections(path).get("atari", [])
    cells = [(line.split("|")[1].strip(), line) for line in old if line.startswith("| ")]
    return [line for game, line in cells if game in RECIPES and game not in games]


def section(rows: list[dict[str, Any]], command: str, kept: Sequence[str] = ()) -> list[str]:
    """The table as a section of results.md, between its markers, with the rows ``kept`` from
    the section written before (in RECIPES' order of games)."""
    lines = table(rows).splitlines()
    order = list(RECIPES)
    body = sorted([*lines[2:], *kept], key=lambda line: order.index(line.split("|")[1].strip()))
    note = " Rows of games it did not play or report are kept from the write before." * bool(kept)
    return [
        BEGIN,
        "## Atari at the published sample budget (issue 13)",
        "",
        f"Generated by `{command}`.{note} FMC with the FractalAI recipe (`fom-fmc`; the recipes "
        "and the published figures' sources are in docs/results_atari.md), one game per row; a "
        "game marked *stopped* is checkpointed and goes on with `python scripts/bench_atari.py "
        "--checkpoint-dir DIR` (a whole MsPacman or Qbert game takes hours). Wall and CPU "
        "seconds add up every session of a game.",
        "",
        *lines[:2],
        *body,
        END,
    ]


def _print(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Print the table (or JSON); write its section into ``args.write`` if asked."""
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    if args.write is not None and rows:
        command = "python scripts/bench_atari.py " + " ".join(sys.argv[1:])
        kept = kept_rows(args.write, [r["game"] for r in rows])
        splice(args.write, section(rows, command.strip(), kept))


def main(argv: list[str] | None = None) -> None:
    """Play the games and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", default="boxing,pong,ms_pacman,qbert",
                        help="comma-separated, among " + ", ".join(RECIPES))  # fmt: skip
    parser.add_argument("--steps", type=int, default=None, help="cap on decisions per episode")
    parser.add_argument("--processes", type=int, default=2, help="processes stepping walkers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON list")
    parser.add_argument("--checkpoint-dir", default=None,
                        help="save each game there and go on from it: Ctrl-C, then the same "
                             "command, plays a full game over several sessions")  # fmt: skip
    parser.add_argument("--report", action="store_true",
                        help="play nothing: the table of where the games checkpointed in "
                             "--checkpoint-dir stand")  # fmt: skip
    parser.add_argument("--write", type=Path, default=None,
                        help="also write the table into this markdown file (docs/results.md), "
                             "in place of the one a run wrote there before")  # fmt: skip
    args = parser.parse_args(argv)
    games = [g.strip() for g in args.games.split(",") if g.strip()]
    unknown = [g for g in games if g not in RECIPES]
    if unknown:
        parser.error(f"unknown game(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    if args.report and not args.checkpoint_dir:
        parser.error("--report reads the games of a --checkpoint-dir: name one")
    if args.report:
        rows = [r for g in games if (r := standing(g, args.seed, args.checkpoint_dir))]
        _print(rows, args)
        return
    rows = []
    for game in games:
        rows.append(
            episode(game, steps=args.steps, processes=args.processes, seed=args.seed,
                    checkpoint_dir=args.checkpoint_dir)
        )  # fmt: skip
        if not args.json:
            print(table(rows[-1:]).splitlines()[-1], flush=True)
        if rows[-1]["signal"] is not None:  # Ctrl-C: the checkpoint keeps the game
            print(f"{game}: interrupted after {rows[-1]['steps']:,} decisions", file=sys.stderr)
            break
    _print(rows, args)
    if rows[-1]["signal"] is not None:
        raise SystemExit(128 + rows[-1]["signal"])


if __name__ == "__main__":
    main()
