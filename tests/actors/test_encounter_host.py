"""A worker's EncounterHost: encounters stepped a tick at a time, as TIPs; a step sent again is
answered again, never stepped twice."""

from __future__ import annotations

from actors.channels import EncounterSetup, EncounterStep, TipStart
from actors.encounter_host import EncounterHost
from fom.engines import make_engine
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


def test_a_step_sent_again_is_answered_again_not_stepped_twice() -> None:
    engine = make_engine("enhanced", 3, 4)
    engine.reset(3)
    host = EncounterHost("w0")
    starts = _starts(engine, 0)
    assert starts, "no opponent to engage"
    first = host.step(EncounterStep(SETUP, 1, 0, (), starts, ()))
    assert [a.encounter for a in first.acts] == sorted(s.encounter for s in starts)
    assert len(first.started) == len(first.plans) == len(starts)
    resolution = resolve_tick(engine, 0, first.acts)
    results = tuple(resolution.results.values())
    second = host.step(EncounterStep(SETUP, 2, 1, results, (), ()))
    again = host.step(EncounterStep(SETUP, 2, 1, results, (), ()))
    assert again is second  # the same answer, and the encounters were not observed twice
    assert len(second.shots) == len(starts)
    assert host.open == len(starts) - len(second.finished)
    third = host.step(EncounterStep(SETUP, 3, 2, (), (), tuple(a.encounter for a in second.acts)))
    assert third.acts == () and host.open == 0  # dropped: closed by the world
