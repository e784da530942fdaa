"""Learners (fom, static, monolithic, mlp), their registry, and the pure-model learning check."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fom.engines import EnhancedDummyGame, ShotOutcome, StepReport
from fom.errors import ConfigError, StateFileError
from fom.hitmodel import WEAPONS, hit_probability
from fom.learners import (
    EncounterObservation,
    FomLearner,
    Learner,
    MlpLearner,
    MonolithicLearner,
    MonolithicQ,
    StaticLearner,
    check_layout,
    learner_names,
    learning_pattern,
    make_learner,
    new_store,
    pattern_layout,
)
from fom.learners.mlp import FEATURES, HIDDEN, OUTPUTS
from fom.learners.trigger import rests
from fom.patterns import PARAM_NAMES, PatternParams, PatternStore
from fom.simulate import run_encounters

SIG = "combat/shotgun"
OBS = EncounterObservation(7, "shotgun", 0, 4, 10.0, 100.0, 100.0, 0.5)


def _shot(error: float, hit: bool = False, fired: bool = True, motion: float = 0.0) -> ShotOutcome:
    return ShotOutcome(7, fired, hit, error, 35.0 if hit else 0.0, 10.0, motion)


def _report(damage: float = 0.0, exposure: float = 0.5) -> StepReport:
    return StepReport(7, damage, exposure, 100.0 - damage, 100.0, 0, 4, False, "")


def _params(aim: float = 0.0, flank: float = 0.0, lead: float = 0.0):
    store = PatternStore(initial={"aim_offset": aim, "flank_bias": flank, "lead_gain": lead})
    return store.get(SIG)


def test_make_learner_builds_every_registered_kind_on_its_own_layout() -> None:
    rng = np.random.default_rng(0)
    assert {"fom", "static", "monolithic", "mlp"} <= set(learner_names())
    kinds = {k: make_learner(k, new_store(k, 1.0).get(SIG), rng) for k in learner_names()}
    assert type(kinds["fom"]) is FomLearner
    assert type(kinds["static"]) is StaticLearner
    assert type(kinds["monolithic"]) is MonolithicLearner
    assert type(kinds["mlp"]) is MlpLearner
    assert all(isinstance(learner, Learner) for learner in kinds.values())
    with pytest.raises(ConfigError, match=r"unknown learner 'dqn'; choose one of .*mlp"):
        make_learner("dqn", _params(), rng)
    with pytest.raises(ConfigError, match="learner 'monolithic' needs patterns of 750 param"):
        make_learner("monolithic", _params(), rng)
    with pytest.raises(ConfigError, match="learner 'fom' needs patterns of 7 param") as info:
        make_learner("fom", new_store("mlp", 1.0).get(SIG), rng)  # another learner's pattern
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="learner 'mlp' needs patterns of 39 param"):
        make_learner("mlp", _params(), rng)


def test_pattern_layouts_and_the_pattern_learned_into_come_from_the_learner() -> None:
    for kind in ("fom", "static"):
        assert pattern_layout(kind) == (PARAM_NAMES, dict.fromkeys(PARAM_NAMES, 0.0))
    names, initial = pattern_layout("mlp")
    assert names == MlpLearner.param_names
    assert len(names) == (len(FEATURES) + len(OUTPUTS)) * HIDDEN + len(OUTPUTS) + 4
    assert initial == MlpLearner.initial_params() == pattern_layout("mlp")[1]  # fixed, no draw
    store = new_store("mlp", 0.25)
    assert store.names == names and store.alpha == 0.25 and store.initial == initial
    q_names, q_initial = pattern_layout("monolithic")
    assert q_names == MonolithicLearner.param_names and len(q_names) == 750
    assert q_initial == MonolithicLearner.initial_params()  # fixed: the same every time
    assert learning_pattern("monolithic", SIG) == "monolithic/q"  # one network for all kinds
    assert learning_pattern("fom", SIG) == SIG and learning_pattern("mlp", SIG) == SIG
    check_layout("mlp", names, "x.msgpack")
    needle = r"x\.msgpack holds 7 parameter.*learner 'mlp' needs 39"
    with pytest.raises(StateFileError, match=needle):
        check_layout("mlp", PARAM_NAMES, "x.msgpack")


def test_static_never_learns() -> None:
    learner = StaticLearner(_params(0.2, 1.0, 0.5))
    for _ in range(5):
        d = learner.act(OBS)
        learner.update(_shot(0.5, motion=3.0), _report(30.0, 1.0))
    assert (d.aim_offset, d.flank_bias, d.lead_gain) == (0.2, 1.0, 0.5)
    assert np.array_equal(learner.delta(), np.zeros(len(PARAM_NAMES)))
    assert learner.compute_flops == 0


def test_fom_aim_rule_is_sgd_on_the_signed_error() -> None:
    learner = FomLearner(_params(0.1), lr=0.25)
    learner.update(_shot(0.4), None)
    assert learner.act(OBS).aim_offset == pytest.approx(0.2)
    learner.update(_shot(0.0, fired=False), None)  # no shot, no aim update
    assert learner.aim_offset == pytest.approx(0.2)
    delta = dict(zip(PARAM_NAMES, learner.delta(), strict=True))
    assert delta["aim_offset"] == pytest.approx(0.1)
    assert delta["flank_bias"] == delta["lead_gain"] == 0.0  # motion 0: no lead learned
    assert learner.compute_flops > 0


def test_the_trigger_rests_while_first_shots_hit_more_often_than_refires() -> None:
    learner = FomLearner(PatternStore().get(SIG))
    assert not learner.act(OBS).rest  # no shot seen: both kinds taken to hit
    for hit in (True, False, False, True, False):  # refires that mostly miss
        learner.update(dataclasses.replace(_shot(0.0, hit=hit), refire=True), None)
    assert learner.act(OBS).rest
    for _ in range(4):  # then the rested shots miss too: no reason to rest
        learner.update(_shot(0.0, hit=False), None)
    assert not learner.act(OBS).rest
    delta = dict(zip(PARAM_NAMES, learner.delta(), strict=True))
    assert (delta["first_shots"], delta["first_hits"]) == (4.0, 0.0)
    assert (delta["refire_shots"], delta["refire_hits"]) == (5.0, 2.0)
    assert rests(10, 9, 10, 8.5) is False and rests(10, 9, 10, 8) is True  # REST_MARGIN 0.05
    resting = PatternStore(initial={"first_shots": 9, "first_hits": 9, "refire_shots": 9})
    assert StaticLearner(resting.get(SIG)).act(OBS).rest  # static plays its pattern as given
    mlp = MlpLearner(new_store("mlp", 1.0).get(SIG))  # the mlp keeps the same counts
    assert not mlp.act(OBS).rest
    for hit in (True, False, False, True, False):
        mlp.update(dataclasses.replace(_shot(0.0, hit=hit), refire=True), None)
    assert mlp.act(OBS).rest


def test_fom_aim_converges_to_the_hidden_drift() -> None:
    rng = np.random.default_rng(3)
    drift, noise = 0.35, 0.1
    learner = FomLearner(_params())
    for _ in range(12):
        error = drift + noise * rng.normal() - learner.aim_offset
        learner.update(_shot(error), None)
    assert learner.aim_offset == pytest.approx(drift, abs=0.1)


def test_fom_flank_bias_rises_with_exposed_damage_and_decays() -> None:
    learner = FomLearner(_params(flank=0.0))
    learner.update(None, _report(damage=20.0, exposure=0.9))
    hurt = learner.flank_bias
    assert hurt > 0
    covered = FomLearner(_params(flank=0.0))
    covered.update(None, _report(damage=20.0, exposure=0.1))
    assert 0 < covered.flank_bias < hurt  # damage taken in cover says less about the path
    for _ in range(10):
        learner.update(None, _report(damage=0.0))
    assert 0 < learner.flank_bias < hurt
    assert learner.delta()[1] == pytest.approx(learner.flank_bias)


def test_fom_delta_merged_reproduces_the_working_parameters() -> None:
    store = PatternStore()
    learner = FomLearner(store.get(SIG))
    learner.update(_shot(0.3), _report(10.0, 0.8))
    learner.update(_shot(0.2), _report(0.0, 0.8))
    merged = store.merge(SIG, learner.delta())
    assert merged.get("aim_offset") == pytest.approx(learner.aim_offset)
    assert merged.get("flank_bias") == pytest.approx(learner.flank_bias)


def test_monolithic_learns_in_its_own_copy_and_shares_through_the_merge() -> None:
    rng = np.random.default_rng(0)
    store = new_store("monolithic", 1.0)
    start = store.get("monolithic/q")
    a = make_learner("monolithic", start, rng)
    x = a.net.features(OBS)
    q0 = a.net.q_values(x).copy()
    dec = a.act(OBS)
    assert dec.aim_offset in a.net.offsets
    a.update(_shot(0.0, hit=True), _report())
    assert not np.array_equal(a.net.q_values(x), q0)  # a learned ...
    b = make_learner("monolithic", store.get("monolithic/q"), rng)
    assert np.array_equal(b.net.q_values(x), q0)  # ... in its own copy: b does not see it
    assert np.array_equal(start.values, store.get("monolithic/q").values)  # nor the pattern
    store.merge("monolithic/q", a.delta())
    c = make_learner("monolithic", store.get("monolithic/q"), rng)
    np.testing.assert_allclose(c.net.q_values(x), a.net.q_values(x))  # shared by the merge
    b.act(OBS)
    b.update(_shot(0.0, fired=False), _report())  # not fired: no training
    assert not b.delta().any()
    assert a.compute_flops > 1000 > FomLearner(_params()).compute_flops


def test_monolithic_bandit_finds_the_offset_near_the_drift() -> None:
    rng = np.random.default_rng(1)
    store = new_store("monolithic", 1.0)
    spec = WEAPONS["rocket"]
    obs = EncounterObservation(0, "rocket", 0, 1, 10.0, 100.0, 100.0, 0.5)
    for _ in range(1500):  # one shot per encounter, each merged before the next starts
        learner = MonolithicLearner(store.get("monolithic/q"), rng)
        aim = learner.act(obs).aim_offset
        error = spec.drift + spec.noise * rng.normal() - aim
        hit = bool(rng.random() < hit_probability(error, 10.0, spec.range))
        learner.update(_shot(error, hit=hit), _report())
        store.merge("monolithic/q", learner.delta())
    net = MonolithicQ(store.get("monolithic/q").values)
    greedy = net.offsets[int(np.argmax(net.q_values(net.features(obs))))]
    assert greedy == pytest.approx(spec.drift, abs=0.15)


def test_run_encounters_statistics_are_consistent() -> None:
    stats = run_encounters(EnhancedDummyGame(0, 4), "fom", 40, seed=0, concurrency=4)
    assert stats.encounters == 40 == len(stats.encounter_ids) == len(set(stats.encounter_ids))
    assert stats.shots == stats.encounter_shots.sum() and stats.hits == stats.encounter_hits.sum()
    assert 0 < stats.hits <= stats.shots
    assert stats.kills + stats.deaths + stats.timeouts == 40
    assert sum(p.encounters for p in stats.patterns.values()) == 40
    assert set(stats.patterns) == {"combat/shotgun", "combat/rocket", "combat/railgun"}
    assert stats.compute_flops > 0 and 0 <= stats.exposure <= 1
    assert stats.accuracy_over(40) == pytest.approx(stats.accuracy)
    again = run_encounters(EnhancedDummyGame(0, 4), "fom", 40, seed=0, concurrency=4)
    assert np.array_equal(again.encounter_hits, stats.encounter_hits)  # deterministic
    with pytest.raises(ConfigError):
        run_encounters(EnhancedDummyGame(0, 1), "nope", 5, seed=0)


def test_fom_learner_beats_static_over_the_first_120_encounters() -> None:
    """The pure-model learning check: 5 seeds, accuracy over 120 encounters, paired by seed."""
    fom, static, mono = [], [], []
    learned: dict[str, list[float]] = {}
    for seed in range(5):
        f = run_encounters(EnhancedDummyGame(seed, 1), "fom", 120, seed)
        s = run_encounters(EnhancedDummyGame(seed, 1), "static", 120, seed)
        m = run_encounters(EnhancedDummyGame(seed, 1), "monolithic", 120, seed)
        fom.append(f.accuracy)
        static.append(s.accuracy)
        mono.append(m.accuracy)
        for sig, p in f.patterns.items():
            learned.setdefault(sig, []).append(p.params["aim_offset"])
        # the static bot keeps its accuracy: no trend between the halves
        first, second = s.accuracy_over(60), s.accuracy
        assert abs(first - second) < 0.1
        assert all(p.params == dict.fromkeys(PARAM_NAMES, 0.0) for p in s.patterns.values())
        assert all(p.params["lead_gain"] == 0.0 for p in f.patterns.values())  # nothing moves
        assert f.deaths <= s.deaths and f.damage_taken < s.damage_taken
        assert m.compute_flops > 100 * f.compute_flops
    diff = np.array(fom) - np.array(static)
    stderr = diff.std(ddof=1) / np.sqrt(len(diff))
    assert diff.mean() > 3 * stderr and diff.mean() > 0.15
    mono_diff = np.array(mono) - np.array(static)
    assert mono_diff.mean() > 3 * mono_diff.std(ddof=1) / np.sqrt(len(mono_diff))
    for sig, offsets in learned.items():  # aim_offset converged to the hidden drift
        drift = WEAPONS[sig.split("/")[1]].drift
        assert np.mean(offsets) == pytest.approx(drift, abs=0.08)


def _mlp(**options: float) -> MlpLearner:
    return MlpLearner(new_store("mlp", 1.0).get(SIG), **options)


def test_mlp_starts_at_zero_outputs_and_its_weights_are_the_pattern() -> None:
    learner = _mlp()
    far = EncounterObservation(7, "shotgun", 0, 4, 40.0, 30.0, 80.0, 0.9)
    for obs in (OBS, far):
        d = learner.act(obs)
        assert (d.aim_offset, d.flank_bias) == (0.0, 0.0)  # W2 = b2 = 0 at the start
    assert np.array_equal(learner.delta(), np.zeros(len(MlpLearner.param_names)))
    w1 = np.array(list(MlpLearner.initial_params().values())[: HIDDEN * len(FEATURES)])
    w1 = w1.reshape(HIDDEN, len(FEATURES))
    assert np.allclose(w1 @ w1.T, np.eye(HIDDEN))  # distinct, orthonormal hidden units


def test_mlp_aim_step_moves_the_output_by_the_fom_rule() -> None:
    """One normalised step moves the aim output at that observation by lr * error (1st order)."""
    learner = _mlp(lr=0.25)
    learner.act(OBS)
    learner.update(_shot(0.04), None)
    assert learner.act(OBS).aim_offset == pytest.approx(0.25 * 0.04, rel=0.02)
    assert learner.shots == 1
    before = learner.delta().copy()
    learner.update(_shot(0.0, fired=False), None)  # no shot, no aim update
    assert np.array_equal(learner.delta(), before)
    assert learner.compute_flops > 0


def test_mlp_learns_the_drift_and_its_delta_merges_to_the_working_network() -> None:
    rng = np.random.default_rng(3)
    drift, noise = 0.35, 0.1
    store = new_store("mlp", 1.0)
    learner = MlpLearner(store.get(SIG))
    for _ in range(15):
        aim = learner.act(OBS).aim_offset
        learner.update(_shot(drift + noise * rng.normal() - aim), None)
    assert learner.act(OBS).aim_offset == pytest.approx(drift, abs=0.1)
    merged = MlpLearner(store.merge(SIG, learner.delta()))
    assert merged.act(OBS) == pytest.approx(learner.act(OBS))


def test_mlp_flank_bias_rises_with_exposed_damage_and_decays() -> None:
    learner = _mlp()
    learner.act(OBS)
    learner.update(None, _report(damage=20.0, exposure=0.9))
    hurt = learner.act(OBS).flank_bias
    assert hurt == pytest.approx(0.2 * 0.9, rel=0.05)
    covered = _mlp()
    covered.act(OBS)
    covered.update(None, _report(damage=20.0, exposure=0.1))
    assert 0 < covered.act(OBS).flank_bias < hurt
    for _ in range(10):
        learner.act(OBS)
        learner.update(None, _report(damage=0.0))
    assert 0 < learner.act(OBS).flank_bias < hurt
    assert learner.act(OBS).aim_offset == pytest.approx(0.0, abs=0.02)  # little cross-talk


def test_mlp_beats_static_over_the_first_120_encounters() -> None:
    """The same pure-model check as the fom learner's, for the network per pattern."""
    mlp, static = [], []
    for seed in range(5):
        m = _mlp_run(seed)
        s = run_encounters(EnhancedDummyGame(seed, 1), "static", 120, seed)
        mlp.append(m.accuracy)
        static.append(s.accuracy)
        assert m.deaths <= s.deaths and m.damage_taken < s.damage_taken
        for sig, p in m.patterns.items():  # the learned network aims near the hidden drift
            weapon = sig.split("/")[1]
            values = np.array([p.params[n] for n in MlpLearner.param_names])
            net = MlpLearner(PatternParams(sig, MlpLearner.param_names, values, 0, 0))
            obs = EncounterObservation(0, weapon, 0, 1, 10.0, 100.0, 100.0, 0.5)
            assert net.act(obs).aim_offset == pytest.approx(WEAPONS[weapon].drift, abs=0.1)
        if seed == 0:  # deterministic for a seed
            assert np.array_equal(_mlp_run(seed).encounter_hits, m.encounter_hits)
    diff = np.array(mlp) - np.array(static)
    assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff)) and diff.mean() > 0.15


def _mlp_run(seed: int):
    """120 encounters of the mlp learner, one at a time, on the enhanced world."""
    store = new_store("mlp", 1.0)
    return run_encounters(EnhancedDummyGame(seed, 1), "mlp", 120, seed, store=store)


def _lead_run(kind: str, true_gain: float, shots: int = 40) -> float:
    """A learner shooting at targets crossing the view (motion drawn per shot, seeded): the
    miss is what the lead lacked plus noise; returns the lead gain it ends with."""
    rng = np.random.default_rng(11)
    learner = make_learner(kind, new_store(kind, 1.0).get(SIG), np.random.default_rng(1))
    for _ in range(shots):
        d = learner.act(OBS)
        motion = float(rng.uniform(-6.0, 6.0))
        error = (true_gain - d.lead_gain) * motion - d.aim_offset + float(rng.normal(0.0, 1.0))
        learner.update(_shot(error, motion=motion), None)
    return learner.act(OBS).lead_gain


def test_the_lead_gain_is_learned_from_the_miss_and_the_target_motion() -> None:
    assert _lead_run("fom", 1.2) == pytest.approx(1.2, abs=0.15)
    assert _lead_run("fom", -0.5) == pytest.approx(-0.5, abs=0.15)  # the sign is learned
    assert _lead_run("mlp", 1.2) == pytest.approx(1.2, abs=0.3)
    assert _lead_run("monolithic", 1.2) == pytest.approx(1.2, abs=0.3)
    assert _lead_run("static", 1.2) == 0.0  # the prior, kept


def test_the_lead_rule_needs_a_moving_target() -> None:
    learner = FomLearner(_params(lead=0.4))
    learner.update(_shot(2.0, motion=0.0), None)  # a still target: the miss is aim_offset's
    learner.update(_shot(float("nan"), motion=3.0), None)
    assert learner.lead_gain == 0.4 and learner.delta()[2] == 0.0
    learner.update(_shot(2.0, motion=-1.0), None)
    assert learner.lead_gain == pytest.approx(0.4 + 0.25 * 2.0 * -1.0 / 2.0)
