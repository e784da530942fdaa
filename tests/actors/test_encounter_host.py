"""A worker's EncounterHost: encounters stepped a tick at a time, as TIPs; a step sent again is
answered again, never stepped twice."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from actors.channels import ActResults, EncounterAct, EncounterSetup, EncounterStep, TipStart
from actors.encounter_host import EncounterHost
from bus.codec import Codec
from fom.engines import make_engine
from fom.events import WALLCLOCK_FIELDS
from fom.learners.base import learning_pattern, new_store
from fom.match import pick_engagements, resolve_tick, snapshot_for
from fom.patterns import signature_for

SETUP = EncounterSetup("run-1", "enhanced", 3, 4, "fmc", 8, 3, "fom", 50)


def _starts(engine: object, tick: int) -> tuple[TipStart, ...]:
    store = new_store("fom", 0.25)
    out = []
    for o in pick_engagements(engine.observe().opponents, 4):  # type: ignore[attr-defined]
        sig = signature_for(o.weapon)
        pattern = learning_pattern("fom", sig)
        knowledge = snapshot_for(tick, engine.projection(o.id), o)  # type: ignore[attr-defined]
        out.append(TipStart(o.id, tick, 3, o.weapon, sig, pattern, knowledge, store.get(pattern)))
    return tuple(out)


def _block(results: Iterable[object]) -> bytes:
    """The World's encoded ActResults, as a step carries them."""
    return Codec().encode_message(ActResults(tuple(results)))  # type: ignore[arg-type]


def _no_wall_clock(record: object) -> object:
    fields = {f.name for f in dataclasses.fields(record)}  # type: ignore[arg-type]
    return dataclasses.replace(record, **{f: 0.0 for f in fields & WALLCLOCK_FIELDS})  # type: ignore[type-var]


def _play(plan_between: bool, ticks: int = 6) -> list[tuple[object, ...]]:
    """A few ticks of a host's encounters against the engine; with ``plan_between`` the
    encounters that go on are planned between the two requests, as a worker does."""
    engine = make_engine("enhanced", 3, 4)
    engine.reset(3)
    host = EncounterHost("w0")
    starts = _starts(engine, 0)
    assert starts, "no opponent to engage"
    seq, seen = 0, []
    reply = host.act(EncounterAct(SETUP, (seq := seq + 1), 0, starts))
    for tick in range(ticks):
        seen.append(reply.acts)
        results = _block(resolve_tick(engine, tick, reply.acts).results.values())
        step = host.observe(EncounterStep(SETUP, (seq := seq + 1), tick + 1, results, ()))
        if plan_between:
            host.plan_waiting(SETUP.run)
        reply = host.act(EncounterAct(SETUP, (seq := seq + 1), tick + 1, ()))
        records = (Codec().decode(f).message for f in (*step.records, *reply.records))
        seen.append(tuple(_no_wall_clock(m) for m in records))
        if not reply.acts:
            break
    return seen


def test_planning_between_the_requests_changes_no_action() -> None:
    between, at_act = _play(True), _play(False)
    assert len(between) >= 4 and between == at_act


def test_a_request_sent_again_is_answered_again_not_done_twice() -> None:
    engine = make_engine("enhanced", 3, 4)
    engine.reset(3)
    host = EncounterHost("w0")
    starts = _starts(engine, 0)
    assert starts, "no opponent to engage"
    first = host.act(EncounterAct(SETUP, 1, 0, starts))
    assert host.act(EncounterAct(SETUP, 1, 0, starts)) is first
    assert [a.encounter for a in first.acts] == sorted(s.encounter for s in starts)
    topics = [Codec.topic_of(f) for f in first.records]
    assert topics == ["event.tip.started"] * len(starts) + ["event.plan.done"] * len(starts)
    resolution = resolve_tick(engine, 0, first.acts)
    results = _block(resolution.results.values())
    second = host.observe(EncounterStep(SETUP, 2, 1, results, ()))
    again = host.observe(EncounterStep(SETUP, 2, 1, results, ()))
    assert again is second  # the same answer, and the encounters were not observed twice
    assert host.open == len(starts) - len(second.finished) > 0
    assert len(second.records) == len(second.finished)  # the others' shots come with the act
    acting = host.act(EncounterAct(SETUP, 3, 1, ()))
    shots = [
        Codec().decode(f)
        for f in (*second.records, *acting.records)
        if Codec.topic_of(f) == "event.tip.shot"
    ]
    assert sorted(s.message.encounter for s in shots) == sorted(x.encounter for x in starts)
    going_on = tuple(a.encounter for a in acting.acts)
    third = host.observe(EncounterStep(SETUP, 4, 2, b"", going_on))
    assert third.records == () and host.open == 0  # dropped: closed by the world
    assert host.act(EncounterAct(SETUP, 5, 2, ())).acts == ()


def test_new_encounters_go_to_the_least_loaded_worker() -> None:
    from actors.remote_tips import place

    assert place([5, 2, 9, 4], ["w0", "w1"], []) == {2: "w0", 4: "w1", 5: "w0", 9: "w1"}
    hosted = ["w0"] * 3 + ["w1"]  # w1 hosts one, a lost worker's are not counted
    assert place([1, 2, 3], ["w0", "w1"], [*hosted, "gone"]) == {1: "w1", 2: "w1", 3: "w0"}
    joined = place(range(6), ["w0", "w1", "w2"], ["w0"] * 2 + ["w1"] * 2)  # w2 just joined
    assert [joined[e] for e in range(6)] == ["w2", "w2", "w0", "w1", "w2", "w0"]
