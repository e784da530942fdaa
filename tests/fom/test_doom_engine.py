"""The ViZDoom engine, on real headless games: the Engine contract, the level from the map,
one trigger per body, shots measured by the game. Skipped only when vizdoom is not installed."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("vizdoom", reason="the doom worlds need the vizdoom package")

import vizdoom

from fom.engines import check_engine, make_engine
from fom.engines.doom import DoomEngine, builtin_scenarios, resolve_scenario
from fom.engines.doom.body import (
    READY_AGAIN,
    REFIRE_CHECK,
    RUN_SPEED,
    drift,
    mean_facing,
    run_toward,
)
from fom.engines.doom.game import start_game, wrap
from fom.engines.doom.mapgeom import crossings, inside
from fom.errors import ConfigError
from fom.match import Act, resolve_tick, trigger_holders


@pytest.fixture(scope="module")
def corridor():
    engine = DoomEngine("deadly_corridor", 0)
    yield engine
    engine.shutdown()


def _connected(level) -> bool:
    seen = {0}
    todo = [0]
    while todo:
        i = todo.pop()
        for j in np.flatnonzero(level.adjacency[i]).tolist():
            if j not in seen:
                seen.add(j)
                todo.append(j)
    return len(seen) == level.n


def test_the_doom_engine_passes_check_engine(corridor: DoomEngine) -> None:
    check_engine(corridor, seed=3, ticks=30)


@pytest.mark.parametrize("scenario", ["deadly_corridor", "my_way_home"])
def test_the_level_of_a_map_is_connected_and_every_node_lies_in_a_sector(
    scenario: str, tmp_path: Path
) -> None:
    engine = DoomEngine(scenario, 0)
    try:
        level, geo = engine.level, engine.geometry
        assert level.n >= 20 and len(level.edges) >= level.n - 1
        assert _connected(level)
        assert engine.game.get_state().sectors is None  # the playing game does not report them
        game, _ = start_game(vizdoom, resolve_scenario(scenario), tmp_path / "_vizdoom.ini",
                             sectors=True)  # fmt: skip
        try:
            game.new_episode()
            sectors = game.get_state().sectors
        finally:
            game.close()
        in_some = np.zeros(level.n, dtype=bool)
        for sec in sectors:
            lines = np.array([(ln.x1, ln.y1, ln.x2, ln.y2) for ln in sec.lines], dtype=float)
            in_some |= inside(geo.nodes, lines)
        assert in_some.all()
        # no edge crosses a blocking line; cover is a fraction of the nodes
        a, b = np.array(level.edges).T
        assert not crossings(geo.nodes[a], geo.nodes[b], geo.blocking).any()
        assert ((level.cover >= 0) & (level.cover <= 1)).all()
    finally:
        engine.shutdown()


def test_cover_comes_from_line_of_sight() -> None:
    """my_way_home is a maze: some nodes are hidden from most of the others, none from all."""
    engine = DoomEngine("my_way_home", 0)
    try:
        cover = engine.level.cover
        assert cover.max() > 0.5 and cover.min() < cover.max()
    finally:
        engine.shutdown()


def test_segment_crossings_against_a_hand_made_case() -> None:
    lines = np.array([[0.0, -1.0, 0.0, 1.0]])
    p = np.array([[-1.0, 0.0], [-1.0, 2.0], [1.0, 0.0]])
    q = np.array([[1.0, 0.0], [1.0, 2.0], [2.0, 0.0]])
    assert crossings(p, q, lines).tolist() == [True, False, False]


def test_one_trigger_per_body_the_most_threatening_fires(corridor: DoomEngine) -> None:
    corridor.reset(1)
    view = corridor.observe()
    assert len(view.opponents) >= 2
    ids = [o.id for o in view.opponents]
    holders = trigger_holders(corridor, ids)
    assert len(holders) == 1
    (holder,) = holders
    assert corridor.threat(holder) == max(corridor.threat(e) for e in ids)
    me = corridor.projection(ids[0]).node
    res = resolve_tick(corridor, 0, [Act(e, 0, me, 0.0, True) for e in ids])
    fired = {e for e, r in res.results.items() if r.shot.fired}
    assert fired <= {holder}


def test_a_scripted_bot_kills_monsters_on_deadly_corridor(corridor: DoomEngine) -> None:
    """Aim at the target's bearing and fire: the game's counters say shots hit and kill."""
    corridor.reset(0)
    hits = kills = 0
    for tick in range(120):
        view = corridor.observe()
        acts = []
        for o in view.opponents:
            me = corridor.projection(o.id)
            path = corridor.level.shortest_path(me.node, o.node, 0.0)
            acts.append(Act(o.id, tick, path[1] if len(path) > 1 else path[0], 0.0, True))
        res = resolve_tick(corridor, tick, acts)
        hits += sum(r.shot.hit for r in res.results.values() if not isinstance(r, Exception))
        kills += sum(r.reason == "killed" for r in res.reports)
    assert hits > 0 and kills > 0
    episodes = corridor.take_episodes()
    assert all(ep.kills >= 0 and np.isfinite(ep.reward) for ep in episodes)


def test_a_held_trigger_refires_and_a_rested_one_waits_for_a_true_shot(
    corridor: DoomEngine,
) -> None:
    """Pressed every decision, the pistol refires on its check, 14 tics after each press, and
    those shots are refires (ShotOutcome.refire: what the trigger rule counts). Resting, the
    body lets the trigger go on that one tic: no shot is a refire, and the next press comes as
    soon as the gun is ready again (19 tics; 21 when a decision's edge delays it)."""
    gaps: dict[bool, list[tuple[int, bool]]] = {}
    for rest in (False, True):
        corridor.reset(0)
        last, gaps[rest] = None, []
        for tick in range(90):
            acts = [Act(o.id, tick, corridor.projection(o.id).node, 0.0, True, 0.0, rest)
                    for o in corridor.observe().opponents]  # fmt: skip
            res = resolve_tick(corridor, tick, acts)
            for r in res.results.values():
                if not isinstance(r, Exception) and r.shot.fired:
                    now = int(corridor.game.get_episode_time())
                    if last is not None and now > last:
                        gaps[rest].append((now - last, r.shot.refire))
                    last = now
    held, rested = gaps[False], gaps[True]
    assert any(gap == REFIRE_CHECK and refire for gap, refire in held)
    assert all(refire for gap, refire in held if gap == REFIRE_CHECK)
    assert rested and not any(refire for _, refire in rested)
    assert min(gap for gap, _ in rested) == READY_AGAIN
    assert sum(gap <= READY_AGAIN + 2 for gap, _ in rested) >= len(rested) / 2


def test_every_fired_shot_spent_a_bullet(corridor: DoomEngine) -> None:
    """The body counts a shot in the decision its gun sent a bullet, and only there: the puffs
    of the monsters' bullets near the line of fire once passed for shots of a gun still busy."""
    corridor.reset(1)
    resolve_tick(corridor, 0, [])
    ammo = lambda: int(corridor.game.get_game_variable(vizdoom.GameVariable.SELECTED_WEAPON_AMMO))  # noqa: E731
    fired = spent = 0
    for tick in range(1, 200):
        before = ammo()
        acts = [Act(o.id, tick, corridor.projection(o.id).node, 0.0, True, 0.0, tick % 50 < 25)
                for o in corridor.observe().opponents]  # fmt: skip
        res = resolve_tick(corridor, tick, acts)
        ended = corridor.take_episodes()  # (a new episode fills the gun, reading -1 before;
        if before >= 0 and not ended and ammo() <= before:  # a dead zombie drops a clip)
            shots = sum(r.shot.fired for r in res.results.values() if not isinstance(r, Exception))
            assert shots == before - ammo(), tick
            fired, spent = fired + shots, spent + before - ammo()
    assert fired > 20


def test_the_body_foresees_its_own_drift_by_doom_physics(corridor: DoomEngine) -> None:
    """drift() (how far the body moves until its bullet leaves, which the aim allows for)
    against the game: a running side step from standing, then three tics coasting (short of
    the corridor's walls)."""
    corridor.reset(0)
    game = corridor.game
    gv = vizdoom.GameVariable
    pos = lambda: np.array([game.get_game_variable(gv.POSITION_X),  # noqa: E731
                            game.get_game_variable(gv.POSITION_Y)])  # fmt: skip
    vel = lambda: np.array([game.get_game_variable(gv.VELOCITY_X),  # noqa: E731
                            game.get_game_variable(gv.VELOCITY_Y)])  # fmt: skip
    game.set_action([0.0, 0.0, 0.0, 0.0])
    game.advance_action(8)  # (the first tics of an episode do not move)
    start, right = pos(), game.get_game_variable(gv.ANGLE) - 90.0
    game.set_action([0.0, 0.0, 0.0, RUN_SPEED])
    game.advance_action(2)
    assert np.allclose(pos() - start, drift(np.zeros(2), right, 2), atol=0.05)
    start, v = pos(), vel()
    game.set_action([0.0, 0.0, 0.0, 0.0])
    game.advance_action(3)
    assert np.linalg.norm(pos() - start) > 5.0
    assert np.allclose(pos() - start, drift(v, None, 3), atol=0.05)


def test_a_turn_spread_over_a_decision_runs_where_the_body_heads(corridor: DoomEngine) -> None:
    """A decision without a shot turns in equal steps over its tics (one ViZDoom call). Run by
    its mean facing over them (mean_facing), the body goes where it heads; run by its last
    facing, its steps curve (on the game, from standing: a quarter turn to the left)."""
    game, gv = corridor.game, vizdoom.GameVariable
    pos = lambda: np.array([game.get_game_variable(gv.POSITION_X),  # noqa: E731
                            game.get_game_variable(gv.POSITION_Y)])  # fmt: skip

    def astray(by_mean: bool) -> float:
        corridor.reset(0)
        game.set_action([0.0, 0.0, 0.0, 0.0])
        game.advance_action(8)  # (the first tics of an episode do not move)
        start, angle = pos(), game.get_game_variable(gv.ANGLE)
        heading = theta = angle + 90.0  # a left turn: TURN_LEFT_RIGHT_DELTA turns right
        facing = mean_facing(theta, -90.0, 4) if by_mean else theta
        fwd, side = run_toward(heading, facing, corridor.controls)
        game.set_action([0.0, -90.0 / 4, fwd, side])
        game.advance_action(4)
        went = pos() - start
        assert np.hypot(*went) > 5.0 and game.get_game_variable(gv.ANGLE) == pytest.approx(
            theta % 360, abs=0.1
        )
        return abs(float(wrap(math.degrees(math.atan2(went[1], went[0])) - heading)))

    mean, last = astray(by_mean=True), astray(by_mean=False)  # degrees: 9.9 and 44 here
    assert mean < 15.0 and mean < last / 3


def test_a_decision_without_a_shot_is_one_call_into_the_game(corridor: DoomEngine) -> None:
    """Each call builds the game's state, the bulk of its cost: a decision that fires none
    makes one (exploring, here), as the bare loop does."""

    class Counting:
        def __init__(self, game: object) -> None:
            self.game, self.calls = game, 0

        def advance_action(self, *args: object) -> None:
            self.calls += 1
            self.game.advance_action(*args)

        def __getattr__(self, name: str) -> object:
            return getattr(self.game, name)

    corridor.reset(0)
    counting = Counting(corridor._game)
    corridor._game = counting
    try:
        for tick in range(6):
            before = counting.calls
            resolve_tick(corridor, tick, [])
            assert counting.calls - before == 1, tick
    finally:
        corridor._game = counting.game


def test_the_body_stands_its_ground_against_a_monster_in_sight(corridor: DoomEngine) -> None:
    """A planned step closer to a monster in sight is not taken (such steps walked the bot
    into the corridor's crossfire), unless the engine closes in (the ablation); and staying on
    its node, the body stands where it used to walk back to the node's centre. Standing, it
    only coasts (as drift() says) from the walk that found the monsters."""
    game, gv = corridor.game, vizdoom.GameVariable
    pos = lambda: np.array([game.get_game_variable(gv.POSITION_X),  # noqa: E731
                            game.get_game_variable(gv.POSITION_Y)])  # fmt: skip
    vel = lambda: np.array([game.get_game_variable(gv.VELOCITY_X),  # noqa: E731
                            game.get_game_variable(gv.VELOCITY_Y)])  # fmt: skip
    corridor.reset(0)
    resolve_tick(corridor, 0, [])  # no fight: it walks on, to find one
    o = corridor.observe().opponents[0]
    xy = corridor._m.open[o.id].xy
    gap = lambda node: np.hypot(*(corridor.geometry.nodes[node] - xy))  # noqa: E731

    def play(tick: int, step: str) -> tuple[np.ndarray, float]:
        """How far the body went beyond its coasting moving as ``step`` says, off its node's
        centre when it started, and whether it was hit (a hit pushes it)."""
        here = corridor.projection(o.id).node
        closer = [j for j in np.flatnonzero(corridor.level.adjacency[here]) if gap(j) < gap(here)]
        node = here if step == "stay" else int(closer[0])
        start, v, health = pos(), vel(), game.get_game_variable(gv.HEALTH)
        off = np.hypot(*(start - corridor.geometry.nodes[here]))
        resolve_tick(corridor, tick, [Act(o.id, tick, node, 0.0, False)])
        went = np.hypot(*(pos() - start - drift(v, None, corridor.frame_skip)))
        assert game.get_game_variable(gv.HEALTH) == health or step == "stay"
        return went, off if game.get_game_variable(gv.HEALTH) == health else -1.0

    assert play(1, "closer")[0] < 0.5
    corridor.close_in = True
    try:
        assert play(2, "closer")[0] > 5.0
        assert play(3, "closer")[0] > 5.0
    finally:
        corridor.close_in = False
    stays = [play(tick, "stay") for tick in range(4, 8)]
    unhit = [went for went, off in stays if off > 8.0]  # (off the centre the old body walked to)
    assert unhit and max(unhit) < 0.5


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_the_game_plays_on_the_cpu_of_the_thread_that_drives_it(corridor: DoomEngine) -> None:
    """The game and its driver take turns, and a hand-over within one CPU is the cheaper: each
    decision holds both there (:mod:`fom.engines.doom.affinity`), then frees the thread."""
    mask = os.sched_getaffinity(0)
    corridor.reset(0)
    resolve_tick(corridor, 0, [])
    assert corridor.shared_cpu.enabled
    assert len(os.sched_getaffinity(corridor.shared_cpu.pid)) == 1
    assert os.sched_getaffinity(0) == mask


def test_vizdoom_finds_its_directory_made_before_it_is_constructed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ViZDoom's constructor makes ./_vizdoom by check-then-mkdir: games started at once in one
    directory raced on it and crashed. The engine makes it first and leaves it for the others."""
    import vizdoom

    monkeypatch.chdir(tmp_path)
    seen = []
    native = vizdoom.DoomGame

    def constructed() -> object:
        seen.append((tmp_path / "_vizdoom").is_dir())
        return native()

    monkeypatch.setattr(vizdoom, "DoomGame", constructed)
    engine = DoomEngine("basic", 0)
    engine.shutdown()
    assert seen and all(seen) and (tmp_path / "_vizdoom").is_dir()  # (the map's game too)


def test_scenarios_by_name_or_path_and_unknown_ones() -> None:
    names = builtin_scenarios()
    assert "deadly_corridor" in names and "multi" not in names
    path = resolve_scenario("deadly_corridor")
    assert resolve_scenario(str(path)) == path
    with pytest.raises(ConfigError, match="deadly_corridor"):
        resolve_scenario("no_such_map")
    with pytest.raises(ConfigError, match="takes no argument"):
        make_engine("dummy:deadly_corridor", 0)


def test_fmc_engine_plans_over_the_real_game_and_puts_it_back(corridor: DoomEngine) -> None:
    from fom.engines.doom.fmc_engine import FmcEnginePlanner
    from fom.planners import PlanProblem

    corridor.reset(2)
    view = corridor.observe()
    o = view.opponents[0]
    me = corridor.projection(o.id)
    planner = FmcEnginePlanner(walkers=4, horizon=2)
    planner.bind(corridor)
    problem = PlanProblem(o.id, corridor.tick, o.weapon, me.node, me.health, o.node, o.health,
                          0.0, 0.0)  # fmt: skip
    (choice,) = planner.plan(corridor.level, [problem], seed=5)
    assert choice.move_to == me.node or corridor.level.adjacency[me.node, choice.move_to]
    assert 0 < choice.samples <= 8 and planner.walker_steps == choice.samples
    assert planner.walker_steps_per_s > 0
    after = corridor.observe()  # the game is back at the root: same tick, same bot, same foes
    assert after.tick == view.tick and after.self_state.node == view.self_state.node
    assert [x.id for x in after.opponents] == [x.id for x in view.opponents]


@pytest.mark.parametrize("floors", [1, 2], ids=["one-floor", "two-floors"])
@pytest.mark.parametrize("rest", [False, True], ids=["held", "rested"])
def test_fmc_engine_walkers_fire_as_their_tip_does(rest: bool, floors: int) -> None:
    """A pattern that rests the trigger has its TIP's shots rested: its walkers' shots too,
    through the FloorSet a run plans over (they once always held it, so the search valued
    shots its TIP never takes)."""
    from fom.engines.base import ShotOutcome
    from fom.engines.doom.floors import FloorSet
    from fom.engines.doom.fmc_engine import EngineSimulator
    from fom.planners import PlanProblem

    shots: list[tuple[str, object]] = []  # each shot the floors played: (operation, outcome)

    class Spy(FloorSet):
        def _one(self, f: int, op: str, *args: object) -> object:
            answer = super()._one(f, op, *args)
            if op.startswith("shoot"):
                shots.append((op, answer))
            return answer

    game = Spy("deadly_corridor", 2, floors=floors)
    try:
        o = game.observe().opponents[0]
        me = game.projection(o.id)
        problem = PlanProblem(o.id, game.tick, o.weapon, me.node, me.health, o.node, o.health,
                              0.0, 0.0, rest=rest)  # fmt: skip
        sim = EngineSimulator(game, problem)
        try:
            every = np.arange(sim.n_actions)  # each move, held and fired
            sim.step(sim.roots(len(every)), every, np.random.default_rng(0))
        finally:
            game.restore_state(sim.root)
    finally:
        game.shutdown()
    assert shots and {op for op, _ in shots} == {"shoot_rested" if rest else "shoot"}
    assert all(isinstance(outcome, ShotOutcome) for _, outcome in shots)


def test_a_restore_forgets_the_episodes_played_since_the_save() -> None:
    """A search's walkers that die end episodes in the game; restoring the root forgets them
    (they once counted as the run's own: 160 episodes in a 40-decision fmc-engine run)."""
    from fom.engines.doom.floors import FloorSet

    floors = FloorSet("deadly_corridor", 2, floors=1)
    try:
        root = floors.save_state()
        for _ in range(500):  # standing still, the bot is shot dead
            floors.advance()
            if floors.observe().self_state.deaths:
                break
        assert floors.observe().self_state.deaths == 1
        floors.restore_state(root)
        assert floors.take_episodes() == () and floors.observe().self_state.deaths == 0
        assert floors.tick == 0
    finally:
        floors.shutdown()


def _scripted(engine: DoomEngine, ticks: int) -> tuple[int, int, int]:
    """Fire at every monster in sight for ``ticks`` decisions: (actions, shots fired, kills)."""
    fired = kills = tried = 0
    for tick in range(ticks):
        acts = [Act(o.id, tick, engine.projection(o.id).node, 0.0, True)
                for o in engine.observe().opponents]  # fmt: skip
        tried += len(acts)
        res = resolve_tick(engine, tick, acts)
        fired += sum(r.shot.fired for r in res.results.values() if not isinstance(r, Exception))
        kills += sum(r.reason == "killed" for r in res.reports)
    return tried, fired, kills


def test_the_bot_keeps_to_the_scenarios_controls() -> None:
    """take_cover has no ATTACK: nothing fires; basic cannot turn: the bot aims by strafing."""
    cover = DoomEngine("take_cover", 0)
    try:
        assert not cover.controls.fire and cover.controls.strafe
        tried, fired, _ = _scripted(cover, 40)
        assert tried > 0 and fired == 0
    finally:
        cover.shutdown()
    basic = DoomEngine("basic", 0)
    try:
        assert basic.controls.fire and not basic.controls.turn
        _, fired, kills = _scripted(basic, 60)
        assert fired > 0 and kills >= 3
    finally:
        basic.shutdown()
