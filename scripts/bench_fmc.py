"""FMC throughput and quality, each against its baseline, measured in one run.

    python scripts/bench_fmc.py [--quick] [--json] [--skip-episode] [--sim-only]
                                [--episode-only] [--episode-steps N] [--episode-processes P]

(a) walker-steps/s of ``plan_batch`` on the simulated world (encounters), at 64, 1024 and
    16,384 walkers (blocks of 64 walkers, one block per encounter planned together), with one
    Generator for the batch and with RowStreams keyed by (seed, encounter, tick) as the walker
    pool plans;
(b) on Atari (Pong, Boxing): FMC's walker-steps/s against a bare loop of restoreState + act +
    cloneState (+ reading the RAM) over as many independent states as FMC has walkers, on the
    same game from the same state (best of interleaved rounds);
(c) FMC against MonteCarlo (random shooting) at equal budgets on the test worlds and on
    Boxing: mean score with a 95% interval over seeds;
(d) one full Boxing episode as ``fom-fmc`` plays it with the adaptive budget at most 100
    samples per step, walkers stepped in 2 processes: score, samples per step, wall and CPU
    time (``boxing_episode`` in the JSON; ``--skip-episode``, ``--episode-only``).
(e) the planners on fight outcomes in both simulated worlds (``experiments.planners``): kills per
    tick, damage dealt / taken, deaths and time-outs of graph, fmc and mc, means with 95%
    intervals over seeds, and fmc's per-seed differences (``--skip-planners`` leaves it out).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fom.engines.atari import AtariSimulator
from fom.fmc import FractalMonteCarlo, HorizonPlanner, MonteCarlo, plan_batch
from fom.level import default_level
from fom.planning import EncounterRoot, EncounterSimulator
from fom.streams import RowStreams, plan_keys
from fom.testing_worlds import Corridor, TrapGrid, VectorWorld, play_episodes


def _ci95(x: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of a normal 95% interval."""
    mean = float(np.mean(x))
    half = 1.96 * float(np.std(x, ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else 0.0
    return mean, half


# ------------------------------------------------------------------------------- (a) sim


def sim_rate(
    rows: int, walkers: int = 64, horizon: int = 8, repeats: int = 3, streams: bool = False
) -> float:
    """Walker-steps per second of plan_batch over rows // walkers encounters (best of repeats).

    ``streams``: draw from RowStreams (made inside the timed part, as the walker pool does).
    """
    level = default_level()
    groups = rows // walkers
    roots = [
        EncounterRoot(["shotgun", "rocket", "railgun"][g % 3], g % level.n, 100.0,
                      (g + 4) % level.n, 100.0, 0.5)
        for g in range(groups)
    ]  # fmt: skip
    best = 0.0
    for r in range(repeats):
        sim = EncounterSimulator(level, roots, walkers)
        start = time.perf_counter()
        rng: Any = r
        if streams:
            keys = plan_keys(r, np.arange(groups), np.full(groups, 100))
            rng = RowStreams.for_groups(keys, walkers)
        decisions = plan_batch(sim, groups, walkers, horizon, rng=rng)
        elapsed = time.perf_counter() - start
        best = max(best, sum(d.samples for d in decisions) / elapsed)
    return best


# ------------------------------------------------------------------------------- (e) planners


def planners_vs(seeds: int) -> dict[str, Any]:
    """graph, fmc and mc on fight outcomes per world (``experiments.planners.summarise``), on
    the first ``seeds`` of the comparison's seeds."""
    from experiments.planners import SEEDS, run_planners, summarise

    return summarise(run_planners(SEEDS[:seeds], jobs=2))


# ------------------------------------------------------------------------------- (b) atari


def atari_rates(
    game: str, walkers: int, horizon: int, decisions: int, rounds: int = 3
) -> dict[str, float]:
    """FMC's walker-steps/s and the bare loop's, best of interleaved rounds.

    The bare loop does what FMC cannot avoid, with the same access pattern: ``walkers``
    independent emulator states, each step restoring one, acting, reading its RAM and cloning
    it back; FMC adds choosing actions, distances, virtual rewards and cloning walkers.
    """
    sim = AtariSimulator(game, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(60):  # into the game, away from the title frames
        sim.act(int(rng.integers(sim.n_actions)))
    start_state = sim.export_root()
    ale = sim.ale
    actions = list(ale.getMinimalActionSet())
    ram = np.empty(128, dtype=np.uint8)
    best_fmc = best_bare = best_adaptive = 0.0
    for r in range(rounds):
        sim.import_root(start_state)
        samples = 0
        t0 = time.perf_counter()
        for i in range(decisions):
            d = FractalMonteCarlo(sim, walkers=walkers, horizon=horizon, seed=[r, i]).decide()
            samples += d.samples
        best_fmc = max(best_fmc, samples / (time.perf_counter() - t0))

        sim.import_root(start_state)  # the adaptive budget (fom-fmc's default), one process
        planner = HorizonPlanner(sim, walkers, horizon, walkers * horizon)
        adaptive = 0
        t0 = time.perf_counter()
        for i in range(decisions):
            adaptive += planner.decide([r, i]).samples
        best_adaptive = max(best_adaptive, adaptive / (time.perf_counter() - t0))

        sim.import_root(start_state)
        states = [ale.cloneState(include_rng=True)] * walkers
        picks = rng.integers(len(actions), size=(samples // walkers, walkers)).tolist()
        t0 = time.perf_counter()
        for row in picks:
            for w, a in enumerate(row):
                ale.restoreState(states[w])
                ale.act(actions[a])
                ale.getRAM(ram)
                states[w] = ale.cloneState(include_rng=True)
        best_bare = max(best_bare, len(picks) * walkers / (time.perf_counter() - t0))
    return {"fmc": best_fmc, "bare": best_bare, "ratio": best_fmc / best_bare,
            "fmc_adaptive": best_adaptive, "ratio_adaptive": best_adaptive / best_bare}  # fmt: skip


# ------------------------------------------------------------------------------- (c) quality


def _decider(
    planner: type, world: VectorWorld, walkers: int, horizon: int, seed: int
) -> Callable[[], list[Any]]:
    """A ``decide()`` for play_episodes: one fresh plan per step, seeded by (seed, step)."""
    steps = iter(range(1 << 30))

    def decide() -> list[Any]:
        plan = planner(world, walkers=walkers, horizon=horizon, seed=[seed, next(steps)])
        return [plan.decide().action]

    return decide


def worlds_vs(world_cls: type[VectorWorld], seeds: int, walkers: int, horizon: int,
              steps: int) -> dict[str, Any]:  # fmt: skip
    """FMC and MonteCarlo, equal budgets, one episode per seed."""
    fmc_scores, mc_scores = [], []
    for seed in range(seeds):
        for planner, scores in ((FractalMonteCarlo, fmc_scores), (MonteCarlo, mc_scores)):
            world = world_cls()
            decide = _decider(planner, world, walkers, horizon, seed)
            scores.append(float(play_episodes(world, decide, steps)[0]))
    fmc_mean, fmc_ci = _ci95(np.array(fmc_scores))
    mc_mean, mc_ci = _ci95(np.array(mc_scores))
    return {"fmc": fmc_mean, "fmc_ci95": fmc_ci, "mc": mc_mean, "mc_ci95": mc_ci,
            "budget": walkers * horizon, "seeds": seeds, "steps": steps}  # fmt: skip


def boxing_vs(seeds: int, walkers: int, horizon: int, steps: int) -> dict[str, Any]:
    """FMC and MonteCarlo on Boxing: score after ``steps`` decisions, equal budgets."""
    out: dict[str, list[float]] = {"fmc": [], "mc": []}
    for seed in range(seeds):
        for name, planner in (("fmc", FractalMonteCarlo), ("mc", MonteCarlo)):
            sim = AtariSimulator("boxing", seed=seed)
            for i in range(steps):
                if sim.game_over:
                    break
                d = planner(sim, walkers=walkers, horizon=horizon, seed=[seed, i]).decide()
                sim.act(int(d.action))
            out[name].append(sim.score)
    fmc_mean, fmc_ci = _ci95(np.array(out["fmc"]))
    mc_mean, mc_ci = _ci95(np.array(out["mc"]))
    return {"fmc": fmc_mean, "fmc_ci95": fmc_ci, "mc": mc_mean, "mc_ci95": mc_ci,
            "budget": walkers * horizon, "seeds": seeds, "steps": steps}  # fmt: skip


# ------------------------------------------------------------------------------- (d) episode


def boxing_episode(steps: int | None = None, processes: int = 2, seed: int = 0) -> dict[str, Any]:
    """One Boxing episode (until the game ends, or ``steps`` decisions) as ``fom-fmc`` plays it,
    with the recipe of ``scripts/bench_atari.py`` (adaptive budget, at most 100 samples/step)."""
    from bench_atari import episode  # the sibling script (scripts/ is on sys.path)

    return episode("boxing", steps=steps, processes=processes, seed=seed)


def _episode(r: dict[str, Any], args: argparse.Namespace, say: Callable[..., None]) -> None:
    """Run (d) into ``r["boxing_episode"]`` and say it."""
    steps = args.episode_steps if args.episode_steps is not None else (60 if args.quick else None)
    r["boxing_episode"] = e = boxing_episode(steps, args.episode_processes)
    end = "game over" if e["game_over"] else "capped"
    say(f"(d) one Boxing episode, fom-fmc {e['settings']}, {e['cores']} processes: score "
        f"{e['score']:g} in {e['steps']} decisions ({end}), {e['samples_per_step']:.1f} "
        f"samples/step, wall {e['wall_s']:.1f} s, CPU {e['cpu_s']:.1f} s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Run the four parts and print tables (or one JSON object)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (a smoke run)")
    parser.add_argument("--skip-episode", action="store_true", help="skip (d), a full episode")
    parser.add_argument("--episode-only", action="store_true",
                        help="only (d), the Boxing episode (about a minute of 2 cores)")
    parser.add_argument("--episode-steps", type=int, default=None,
                        help="cap (d) at this many decisions (default: the whole episode)")
    parser.add_argument("--episode-processes", type=int, default=2,
                        help="processes stepping the walkers in (d) (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sim-only", action="store_true", help="only (a) and (e), simulated")
    parser.add_argument("--skip-planners", action="store_true", help="skip (e), the planners")
    parser.add_argument("--planner-seeds", type=int, help="seeds of (e) (default 240, quick 5)")
    args = parser.parse_args(argv)
    q = args.quick
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    r: dict[str, Any] = {}

    if args.episode_only:
        _episode(r, args, say)
        if args.json:
            print(json.dumps(r, indent=2))
        return

    sizes = (64, 1024, 16_384)
    r["sim_walker_steps_per_s"] = {str(n): sim_rate(n) for n in sizes}
    r["sim_row_streams_walker_steps_per_s"] = {str(n): sim_rate(n, streams=True) for n in sizes}
    say("(a) simulated world, plan_batch (64 walkers per encounter, horizon 8), walker-steps/s")
    say(f"    {'walkers':>7} {'Generator':>12} {'RowStreams':>12}")
    for n, rate in r["sim_walker_steps_per_s"].items():
        rows = r["sim_row_streams_walker_steps_per_s"][n]
        say(f"    {int(n):7d} {rate:12,.0f} {rows:12,.0f}")
    if not args.skip_planners:
        r["planners"] = planners_vs(args.planner_seeds or (5 if q else 240))
        say("(e) planners on fight outcomes (fom learner, --tips 4, 32 walkers x horizon 12)")
        for world, entry in r["planners"].items():
            for name in ("graph", "fmc", "mc"):
                m = entry[name]
                say(
                    f"    {world:8} {name:5} kills/tick {m['kills_per_tick']['mean']:.4f}  "
                    f"dealt/taken {m['damage_ratio']['mean']:.3f}  "
                    f"deaths {m['deaths']['mean']:.2f}  time-outs {m['timeouts']['mean']:.2f}"
                )
    if args.sim_only:
        if args.json:
            print(json.dumps(r, indent=2))
        return

    r["atari"] = {g: atari_rates(g, 32, 10, 3 if q else 10) for g in ("pong", "boxing")}
    r["atari_ratio"] = {g: v["ratio"] for g, v in r["atari"].items()}
    r["atari_ratio_adaptive"] = {g: v["ratio_adaptive"] for g, v in r["atari"].items()}
    say("(b) Atari, FMC (32 walkers, horizon 10) vs bare restore+act+clone loop")
    for g, v in r["atari"].items():
        say(f"    {g:8} FMC {v['fmc']:8,.0f}/s  bare {v['bare']:8,.0f}/s  ratio {v['ratio']:.2f}"
            f"   adaptive FMC {v['fmc_adaptive']:8,.0f}/s  ratio {v['ratio_adaptive']:.2f}")

    seeds = 5 if q else 20
    r["fmc_vs_mc"] = {
        "corridor": worlds_vs(Corridor, seeds, 64, 15, 40),
        "trapgrid": worlds_vs(TrapGrid, seeds, 64, 25, 40),
        "boxing": boxing_vs(2 if q else 5, 16, 8, 20 if q else 150),
    }
    say("(c) FMC vs MonteCarlo at equal budgets (mean score, 95% interval over seeds)")
    say(f"    {'environment':12} {'budget':>7} {'seeds':>5} {'FMC':>16} {'MonteCarlo':>16}")
    for env, v in r["fmc_vs_mc"].items():
        say(f"    {env:12} {v['budget']:7d} {v['seeds']:5d} {v['fmc']:8.1f} ± {v['fmc_ci95']:5.1f}"
            f" {v['mc']:8.1f} ± {v['mc_ci95']:5.1f}")  # fmt: skip

    if not args.skip_episode:
        _episode(r, args, say)
    if args.json:
        print(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
