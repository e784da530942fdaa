"""The match core: engagements, one encounter's loop, one tick's resolution, the ULP's rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from fom.engines import EnhancedDummyGame
from fom.errors import EngineError, StateFileError
from fom.events.records import PatternMerged, PatternRejected, TipFinished, TipShot
from fom.match import (
    Act,
    ActResult,
    Encounter,
    initial_store,
    merge_delta,
    pick_engagements,
    resolve_tick,
    snapshot_for,
)
from fom.patterns import PARAM_NAMES, PatternStore, save_patterns, signature_for
from fom.planners import FmcPlanner, GraphPlanner, PlanChoice
from fom.simulate import SyncMatch
from fom.state import Opponent


def _opponent(i: int) -> Opponent:
    return Opponent(i, "shotgun", 0, i + 1, np.zeros(3), 100.0, 0)


def test_pick_engagements_takes_the_unfought_opponents_in_order_up_to_the_room() -> None:
    opponents = [_opponent(i) for i in (3, 5, 7, 9)]
    assert [o.id for o in pick_engagements(opponents, room=10)] == [3, 5, 7, 9]
    assert [o.id for o in pick_engagements(opponents, room=2)] == [3, 5]
    assert list(pick_engagements(opponents, room=0)) == []
    assert list(pick_engagements(opponents, room=-1)) == []


def _start(engine: EnhancedDummyGame, seed: int = 0) -> list[Encounter]:
    view = engine.observe()
    return [
        Encounter.begin(
            snapshot_for(view.tick, engine.projection(o.id), o),
            encounter=o.id,
            weapon=o.weapon,
            signature=signature_for(o.weapon),
            params=PatternStore().get(signature_for(o.weapon)),
            level=engine.level,
            seed=seed,
            learner="fom",
        )
        for o in view.opponents
    ]


def test_resolve_tick_does_not_depend_on_the_order_actions_are_given_in() -> None:
    outcomes = []
    for reverse in (False, True):
        engine = EnhancedDummyGame(4, concurrency=5)
        encounters = _start(engine)
        planner = GraphPlanner()
        acts = [e.act(planner.plan(engine.level, [e.decide()], 4)[0]) for e in encounters]
        resolution = resolve_tick(engine, 0, reversed(acts) if reverse else acts)
        assert list(resolution.results) == sorted(a.encounter for a in acts)
        outcomes.append((resolution.results, resolution.reports))
    assert outcomes[0] == outcomes[1]


def test_resolve_tick_reports_an_illegal_move_without_stopping_the_others() -> None:
    engine = EnhancedDummyGame(1, concurrency=3)
    view = engine.observe()
    ids = [o.id for o in view.opponents]
    far = next(
        n for n in range(engine.level.n)
        if n != engine.projection(ids[0]).node
        and not engine.level.adjacency[engine.projection(ids[0]).node, n]
    )  # fmt: skip
    acts = [Act(ids[0], 0, far, 0.0, True)]
    acts += [Act(e, 0, engine.projection(e).node, 0.0, True) for e in ids[1:]]
    resolution = resolve_tick(engine, 0, acts)
    assert isinstance(resolution.results[ids[0]], EngineError)
    assert all(isinstance(resolution.results[e], ActResult) for e in ids[1:])


def test_an_encounter_plays_to_its_end_and_its_totals_agree_with_its_shots() -> None:
    engine = EnhancedDummyGame(2, concurrency=1)
    (encounter,) = _start(engine, seed=2)[:1]
    planner = FmcPlanner(walkers=8, horizon=3)
    shots: list[TipShot] = []
    tick = 0
    while not encounter.done:
        (choice,) = planner.plan(engine.level, [encounter.decide()], 2)
        resolution = resolve_tick(engine, tick, [encounter.act(choice)])
        result = resolution.results[encounter.encounter]
        assert isinstance(result, ActResult)
        shots.append(encounter.observe(result))
        tick += 1
    delta, finished = encounter.finish()
    assert isinstance(finished, TipFinished)
    assert finished.reason in ("killed", "died", "timeout")
    assert finished.ticks == len(shots)
    assert finished.shots == sum(s.fired for s in shots)
    assert finished.hits == sum(s.hit for s in shots)
    assert finished.damage_taken == pytest.approx(sum(s.damage_taken for s in shots))
    assert delta.shape == (len(PARAM_NAMES),) and np.isfinite(delta).all()
    assert finished.delta == dict(zip(PARAM_NAMES, delta.tolist(), strict=True))
    assert finished.delta["lead_gain"] == 0.0  # the simulated enemies do not move across the view
    assert finished.delta["first_shots"] == finished.shots  # a simulated gun has no refire
    assert finished.delta["first_hits"] == finished.hits and finished.delta["refire_shots"] == 0


def test_an_encounter_refuses_steps_out_of_order() -> None:
    engine = EnhancedDummyGame(0, concurrency=1)
    (encounter,) = _start(engine)[:1]
    with pytest.raises(RuntimeError):
        encounter.act(GraphPlanner().plan(engine.level, [], 0) or None)  # type: ignore[arg-type]


def test_merge_delta_merges_or_rejects_and_leaves_the_pattern_alone() -> None:
    store = PatternStore(alpha=0.5, names=("aim_offset", "flank_bias", "lead_gain"))
    params, record = merge_delta(store, "combat/rocket", np.array([0.2, -0.4, 0.6]), "tip-1", 3)
    assert isinstance(record, PatternMerged)
    assert params.as_dict() == pytest.approx({"aim_offset": 0.1, "flank_bias": -0.2,
                                              "lead_gain": 0.3})  # fmt: skip
    assert record.version == 1 and record.tick == 3
    params, record = merge_delta(store, "combat/rocket", np.array([np.nan, 0.0, 0.0]), "tip-2", 4)
    assert isinstance(record, PatternRejected)
    assert params.version == 1 and params.as_dict()["aim_offset"] == pytest.approx(0.1)


def test_initial_store_refuses_a_file_saved_with_other_parameters(tmp_path: Path) -> None:
    path = tmp_path / "other.fom"
    save_patterns(PatternStore(names=("a", "b", "c")), path)
    with pytest.raises(StateFileError, match="another learner"):
        initial_store("fom", 0.5, str(path))
    swapped = tmp_path / "swapped.fom"  # the learner's names, in another order
    save_patterns(PatternStore(names=("flank_bias", "aim_offset")), swapped)
    with pytest.raises(StateFileError, match=r"holds 2 parameter.*needs 7 parameter"):
        initial_store("fom", 0.5, str(swapped))
    store = PatternStore(alpha=1.0)
    store.merge("combat/shotgun", np.array([0.3, 0.1, 0.2, 4.0, 3.0, 2.0, 1.0]))
    save_patterns(store, tmp_path / "good.fom")
    loaded = initial_store("fom", 0.25, str(tmp_path / "good.fom"))
    assert loaded.alpha == 0.25
    assert loaded.get("combat/shotgun").as_dict() == store.get("combat/shotgun").as_dict()


def test_initial_store_widens_a_file_saved_before_parameters_were_added(tmp_path: Path) -> None:
    old = PatternStore(alpha=1.0, names=("aim_offset", "flank_bias"))  # before lead and trigger
    old.merge("combat/shotgun", np.array([0.1, 0.7]))
    old.merge("combat/shotgun", np.array([0.2, -0.3]))
    save_patterns(old, tmp_path / "old.fom")
    loaded = initial_store("fom", 0.5, str(tmp_path / "old.fom"))
    assert loaded.names == PARAM_NAMES and loaded.alpha == 0.5
    params = loaded.get("combat/shotgun")
    want = old.get("combat/shotgun")
    assert (params.version, params.merges) == (want.version, want.merges)
    assert params.as_dict() == want.as_dict() | {n: 0.0 for n in PARAM_NAMES[2:]}
    merged = loaded.merge("combat/shotgun", np.ones(len(PARAM_NAMES)))  # it goes on learning
    assert merged.get("aim_offset") == want.get("aim_offset") + 0.5
    assert merged.get("refire_shots") == 0.5


def test_an_encounter_whose_pattern_rests_asks_its_body_to_rest_the_trigger() -> None:
    """The rest rides on the Act; a simulated body's gun never strays, so it fires anyway (the
    Doom body rests: tests/fom/test_doom_engine.py)."""
    resting = {"first_shots": 20.0, "first_hits": 19.0, "refire_shots": 20.0, "refire_hits": 9.0}
    for initial, rest in ((resting, True), ({}, False)):
        engine = EnhancedDummyGame(2, concurrency=1)
        o = engine.observe().opponents[0]
        sig = signature_for(o.weapon)
        encounter = Encounter.begin(
            snapshot_for(0, engine.projection(o.id), o), encounter=o.id, weapon=o.weapon,
            signature=sig, params=PatternStore(initial=initial).get(sig), level=engine.level,
            seed=0, learner="fom",
        )  # fmt: skip
        problem = encounter.decide()
        act = encounter.act(PlanChoice(problem.self_node, True, (problem.self_node,)))
        assert act.rest is rest and act.fire
        result = resolve_tick(engine, 0, [act]).results[o.id]
        assert isinstance(result, ActResult) and result.shot.fired


def _sync_records(seed: int, planner: object) -> list[object]:
    records: list[object] = []
    SyncMatch(
        EnhancedDummyGame(seed, concurrency=4), seed=seed, tips=4, learner="fom",
        planner=planner, ticks=40, listener=records.append,  # type: ignore[arg-type]
    ).play()  # fmt: skip
    return [
        dataclasses.replace(r, latency_ms=0.0) if isinstance(r, TipShot) else r for r in records
    ]


def test_the_sync_driver_is_deterministic_for_a_seed() -> None:
    planner = FmcPlanner(walkers=8, horizon=3)
    a, b, other = _sync_records(5, planner), _sync_records(5, planner), _sync_records(6, planner)
    assert any(isinstance(r, TipFinished) for r in a)
    assert a == b
    assert a != other


def test_every_projection_of_a_simulated_world_holds_its_own_trigger() -> None:
    """One trigger per body: the simulated worlds give each encounter a body (a projection) of
    its own, so all fire; an engine with one shared body names its holders."""
    from fom.match import trigger_holders

    game = EnhancedDummyGame(0, concurrency=4)
    ids = [o.id for o in game.observe().opponents]
    assert trigger_holders(game, ids) == frozenset(ids)

    class OneBody(EnhancedDummyGame):
        def trigger_holders(self, encounters: tuple[int, ...]) -> tuple[int, ...]:
            return encounters[-1:]

    one = OneBody(0, concurrency=4)
    ids = [o.id for o in one.observe().opponents]
    res = resolve_tick(one, 0, [Act(e, 0, one.projection(e).node, 0.0, True) for e in ids])
    fired = {e for e, r in res.results.items() if r.shot.fired}
    assert fired == {max(ids)}


def test_an_engine_without_a_lead_argument_still_plays_with_no_lead() -> None:
    """look_at gained lead_gain; an engine written before it is called as before while the
    lead is 0 (every learner's prior, and all a world without moving targets ever learns)."""

    class TwoArgs(EnhancedDummyGame):
        def look_at(self, encounter: int, aim_offset: float) -> None:  # type: ignore[override]
            super().look_at(encounter, aim_offset)

    engine = TwoArgs(0, concurrency=1)
    o = engine.observe().opponents[0]
    me = engine.projection(o.id)
    out = resolve_tick(engine, 0, [Act(o.id, 0, me.node, 0.1, True)])
    assert isinstance(out.results[o.id], ActResult)
    with pytest.raises(TypeError):  # a lead it cannot take (only a loaded pattern has one:
        resolve_tick(engine, 1, [Act(o.id, 1, me.node, 0.1, True, 0.5)])  # it reports no motion)
