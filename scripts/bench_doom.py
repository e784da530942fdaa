"""FOM on ViZDoom against bare ViZDoom, measured in one run; prints rates and ratios.

    python scripts/bench_doom.py [--ticks 1500] [--scenario deadly_corridor] [--json]

Keys:
- ``engine_ratio``: decisions per second of ``fom-run --world doom:<scenario>`` (one floor, the
  graph planner, the whole actor system: World, Perception, CoreAgent, TIPs, ULP) over a bare
  ViZDoom loop set up as the engine sets up its games (160x120 gray screen, objects info, no
  sectors' info: the engine reads the map once, from a game of its own; the same buttons),
  random actions, the same frame skip, reading the state after every
  decision (target >= 0.7); ``engine_only_ratio``: the doom engine alone (a scripted bot
  through ``resolve_tick``, no actors) over the same bare loop;
  ``engine_ratio_vs_shared_cpu_bare``: fom-run over the bare loop given the engine's own
  placement (each decision's game and thread on one CPU, fom/engines/doom/affinity.py), which
  speeds the bare loop more than the engine: the fairer ratio;
- ``floors_speedup``: decisions per second of all floors with ``--floors 2`` over one floor
  (each floor a ViZDoom game; floor 0 driven from the run's process, floor 1 from a worker
  process of its own; target >= 1.6 on 2 idle cores);
- ``fmc_engine_walker_steps_per_s``: FMC over the real game (save, load, a decision's tics per
  walker-step), the ``fmc-engine`` planner.

Each rate is measured ``--rounds`` times (default 3), the rounds one after the other, and every
key is the median over rounds; a ratio is taken within each round (a rate over the baseline
measured beside it) and ``<key>_range`` gives its lowest and highest round.

Timings depend on the machine's load: run it on an idle machine for figures to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from fom.app import run
from fom.config import RunConfig
from fom.engines.doom import DoomEngine, resolve_scenario
from fom.engines.doom.affinity import SharedCpu
from fom.engines.doom.fmc_engine import FmcEnginePlanner
from fom.engines.doom.game import start_game
from fom.engines.doom.reaper import game_pid
from fom.engines.doom.scenarios import vizdoom_module
from fom.planners import PlanProblem


def bare_loop(
    scenario: str, decisions: int, frame_skip: int, seed: int, shared_cpu: bool = False
) -> float:
    """Decisions per second of a bare ViZDoom loop with the engine's buffers and frame skip
    (``shared_cpu``: each decision with the game and this thread on one CPU, as the engine
    plays them)."""
    vzd = vizdoom_module()
    tmp = Path(tempfile.mkdtemp(prefix="fom-bench-doom-"))
    stray = Path.cwd() / "_vizdoom"  # ViZDoom makes it in the working directory
    ours = not stray.exists()
    game, _ = start_game(vzd, resolve_scenario(scenario), tmp / "_vizdoom.ini")  # the engine's
    pair = SharedCpu(game_pid(tmp / "_vizdoom.ini") if shared_cpu else None)
    game.set_seed(seed)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-10, 10, size=(decisions, 4))
    actions[:, 0] = actions[:, 0] > 0
    try:
        game.new_episode()
        t0 = time.perf_counter()
        for a in actions.tolist():
            with pair:
                game.make_action(a, frame_skip)
                if game.is_episode_finished():
                    game.new_episode()
            state = game.get_state()
            _ = (state.game_variables, state.objects)
        return decisions / (time.perf_counter() - t0)
    finally:
        game.close()
        shutil.rmtree(tmp, ignore_errors=True)
        if ours:
            with contextlib.suppress(OSError):
                stray.rmdir()


def engine_rate(scenario: str, decisions: int, frame_skip: int, seed: int) -> float:
    """Decisions per second of the doom engine alone: the scripted bot through resolve_tick."""
    from fom.match import Act, resolve_tick

    engine = DoomEngine(scenario, seed, frame_skip=frame_skip)
    try:
        t0 = time.perf_counter()
        for tick in range(decisions):
            acts = []
            for o in engine.observe().opponents:
                me = engine.projection(o.id)
                path = engine.level.shortest_path(me.node, o.node, 0.0)
                acts.append(Act(o.id, tick, path[min(1, len(path) - 1)], 0.0, True))
            resolve_tick(engine, tick, acts)
        return decisions / (time.perf_counter() - t0)
    finally:
        engine.shutdown()


def fom_rate(scenario: str, ticks: int, floors: int, frame_skip: int, seed: int) -> float:
    """Body decisions per second (ticks x floors over wall time) of a fom-run on doom."""
    config = RunConfig(world=f"doom:{scenario}", ticks=ticks, planner="graph", quiet=True,
                       floors=floors, frame_skip=frame_skip, seed=seed)  # fmt: skip
    result = run(config)
    return result.summary.ticks * floors / result.summary.wall_s


def fmc_engine_rate(scenario: str, walkers: int, horizon: int, plans: int, seed: int) -> float:
    """Walker-steps per second of FMC over the real game."""
    engine = DoomEngine(scenario, seed)
    try:
        planner = FmcEnginePlanner(walkers=walkers, horizon=horizon)
        planner.bind(engine)
        done = 0
        for tick in range(400):
            view = engine.observe()
            if view.opponents and done < plans:
                o = view.opponents[0]
                me = engine.projection(o.id)
                problem = PlanProblem(o.id, tick, o.weapon, me.node, me.health, o.node,
                                      o.health, 0.0, 0.0)  # fmt: skip
                planner.plan(engine.level, [problem], seed)
                done += 1
            engine.advance()
            if done >= plans:
                break
        return planner.walker_steps_per_s
    finally:
        engine.shutdown()


def measure_round(args: argparse.Namespace) -> dict[str, float]:
    """Every rate once, and the ratios within this round: the machine's pace drifts between
    rounds (the bare loop by up to 18% between series here), so a ratio pairs a rate with the
    baseline measured beside it, and the medians of the rounds are reported."""
    bare = bare_loop(args.scenario, args.ticks, args.frame_skip, args.seed)
    bare_shared = bare_loop(args.scenario, args.ticks, args.frame_skip, args.seed, True)
    alone = engine_rate(args.scenario, args.ticks, args.frame_skip, args.seed)
    one = fom_rate(args.scenario, args.ticks, 1, args.frame_skip, args.seed)
    two = fom_rate(args.scenario, args.ticks, 2, args.frame_skip, args.seed)
    return {
        "bare_decisions_per_s": bare,
        "fom_decisions_per_s": one,
        "engine_ratio": one / bare,
        "bare_shared_cpu_decisions_per_s": bare_shared,
        "engine_ratio_vs_shared_cpu_bare": one / bare_shared,
        "engine_only_decisions_per_s": alone,
        "engine_only_ratio": alone / bare,
        "fom_two_floors_decisions_per_s": two,
        "floors_speedup": two / one,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="deadly_corridor")
    parser.add_argument("--ticks", type=int, default=1500, help="decisions per measured run")
    parser.add_argument("--frame-skip", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plans", type=int, default=3, help="fmc-engine plans to time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every rate (medians)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    rounds = [measure_round(args) for _ in range(args.rounds)]
    fmc = fmc_engine_rate(args.scenario, 8, 4, args.plans, args.seed)
    out: dict[str, object] = {"scenario": args.scenario, "frame_skip": args.frame_skip,
                              "rounds": args.rounds}  # fmt: skip
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        out[key] = statistics.median(values)
        if key.endswith(("ratio", "speedup", "bare")) and args.rounds > 1:
            out[f"{key}_range"] = [min(values), max(values)]
    out["fmc_engine_walker_steps_per_s"] = fmc
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"{key:34} {value:.3f}" if isinstance(value, float) else f"{key:34} {value}")


if __name__ == "__main__":
    main()
