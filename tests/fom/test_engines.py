"""The dummy worlds: the Engine contract, per-encounter randomness, save/restore, scale."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from fom.engines import (
    DummyGame,
    Engine,
    EngineConformanceError,
    EnhancedDummyGame,
    check_engine,
    make_engine,
)
from fom.errors import ConfigError, EngineError
from fom.hitmodel import WEAPONS
from fom.level import CanonicalLevel, default_level
from fom.streams import _uniform, stream_key, stream_keys, stream_uniforms


def _approach(engine: Engine, eid: int, enemy_node: int, aim: float, bias: float = 0.0) -> object:
    """One TIP step: move along the shortest path, aim, shoot."""
    me = engine.projection(eid)
    path = engine.level.shortest_path(me.node, enemy_node, bias)
    engine.move(eid, path[1] if len(path) > 1 else path[0])
    engine.look_at(eid, aim)
    return engine.shoot(eid)


@pytest.mark.parametrize("engine", [DummyGame(0), EnhancedDummyGame(1, concurrency=5)])
def test_dummy_worlds_pass_the_conformance_check(engine: Engine) -> None:
    check_engine(engine, seed=3, ticks=40)
    assert isinstance(engine, Engine)


class _IgnoresSeed(DummyGame):
    def reset(self, seed: int | None = None):  # type: ignore[override]
        self.calls = getattr(self, "calls", 0) + 1
        return super().reset(self.calls)


class _NoMoveCheck(EnhancedDummyGame):
    def move(self, encounter: int, node: int) -> None:
        with contextlib.suppress(EngineError):
            super().move(encounter, node)


class _ShallowSave(DummyGame):
    def save_state(self) -> object:
        return self._w

    def restore_state(self, state: object) -> None:
        self._w = state  # type: ignore[assignment]


class _BadReports(DummyGame):
    def advance(self):  # type: ignore[override]
        return (*reversed(super().advance()), None)


@pytest.mark.parametrize(
    ("engine", "complaint"),
    [
        (_IgnoresSeed(0), "not deterministic"),
        (_NoMoveCheck(0, concurrency=3), "must raise EngineError"),
        (_ShallowSave(0), "save_state/restore_state"),
        (_BadReports(0), "StepReport"),
    ],
)
def test_conformance_check_catches_broken_engines(engine: Engine, complaint: str) -> None:
    with pytest.raises(EngineConformanceError, match=complaint) as info:
        check_engine(engine, seed=0, ticks=30)
    assert info.value.problems


def test_conformance_check_reports_a_crashing_engine() -> None:
    class Crashes(DummyGame):
        def shoot(self, encounter: int):  # type: ignore[override]
            raise RuntimeError("boom")

    with pytest.raises(EngineConformanceError, match="RuntimeError: boom"):
        check_engine(Crashes(0))


def test_make_engine() -> None:
    assert type(make_engine("dummy", 1, 8)) is DummyGame
    enhanced = make_engine("enhanced", 1, 8)
    assert isinstance(enhanced, EnhancedDummyGame) and len(enhanced.observe().opponents) >= 8
    with pytest.raises(ConfigError, match="unknown world"):
        make_engine("quake", 1, 1)


def test_dummy_spawns_every_other_tick_alternating_shotgun_and_rocket() -> None:
    game = DummyGame(5)
    assert game.weapons == ("shotgun", "rocket")
    seen: dict[int, tuple[int, str]] = {}
    nodes = set()
    for _ in range(12):
        view = game.observe()
        nodes.add(view.self_state.node)
        for o in view.opponents:
            seen.setdefault(o.id, (view.tick, o.weapon))
        game.advance()
    assert seen == {i: (2 * i, ("shotgun", "rocket")[i % 2]) for i in range(6)}
    assert len(nodes) > 1 or DummyGame(6).teleport_prob > 0  # the bot teleports now and then
    teleports = 0
    for _ in range(200):
        before = game.observe().self_state.node
        game.advance()
        teleports += game.observe().self_state.node != before
    assert 3 <= teleports <= 40


def test_enhanced_keeps_enough_enemies_and_alternates_three_weapons() -> None:
    game = EnhancedDummyGame(2, concurrency=20)
    assert len(game.weapons) >= 3
    for _ in range(30):
        view = game.observe()
        assert len(view.opponents) >= 20
        assert len({o.floor for o in view.opponents}) == len(view.opponents)
        for o in view.opponents:
            assert o.weapon == game.weapons[o.id % len(game.weapons)]
            _approach(game, o.id, o.node, WEAPONS[o.weapon].drift)
        game.advance()
    assert game.encounters_started > 40  # encounters ended and were replaced


def test_move_rules() -> None:
    game = EnhancedDummyGame(0, concurrency=9)
    opp = game.observe().opponents[0]
    me = game.projection(opp.id)
    far = next(j for j in range(9) if j != me.node and not game.level.adjacency[me.node, j])
    with pytest.raises(EngineError, match="neighbour"):
        game.move(opp.id, far)
    with pytest.raises(EngineError):
        game.move(opp.id, 9)
    with pytest.raises(EngineError, match="unknown encounter"):
        game.move(10**6, 0)
    step = int(np.flatnonzero(game.level.adjacency[me.node])[0])
    game.move(opp.id, step)
    game.move(opp.id, me.node)  # changing one's mind within a tick is fine ...
    with pytest.raises(EngineError):  # ... but it is still one step from the tick's start
        game.move(opp.id, far)
    # the enemy's node is occupied: stepping onto it leaves the projection where it stands
    game = EnhancedDummyGame(0, concurrency=50)
    for o in game.observe().opponents:
        me = game.projection(o.id)
        if game.level.adjacency[me.node, o.node]:
            game.move(o.id, o.node)
            assert game.projection(o.id).node == me.node
            break
    else:
        pytest.fail("no projection started next to its enemy")


def test_one_shot_per_tick_and_signed_error() -> None:
    game = EnhancedDummyGame(4, concurrency=3)
    opp = game.observe().opponents[0]
    game.look_at(opp.id, 0.1)
    first = game.shoot(opp.id)
    second = game.shoot(opp.id)
    assert first.fired and not second.fired and not second.hit
    assert first.encounter == opp.id and first.distance > 0
    with pytest.raises(EngineError):
        game.look_at(opp.id, float("nan"))


def test_shot_errors_are_drift_plus_noise_minus_aim() -> None:
    game = EnhancedDummyGame(9, concurrency=60)
    errors: dict[str, list[float]] = {w: [] for w in game.weapons}
    aim = 0.1
    for _ in range(15):
        for o in game.observe().opponents:
            game.look_at(o.id, aim)
            shot = game.shoot(o.id)
            if shot.fired:
                errors[o.weapon].append(shot.error)
        game.advance()
    for w, errs in errors.items():
        spec = WEAPONS[w]
        assert len(errs) > 100
        assert np.mean(errs) == pytest.approx(
            spec.drift - aim, abs=4 * spec.noise / np.sqrt(len(errs))
        )
        assert np.std(errs) == pytest.approx(spec.noise, rel=0.25)


def test_aiming_at_the_drift_hits_more_often() -> None:
    def accuracy(correct: bool) -> float:
        game = EnhancedDummyGame(11, concurrency=40)
        shots = hits = 0
        for _ in range(20):
            for o in game.observe().opponents:
                shot = _approach(game, o.id, o.node, WEAPONS[o.weapon].drift if correct else 0.0)
                shots += shot.fired
                hits += shot.hit
            game.advance()
        return hits / shots

    assert accuracy(True) > accuracy(False) + 0.15


def _level_with_cover(cover: float) -> CanonicalLevel:
    base = default_level()
    return CanonicalLevel(base.positions, np.full(base.n, cover), base.edges, base.floor_height)


def test_encounters_end_by_kill_death_or_timeout() -> None:
    # aim far off so the enemy never dies; open ground kills projections, full cover does not
    open_game = DummyGame(3, level=_level_with_cover(0.0))
    covered = DummyGame(3, level=_level_with_cover(1.0))
    outcomes: dict[str, list[tuple[str, int]]] = {"open": [], "covered": []}
    for name, game in (("open", open_game), ("covered", covered)):
        started: dict[int, int] = {}
        for _ in range(80):
            for o in game.observe().opponents:
                started.setdefault(o.id, game.tick)
                game.look_at(o.id, 5.0)
                assert not game.shoot(o.id).hit
            for r in game.advance():
                if r.done:
                    outcomes[name].append((r.reason, game.tick - started[r.encounter]))
    assert {r for r, _ in outcomes["covered"]} == {"timeout"}
    assert all(ticks == 12 for _, ticks in outcomes["covered"])
    died = [t for r, t in outcomes["open"] if r == "died"]
    assert len(died) >= 10 and all(t <= 12 for t in died)
    assert open_game.deaths == len(died) and covered.deaths == 0
    # with good aim the enemy nearly always dies first, within a few ticks
    game = EnhancedDummyGame(3, concurrency=30)
    lengths = []
    reasons = []
    started: dict[int, int] = {}
    for _ in range(40):
        for o in game.observe().opponents:
            started.setdefault(o.id, game.tick)
            _approach(game, o.id, o.node, WEAPONS[o.weapon].drift, bias=2.0)
        for r in game.advance():
            if r.done:
                reasons.append(r.reason)
                assert (r.reason == "killed") == (r.enemy_health <= 0)
                lengths.append(game.tick - started[r.encounter])
    assert reasons.count("killed") >= 0.9 * len(reasons) and len(reasons) > 100
    assert 2.5 <= np.mean(lengths) <= 8


def test_close_ends_an_encounter_and_ended_ones_ignore_actions() -> None:
    game = EnhancedDummyGame(0, concurrency=4)
    eid = game.observe().opponents[0].id
    game.look_at(eid, 0.0)
    game.close(eid)
    assert not game.shoot(eid).fired
    (report,) = [r for r in game.advance() if r.encounter == eid]
    assert report.done and report.reason == "closed"
    assert eid not in [o.id for o in game.observe().opponents]
    game.move(eid, 0)  # no-op: the TIP may act once more before it hears the report
    assert not game.shoot(eid).fired
    assert game.projection(eid).floor == eid + 1  # final state is still known
    assert all(r.encounter != eid for r in game.advance())


def test_reports_cover_acted_encounters_and_carry_damage() -> None:
    game = EnhancedDummyGame(8, concurrency=10, level=_level_with_cover(0.0))
    view = game.observe()
    acted = [o.id for o in view.opponents[:5]]
    total = 0.0
    for _ in range(4):
        for eid in acted:
            game.look_at(eid, 9.0)  # never hits
        reports = game.advance()
        ids = [r.encounter for r in reports]
        assert ids == sorted(ids)
        assert set(acted) <= set(ids)
        assert all(r.done or r.encounter in acted for r in reports)
        total += sum(r.damage_taken for r in reports)
        for r in reports:
            assert r.exposure == 1.0
            assert r.self_health == pytest.approx(game.projection(r.encounter).health)
    assert total > 0


def test_encounter_outcomes_do_not_depend_on_other_encounters() -> None:
    def trace(concurrency: int, act_on_others: bool) -> list:
        game = EnhancedDummyGame(21, concurrency=concurrency)
        out = []
        for _ in range(12):
            view = game.observe()
            for o in view.opponents:
                if o.id == 0 or act_on_others:
                    out.append((o.id, _approach(game, o.id, o.node, 0.05 * o.id)))
            out.extend((r.encounter, r) for r in game.advance())
        return [x for eid, x in out if eid == 0]

    alone = trace(1, False)
    crowded = trace(200, True)
    assert alone and alone == crowded


def test_streams_scalar_and_vector_agree() -> None:
    ids = np.arange(0, 1000, 37)
    keys = stream_keys(12345, ids)
    assert [int(k) for k in keys] == [stream_key(12345, int(i)) for i in ids]
    idx = np.arange(len(ids)) * 3
    assert np.array_equal(
        stream_uniforms(keys, idx),
        [_uniform(int(k), int(i)) for k, i in zip(keys, idx, strict=True)],
    )
    u = stream_uniforms(np.repeat(keys[:1], 20000), np.arange(20000))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.01
    assert len(set(stream_keys(1, np.arange(10000)).tolist())) == 10000


def test_save_restore_reproduces_exactly_and_resets_are_deterministic() -> None:
    def play(game: EnhancedDummyGame, ticks: int) -> list:
        out = []
        for _ in range(ticks):
            view = game.observe()
            out.append((view.self_state.node, [(o.id, o.node, o.health) for o in view.opponents]))
            for o in view.opponents[:6]:
                out.append(_approach(game, o.id, o.node, 0.2, bias=1.0))
            out.append(game.advance())
        return out

    game = EnhancedDummyGame(5, concurrency=8)
    play(game, 10)
    saved = game.save_state()
    a = play(game, 15)
    game.restore_state(saved)
    b = play(game, 15)
    game.restore_state(saved)
    c = play(game, 15)
    assert a == b == c
    assert game.tick == 25
    game.reset(5)
    first = play(game, 10)
    assert first == play(EnhancedDummyGame(5, concurrency=8), 10)
    assert first != play(EnhancedDummyGame(6, concurrency=8), 10)
    with pytest.raises(EngineError):
        game.restore_state({"not": "a state"})
    with pytest.raises(EngineError):
        DummyGame(0).restore_state(saved)  # another engine's state


def test_advance_handles_ten_thousand_encounters() -> None:
    """Behaviour at scale (timings belong to scripts/bench_latency.py, not to tests)."""
    game = EnhancedDummyGame(0, concurrency=10_000)
    view = game.observe()
    assert len(view.opponents) >= 10_000
    for o in view.opponents:
        game.look_at(o.id, 0.0)
        game.shoot(o.id)
    reports = game.advance()
    assert len(reports) >= 10_000
    assert [r.encounter for r in reports] == sorted(r.encounter for r in reports)
    for o in game.observe().opponents[:10]:
        game.look_at(o.id, 0.0)
    few = game.advance()
    assert len(few) < 2000  # only encounters acted on or ended are reported
    saved = game.save_state()
    after = game.advance()
    game.restore_state(saved)
    assert game.advance() == after


def test_invalid_configuration() -> None:
    with pytest.raises(ConfigError):
        EnhancedDummyGame(0, concurrency=0)
    with pytest.raises(ConfigError):
        DummyGame(0, weapons=("bow",))
    with pytest.raises(ConfigError):
        DummyGame(-1)
