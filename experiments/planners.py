"""The planners on fight outcomes, in both simulated worlds (issue 13): graph, fmc and mc.

Every run is the synchronous driver (:func:`fom.simulate.sync_match`, the match core ``fom-run``
plays, without the actors) with the fom learner, ``--tips 4``, FMC's default budget, one run per
(world, planner, seed). A run's figures come from the statistics fold (``MatchStats``) over its
records, the fold behind the ``run.finished`` summary:

- kills per tick: encounters ended ``killed`` over the ticks played;
- damage ratio: damage dealt over damage taken (every decision's shot and return fire);
- deaths and time-outs: encounters ended ``died`` and ``timeout``.

Differences are per seed (same seed, same world, same enemies), with 95% t-intervals.
Ablations switch off one part of FMC's model at a time (``ABLATIONS``), to show what each is
worth.

    python -m experiments.planners [--seeds N] [--ablations N] [--jobs N] [--json]
        [--write docs/results.md]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from experiments.fight_bound import bounds
from experiments.sections import splice
from experiments.settings import ABLATION_SEEDS, PLANNER_SEEDS
from experiments.stats import Stat, mean_ci
from experiments.tables import ci, fixed, table
from fom.config import RunConfig
from fom.engines import make_engine
from fom.events.records import TipShot
from fom.events.stats import MatchStats
from fom.level import default_level
from fom.match import initial_store
from fom.planners import FmcPlanner, Planner, make_planner
from fom.simulate import SyncMatch

__all__ = [
    "ABLATIONS",
    "ABLATION_SEEDS",
    "BEGIN",
    "END",
    "METRICS",
    "PLANNERS",
    "SEEDS",
    "WORLD_TICKS",
    "PlannerRun",
    "planners_section",
    "run_planners",
    "splice",
    "summarise",
]

WORLD_TICKS: dict[str, int] = {"dummy": 300, "enhanced": 400}
"""The worlds compared and the ticks of a run in each (the issue's 400 on enhanced)."""
PLANNERS: tuple[str, ...] = ("graph", "fmc", "mc")
SEEDS = PLANNER_SEEDS
"""The comparison's seeds (``experiments.settings``; the ablations run on ``ABLATION_SEEDS``)."""
TIPS, WALKERS, HORIZON = RunConfig().tips, RunConfig().walkers, RunConfig().horizon
"""``fom-run``'s defaults: encounters at once, and FMC's (and MC's) budget."""
ABLATIONS: dict[str, dict[str, Any]] = {
    "fmc before issue 13": {
        "belief": False, "hold": True, "mean_reward": False, "tick_cost": 0.0,
        "flank_penalty": True, "reward_scale": 1.0, "horizon": 8,
    },
    "fmc of the first fix": {"belief": False, "tick_cost": 0.2, "horizon": 8},
    "fmc + drawn transitions": {"belief": False},
    "fmc + drawn rewards": {"belief": False, "mean_reward": False},
    "fmc + holding fire": {"hold": True},
    "fmc, tick cost 0.2": {"tick_cost": 0.2},
    "fmc - tick cost": {"tick_cost": 0.0},
    "fmc, horizon 8": {"horizon": 8},
    "fmc + flank penalty": {"flank_penalty": True},
    "fmc, reward_scale 1": {"reward_scale": 1.0},
}  # fmt: skip
"""FMC as it was before issue 13, as the first fix left it (mean rewards over drawn transitions,
tick cost 0.2, horizon 8), and FMC with one part of its model undone at a time (keyword
arguments of FmcPlanner)."""
BEGIN, END = "<!-- planners:begin -->", "<!-- planners:end -->"
DIAGNOSIS: list[str] = [
    "Why FMC lost to the graph planner, and what changed (`fom/planning.py`; the row `fmc "
    "before issue 13` is the old model, replayed exactly, `fmc of the first fix` the model of "
    "the first round of fixes below, and the other `fmc ...` rows undo one change each):",
    "",
    "- **Its decisions were noise.** A walker's reward was the drawn outcome of each tick: a "
    "hit or a miss (30-40 health), the enemy's shot or not (18-25). Between two moves the "
    "expected difference is a few health points a tick, far below that noise, so 32 walkers x "
    "8 ticks could not tell the moves apart (row `fmc + drawn rewards`). The first fix paid a "
    "walker the *mean* outcome of its tick (`fom.rules.expected_tick`) while the draws still "
    "moved it.",
    "- **Its kill speed was noise too.** With the draws moving the walkers, whether and when "
    "the enemy fell in a walker's future was still the luck of its shots, so the price of a "
    "tick (paid while the enemy is up) ranked walkers by luck: in a tuning sweep (seeds "
    "100..129, not the seeds below) raising it from 0.2 to 5 did not change FMC's kills per "
    "tick, which stayed about 1.1% below the graph planner's. Now a walker carries the "
    "*chances* of each count of hits landed and its mean health, and a step has no draw "
    "(`belief`, the default): a path of moves has one value, its exact expected outcome, and "
    "replanning every tick reacts to the shots that really land (row `fmc + drawn "
    "transitions`: the first fix's transitions, everything else as now).",
    "- **It held fire about a quarter of the time.** Half its actions were 'hold'; a shot "
    "costs nothing the fight counts (50 rounds outlast the 12-tick time-out), so holding is "
    "dominated, but at this budget the mode of the root actions often landed on one. The "
    "actions are now the moves; every tick fires, as the graph planner does (row `fmc + "
    "holding fire`).",
    "- **It counted exposure twice and had no reason to hurry.** The reward subtracted "
    "`flank_bias x exposure` on top of the return fire the model already simulates at that "
    "exposure, and nothing in it valued finishing sooner: FMC stood far off in cover, its "
    "accuracy fell with the range, and fights ran into the time-out. Now the reward is the "
    "fight's outcome (health removed - health lost, a kill and a death each worth 1) minus a "
    "tick cost times the chance the enemy is still up, and the flank bias stays the graph "
    "planner's edge weight (row `fmc + flank penalty`).",
    "- **Once the model sees the price of a tick, the price sets the trade** between kill speed "
    "and damage: `TICK_COST` = 2 (kill speed first, damage the tie-break) against 0.2 (rows "
    "`fmc, tick cost 0.2`, `fmc - tick cost`); the horizon went from 8 to 12 ticks, an "
    "encounter's time-out (row `fmc, horizon 8`). Both were chosen on the tuning seeds.",
    "- The swarm weighs reward over spread a little more (`reward_scale` 3, "
    "`fom.planners.REWARD_SCALE`, row `fmc, reward_scale 1`). The shared parts held: the "
    "walkers' steps play `fom.rules` as the engine does, and a belief step is the mean of the "
    "drawn steps (tests/fom/test_rules.py, tests/fom/test_planning.py); the decision is the "
    "most populated root action. `mc` plans over the same model at the same budget.",
    "- **Deaths are rare, so the comparison needs many seeds.** About one encounter in 150 ends "
    "in a death in `dummy`, and the planners differ by a fraction of a death a run against a "
    "per-seed spread of about 0.7: on seeds 0..59 `dummy` deaths were 0.35 for fmc against "
    "0.48 for graph, a per-seed difference of -0.13 [-0.32, +0.05], which 60 seeds cannot tell "
    "from noise. The comparison below runs on 240 seeds that no tuning used (200..439); the "
    "ablations, whose differences are large, stay on 0..59.",
    "",
]
"""The diagnosis, written once here so results.md regenerates it with its tables."""
"""Markers around this section of results.md (``--write`` replaces what lies between them)."""


@dataclass(frozen=True, slots=True)
class PlannerRun:
    """The fight outcomes of one run."""

    world: str
    planner: str
    seed: int
    ticks: int
    kills: int
    deaths: int
    timeouts: int
    encounters: int
    damage_dealt: float
    damage_taken: float
    accuracy: float
    fired: float
    """Fraction of decisions (TIP ticks) that fired."""
    distance: float
    """Mean distance to the enemy after the move, over decisions (m)."""
    exposure: float
    """Mean exposure of the node stood on after the move, over decisions."""

    @property
    def kills_per_tick(self) -> float:
        """Kills over ticks played."""
        return self.kills / self.ticks

    @property
    def damage_ratio(self) -> float:
        """Damage dealt over damage taken."""
        return self.damage_dealt / self.damage_taken if self.damage_taken else float("inf")


METRICS: dict[str, tuple[str, Callable[[PlannerRun], float], int, bool]] = {
    "kills_per_tick": ("Kills per tick", lambda r: r.kills_per_tick, 4, True),
    "damage_ratio": ("Damage dealt / taken", lambda r: r.damage_ratio, 3, True),
    "deaths": ("Deaths per run", lambda r: float(r.deaths), 2, False),
    "timeouts": ("Time-outs per run", lambda r: float(r.timeouts), 2, False),
}
"""name: (column title, value of a run, decimals, whether higher is better)."""


def _planner(name: str) -> Planner:
    """A planner of the comparison by name: a registered one, or an FMC ablation."""
    if name in ABLATIONS:
        return FmcPlanner(**({"walkers": WALKERS, "horizon": HORIZON} | ABLATIONS[name]))
    return make_planner(name, walkers=WALKERS, horizon=HORIZON)


def play(task: tuple[str, str, int]) -> PlannerRun:
    """One run of ``planner`` in ``world`` with ``seed`` (the synchronous driver)."""
    world, planner, seed = task
    ticks = WORLD_TICKS[world]
    stats = MatchStats()
    shots: list[TipShot] = []

    def listen(record: object) -> None:
        stats.fold(record)
        if isinstance(record, TipShot):
            shots.append(record)

    config = RunConfig(ticks=ticks, tips=TIPS, seed=seed, world=world, quiet=True).validate()
    SyncMatch(
        make_engine(world, seed, TIPS), seed=seed, tips=TIPS, learner=config.learner,
        planner=_planner(planner), store=initial_store(config.learner, config.merge_rate),
        ticks=ticks, listener=listen,
    ).play()  # fmt: skip
    s = stats.summary(0.0)
    level = default_level()
    distance = [level.distance[r.self_node, r.enemy_node] for r in shots]
    return PlannerRun(
        world, planner, seed, ticks, s.kills, s.deaths, s.timeouts, s.encounters,
        s.damage_dealt, s.damage_taken, s.accuracy or 0.0,
        float(np.mean([r.fired for r in shots])), float(np.mean(distance)), s.exposure,
    )  # fmt: skip


def run_planners(
    seeds: Sequence[int],
    planners: Sequence[str] = PLANNERS,
    jobs: int = 1,
    worlds: Sequence[str] = tuple(WORLD_TICKS),
) -> dict[tuple[str, str], list[PlannerRun]]:
    """Every (world, planner) over every seed; runs in seed order per (world, planner)."""
    tasks = [(w, p, s) for w in worlds for p in planners for s in seeds]
    if jobs > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            runs = list(pool.map(play, tasks, chunksize=4))
    else:
        runs = [play(t) for t in tasks]
    out: dict[tuple[str, str], list[PlannerRun]] = {}
    for r in runs:
        out.setdefault((r.world, r.planner), []).append(r)
    return out


def _stat_dict(st: Stat) -> dict[str, float]:
    return {"mean": st.mean, "lo": st.lo, "hi": st.hi}


def _paired(a: list[PlannerRun], b: list[PlannerRun], fn: Callable[[PlannerRun], float]) -> Stat:
    """Mean and 95% interval of the per-seed difference fn(a) - fn(b)."""
    by_seed = {r.seed: r for r in b}
    return mean_ci(fn(r) - fn(by_seed[r.seed]) for r in a if r.seed in by_seed)


def summarise(runs: dict[tuple[str, str], list[PlannerRun]]) -> dict[str, Any]:
    """Per world: each planner's metrics (mean, 95% interval) and fmc's per-seed differences
    against each other planner (a JSON-ready dict)."""
    out: dict[str, Any] = {}
    for world in dict.fromkeys(w for w, _ in runs):
        planners = [p for w, p in runs if w == world]
        entry: dict[str, Any] = {}
        for p in planners:
            entry[p] = {
                m: _stat_dict(mean_ci(fn(r) for r in runs[world, p]))
                for m, (_, fn, _, _) in METRICS.items()
            }
            entry[p]["seeds"] = len(runs[world, p])
        if "fmc" in planners:
            for p in planners:
                if p != "fmc":
                    entry[f"fmc_minus_{p}"] = {
                        m: _stat_dict(_paired(runs[world, "fmc"], runs[world, p], fn))
                        for m, (_, fn, _, _) in METRICS.items()
                    }
        out[world] = entry
    return out


def _verdict(st: Stat, higher_better: bool) -> str:
    """better / worse / no different, from the 95% interval of a difference."""
    if st.lo > 0 or st.hi < 0:
        return "better" if (st.lo > 0) == higher_better else "worse"
    return "no different"


Runs = dict[tuple[str, str], list[PlannerRun]]


def _span(seeds: Sequence[int]) -> str:
    return f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} seeds)"


def _summary_rows(runs: Runs) -> list[tuple[str, ...]]:
    """Per (world, planner): each metric's mean [95% interval] across seeds."""
    return [
        (world, planner, *(
            ci(mean_ci(fn(r) for r in rs), fixed(d)) for _, fn, d, _ in METRICS.values()
        ))
        for (world, planner), rs in runs.items()
    ]  # fmt: skip


def _fight_rows(runs: Runs) -> list[tuple[str, ...]]:
    """Per (world, planner): fired, accuracy, distance and exposure (means across seeds)."""
    return [
        (world, planner, f"{np.mean([r.fired for r in rs]):.1%}",
         f"{np.mean([r.accuracy for r in rs]):.1%}", f"{np.mean([r.distance for r in rs]):.1f} m",
         f"{np.mean([r.exposure for r in rs]):.3f}")
        for (world, planner), rs in runs.items()
    ]  # fmt: skip


def _difference_rows(runs: Runs) -> tuple[list[tuple[str, ...]], list[str]]:
    """fmc minus every other planner, per world and metric, with verdicts; and the one-line
    summaries of fmc against the planners of the comparison (``PLANNERS``)."""
    rows, short = [], []
    for world in dict.fromkeys(w for w, _ in runs):
        if (world, "fmc") not in runs:
            continue
        for other in (p for w, p in runs if w == world and p != "fmc"):
            cells, verdicts = [], {}
            for title, fn, d, higher in METRICS.values():
                st = _paired(runs[world, "fmc"], runs[world, other], fn)
                verdicts[title.lower()] = verdict = _verdict(st, higher)
                cells.append(f"{ci(st, fixed(d, signed=True))} ({verdict})")
            rows.append((world, f"fmc - {other}", *cells))
            if other in PLANNERS:
                short.append(f"`{world}`, fmc against {other}: " + "; ".join(
                    f"{v} on {', '.join(m for m, x in verdicts.items() if x == v)}"
                    for v in ("better", "no different", "worse") if v in verdicts.values()
                ))  # fmt: skip
    return rows, short


def _per_seed_lines(runs: Runs, seeds: Sequence[int]) -> list[str]:
    """Every run's figures, a table per world."""
    lines = ["Per seed (kills per tick, damage ratio, deaths, time-outs):", ""]
    for world in dict.fromkeys(w for w, _ in runs):
        planners = [p for w, p in runs if w == world]
        by = {p: {r.seed: r for r in runs[world, p]} for p in planners}
        head = ("Seed", *(f"{p}: kills/tick, ratio, deaths, time-outs" for p in planners))
        body = [
            (str(s), *(
                f"{by[p][s].kills_per_tick:.4f}, {by[p][s].damage_ratio:.3f}, "
                f"{by[p][s].deaths}, {by[p][s].timeouts}" for p in planners
            ))
            for s in seeds
        ]  # fmt: skip
        lines += [f"`{world}`:", "", *table(head, body), ""]
    return lines


def planners_section(
    runs: Runs,
    seeds: Sequence[int],
    command: str,
    ablations: Runs | None = None,
    ablation_seeds: Sequence[int] = (),
) -> list[str]:
    """The Markdown section: the comparison per world (``runs`` over ``seeds``), fmc's
    differences, the ablations (fmc and its variants over ``ablation_seeds``), per-seed
    figures of the comparison."""
    header = ("World", "Planner", *(title for title, _, _, _ in METRICS.values()))
    fights = ("World", "Planner", "Fired", "Accuracy", "Distance", "Exposure")
    lines = [
        BEGIN,
        "## Planners on fight outcomes, both worlds (issue 13)",
        "",
        f"Generated by `{command}` (the synchronous driver, `fom.simulate.sync_match`: the "
        f"match core `fom-run` plays). The fom learner, `--tips {TIPS}`, {WALKERS} walkers x "
        f"horizon {HORIZON} for fmc and mc (the same walker-step budget); "
        + ", ".join(f"`{w}` {t} ticks" for w, t in WORLD_TICKS.items())
        + f". The comparison of {', '.join(PLANNERS)} runs on {_span(seeds)}"
        + (f", the ablations on {_span(ablation_seeds)}" if ablations else "")
        + ". Mean [95% t-interval] across seeds; differences are per seed.",
        "",
    ]
    lines += [*DIAGNOSIS, *_bound_lines(runs), ""]
    lines += [*table(header, _summary_rows(runs)), ""]
    lines += ["How they fight: fraction of decisions that fired, accuracy, mean distance to the "
              "enemy and mean exposure after the move (means across seeds):", ""]  # fmt: skip
    lines += [*table(fights, _fight_rows(runs)), ""]
    rows, short = _difference_rows(runs)
    lines += ["Per-seed differences (better / worse: the 95% interval excludes 0):", ""]
    lines += [*table(("World", "Difference", *header[2:]), rows), ""]
    lines += ["In short:", "", *(f"- {s}." for s in short), ""]
    if ablations:
        lines += [f"The ablations, each against fmc on the same {_span(ablation_seeds)}:", ""]
        lines += [*table(header, _summary_rows(ablations)), ""]
        lines += [*table(fights, _fight_rows(ablations)), ""]
        lines += [*table(("World", "Difference", *header[2:]), _difference_rows(ablations)[0])]
        lines.append("")
    lines += _per_seed_lines(runs, seeds)
    lines.append(END)
    return lines


def _bound_lines(runs: Runs) -> list[str]:
    """The paragraph on the kill-speed bound (``experiments.fight_bound``) per world, and the
    time-outs counted in ``runs``."""
    worlds = tuple(dict.fromkeys(w for w, _ in runs))
    parts = []
    for world, (fastest, graph) in bounds(worlds).items():
        parts.append(
            f"`{world}`: {graph:.3f} expected ticks per kill for the graph planner's walk, "
            f"{fastest:.3f} for the fastest policy ({graph / fastest - 1:+.1%})"
        )
    timeouts = "; ".join(
        f"`{world}` " + ", ".join(
            f"{planner} {sum(r.timeouts for r in rs)}" for (w, planner), rs in runs.items()
            if w == world
        )
        for world in worlds
    )  # fmt: skip
    return [
        "",
        "How much faster any planner could kill: in `dummy` kills are bounded by the spawns (an "
        "enemy every other tick; every planner kills nearly all). In both worlds the graph "
        "planner's straight walk at the enemy is close to the fastest policy the rules allow "
        "(exact dynamic programme over the level, `experiments.fight_bound`, aim learned, the "
        "bot never dying): "
        + "; ".join(parts)
        + ". So on kills per tick a planner can beat the graph planner by about 1% at most, and "
        "every tick it spends reaching cover comes out of that margin. Time-outs are rare for "
        f"every planner (encounters timed out, all seeds together: {timeouts}).",
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; print its table (or JSON) and optionally write it into results.md."""
    parser = argparse.ArgumentParser(prog="python -m experiments.planners", description=__doc__)
    parser.add_argument(
        "--seeds",
        type=int,
        default=len(SEEDS),
        help=f"the first N of the seeds {SEEDS[0]}.. (default {len(SEEDS)}, as in results.md)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument(
        "--ablations",
        type=int,
        default=0,
        metavar="N",
        help="also run FMC's ablations on seeds 0..N-1 (default 0: not run)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--write", type=Path, help="write the section into this results.md")
    args = parser.parse_args(argv)
    if args.seeds < 2 or args.jobs < 1 or args.ablations < 0 or args.ablations == 1:
        print("--seeds must be >= 2, --ablations 0 or >= 2, --jobs >= 1", file=sys.stderr)
        return 2
    seeds = tuple(range(SEEDS[0], SEEDS[0] + args.seeds))
    runs = run_planners(seeds, PLANNERS, jobs=args.jobs)
    ablation_seeds = tuple(range(args.ablations))
    ablations = None
    if args.ablations:
        ablations = run_planners(ablation_seeds, ("fmc", *ABLATIONS), jobs=args.jobs)
    command = "python -m experiments.planners" + "".join(
        f" {flag}" for flag, on in (
            (f"--seeds {args.seeds}", args.seeds != len(SEEDS)),
            (f"--ablations {args.ablations}", bool(args.ablations)),
            (f"--write {args.write}", args.write is not None),
        ) if on
    )  # fmt: skip
    section = planners_section(runs, seeds, command, ablations, ablation_seeds)
    if args.write is not None:
        splice(args.write, section)
    if args.json:
        print(json.dumps(summarise(runs), indent=2))
    else:
        print("\n".join(section[1:-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
