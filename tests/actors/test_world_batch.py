"""ActBatch: many encounters' actions in one request resolve exactly as one request each, a
refused action is reported in the batch's reply, and a batch the World never resolves fails
once when it stops."""

from __future__ import annotations

import asyncio
from typing import Any

from actors import Runtime
from actors.channels import (
    Act,
    ActBatch,
    ActBatchResult,
    ActResult,
    CloseEncounter,
    Observe,
    TickReady,
)
from actors.world import WorldActor
from bus import ActorStopped, Bus
from fom.engines import EnhancedDummyGame

TICKS = 12


async def _play(batched: bool, grouped: bool = False) -> list[tuple[Any, ...]]:
    """Engage every opponent of tick 0, then hold still and fire at each for TICKS ticks; the
    results in encounter order each tick, asked one request per act or one batch per tick."""
    seen: list[tuple[Any, ...]] = []
    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        rt.spawn(WorldActor(EnhancedDummyGame(3, concurrency=6), TICKS + 1, 3), name="world")
        tick = (await clock.get()).message.tick
        sighting = await rt.bus.request("world.observe", Observe(tick, True), timeout=10.0)
        engaged = sorted(o.id for o in sighting.view.opponents)
        await rt.bus.publish("world.ready", TickReady(tick, tuple(engaged)))
        opponents = (o.id for o in sighting.view.opponents)
        here = {e: p.node for e, p in zip(opponents, sighting.projections, strict=True)}
        while engaged and tick < TICKS:
            acts = [Act(e, tick, here[e], 0.0, True) for e in engaged]
            if batched:
                groups = tuple(a.encounter % 3 for a in acts) if grouped else ()
                batch = ActBatch(tuple(acts), groups)
                answer = await rt.bus.request("world.act_batch", batch, timeout=10.0)
                assert isinstance(answer, ActBatchResult) and not answer.failed
                results = list(answer.results)
                if grouped:  # one encoded block per group, each in encounter order
                    assert not results and len(answer.blocks) == max(groups) + 1
                    blocks = [rt.bus.codec.decode_message(b).results for b in answer.blocks]
                    for g, block in enumerate(blocks):
                        assert all(r.report.encounter % 3 == g for r in block)
                    results = sorted(
                        (r for b in blocks for r in b), key=lambda r: r.report.encounter
                    )
            else:
                results = list(await asyncio.gather(
                    *(rt.bus.request("world.act", a, timeout=10.0) for a in reversed(acts))
                ))[::-1]  # fmt: skip
            assert all(isinstance(r, ActResult) for r in results)
            seen.append(tuple((r.report.encounter, r.shot, r.report) for r in results))
            engaged = [r.report.encounter for r in results if not r.report.done]
            tick = (await clock.get()).message.tick
            await rt.bus.publish("world.ready", TickReady(tick, ()))
    return seen


async def test_a_batch_resolves_as_one_request_per_action() -> None:
    one_each, batched = await _play(False), await _play(True)
    assert len(one_each) >= 3
    assert batched == one_each
    assert await _play(True, grouped=True) == one_each
    assert [e for e, *_ in batched[0]] == sorted(e for e, *_ in batched[0])


async def test_a_closed_encounter_is_reported_in_the_batch_reply_the_others_play() -> None:
    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        rt.spawn(WorldActor(EnhancedDummyGame(5, concurrency=4), 50, 5), name="world")
        tick = (await clock.get()).message.tick
        sighting = await rt.bus.request("world.observe", Observe(tick, True), timeout=10.0)
        opponents = (o.id for o in sighting.view.opponents)
        here = {e: p.node for e, p in zip(opponents, sighting.projections, strict=True)}
        first, second = sorted(here)[:2]
        await rt.bus.publish("world.ready", TickReady(tick, (first, second)))
        await rt.bus.publish("world.close", CloseEncounter(first, "tip failed"))
        batch = ActBatch(tuple(Act(e, tick, here[e], 0.0, False) for e in (first, second)))
        answer = await rt.bus.request("world.act_batch", batch, timeout=10.0)
        assert answer.failed == (first,) and "closed" in answer.errors[0]
        assert [r.report.encounter for r in answer.results] == [second]
        empty = await rt.bus.request("world.act_batch", ActBatch(()), timeout=10.0)
        assert empty == ActBatchResult(())


async def test_a_batch_waiting_for_its_tick_fails_once_when_the_world_stops() -> None:
    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        rt.spawn(WorldActor(EnhancedDummyGame(5, concurrency=4), 100, 5), name="world")
        assert (await clock.get()).message.tick == 0  # no TickReady: the tick cannot resolve
        batch = ActBatch(tuple(Act(e, 0, 0, 0.0, False) for e in (0, 1, 2)))
        ask = asyncio.ensure_future(rt.bus.request("world.act_batch", batch, timeout=3600.0))
        assert await rt.settle()
        assert not ask.done()
        await rt.stop("world")
        assert await rt.settle()
        assert isinstance(ask.exception(), ActorStopped)


async def test_the_clock_carries_what_observe_answers() -> None:
    """Perception reads the bot's sighting from ``world.tick`` instead of asking for it: each
    tick's sighting is the one ``world.observe`` answers (without the opponents already being
    fought), opponents and projections alike."""
    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        rt.spawn(WorldActor(EnhancedDummyGame(3, concurrency=6), 6, 3), name="world")
        encode = rt.bus.codec.encode_message  # (arrays compared by their bytes)
        engaged: dict[int, int] = {}  # encounter -> its node
        filtered = 0
        for _ in range(5):
            now = (await clock.get()).message
            asked = await rt.bus.request("world.observe", Observe(now.tick, True), timeout=10.0)
            assert encode(now.sighting) == encode(asked)
            every = await rt.bus.request("world.observe", Observe(now.tick, False), timeout=10.0)
            filtered += len(every.view.opponents) - len(asked.view.opponents)
            seen = zip(asked.view.opponents, asked.projections, strict=True)
            new = {o.id: p.node for o, p in seen}
            engaged.update(new)
            await rt.bus.publish("world.ready", TickReady(now.tick, tuple(sorted(new))))
            acts = [Act(e, now.tick, node, 0.0, False) for e, node in engaged.items()]
            results = await asyncio.gather(
                *(rt.bus.request("world.act", a, timeout=10.0) for a in acts)
            )  # (the World answers once every engaged encounter has acted)
            for r in results:
                if r.report.done:
                    del engaged[r.report.encounter]
        assert filtered > 0  # (some sightings left out an opponent being fought)


async def test_perception_reads_the_clock_and_asks_the_world_nothing() -> None:
    """Perception's percept comes from the clock's sighting: no ``world.observe`` request goes
    out on any tick (it used to ask every tick: two messages more), and the percept is what
    the World pushed."""
    from actors.channels import Percept
    from actors.perception import Perception

    async with Runtime(Bus()) as rt:
        asked = rt.bus.subscribe("world.observe")  # (a witness: sees every request)
        clock = rt.bus.subscribe("world.tick")
        percepts = rt.bus.subscribe("percept")
        rt.spawn(WorldActor(EnhancedDummyGame(3, concurrency=6), 5, 3), name="world")
        rt.spawn(Perception(), name="perception")
        for _ in range(4):
            pushed = (await clock.get()).message
            percept = (await percepts.get()).message
            assert isinstance(percept, Percept) and percept.tick == pushed.tick
            assert [o.id for o in percept.opponents] == [
                o.id for o in pushed.sighting.view.opponents
            ]
            await rt.bus.publish("world.ready", TickReady(percept.tick, ()))
        assert asked.get_nowait() is None
