"""A World that crashes stops the run with its error; a walker pool that crashes fails its
requests at once; the settled-encounter barrier keeps new TIPs' parameters independent of
timing."""

from __future__ import annotations

from typing import Any

from actors.walker_pool import WalkerPool
from fom.app import run_async
from fom.config import RunConfig
from fom.engines import EnhancedDummyGame
from fom.engines.base import StepReport
from fom.patterns import PatternStore


class BrokenGame(EnhancedDummyGame):
    """An engine with a bug: its advance raises at tick ``at``."""

    def __init__(self, seed: int, concurrency: int, at: int) -> None:
        super().__init__(seed, concurrency=concurrency)
        self.at = at

    def advance(self) -> tuple[StepReport, ...]:
        if self.tick == self.at:
            raise RuntimeError("the engine broke")
        return super().advance()


async def test_a_world_that_crashes_stops_the_run_with_its_error() -> None:
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=200, tips=4, planner="graph", seed=1, quiet=True)
    result = await run_async(config, engine=BrokenGame(1, 4, at=7), listeners=(events.append,))
    assert result.error is not None and "the engine broke" in result.error
    assert result.interrupted
    world_failures = [e for e in events if e["type"] == "actor.failed" and e["actor"] == "world"]
    assert len(world_failures) == 1 and world_failures[0]["action"] == "stop"  # not restarted
    assert events[-1]["type"] == "run.finished"  # flushed, summary included
    assert events[-1]["summary"]["ticks"] == 7
    assert [e["seq"] for e in events] == list(range(len(events)))


class CrashOnce(WalkerPool):
    """A pool whose first batch crashes."""

    crashed: list[int] = []  # shared across restarts on purpose

    async def receive(self, envelope: Any) -> None:
        if not CrashOnce.crashed:
            waiting = self.take_waiting()
            CrashOnce.crashed.append(1 + len(waiting))
            raise RuntimeError("the pool broke")
        await super().receive(envelope)


async def test_a_walker_pool_that_crashes_fails_every_request_it_had_taken_at_once() -> None:
    CrashOnce.crashed = []
    events: list[dict[str, Any]] = []
    # A request timeout no test would wait for: the failed requests must fail at once.
    config = RunConfig(
        ticks=30, tips=6, planner="fmc", walkers=8, horizon=3, seed=4, quiet=True,
        request_timeout=3600.0,
    )  # fmt: skip
    result = await run_async(config, pool_factory=CrashOnce, listeners=(events.append,))
    (taken,) = CrashOnce.crashed
    assert taken > 1  # the crash took a whole batch down
    failed_tips = [
        e for e in events
        if e["type"] == "actor.failed" and e["actor"].startswith("tip-") and "crashed" in e["error"]
    ]  # fmt: skip
    assert len(failed_tips) == taken
    assert result.summary.failed_tips == taken
    assert result.summary.ticks == 30 and result.error is None  # the run went on


async def test_a_run_whose_ulp_gives_up_still_ends() -> None:
    """A ULP that crashes on every delta exhausts its restarts; the match goes on unlearned."""

    class BrokenStore(PatternStore):
        def merge(self, signature: str, delta: Any) -> Any:
            raise RuntimeError("the store broke")

    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=60, tips=4, planner="graph", seed=2, quiet=True)
    result = await run_async(config, store=BrokenStore(alpha=0.25), listeners=(events.append,))
    ulp = [e for e in events if e["type"] == "actor.failed" and e["actor"] == "ulp"]
    assert ulp and ulp[-1]["action"] == "stop"
    assert result.summary.ticks == 60 and result.error is None
    assert result.summary.encounters > len(ulp)  # encounters went on ending after it stopped
    assert not any(e["type"] == "pattern.merged" for e in events)


async def test_a_core_agent_that_crashes_stops_the_run_with_its_last_statistics() -> None:
    """CoreAgent is not restarted (the percept it lost would stall the lockstep): the run ends
    with its error, and the summary is what it had folded until then."""
    from actors.tip import Tip, TipSettings

    made: list[int] = []

    def tips(settings: TipSettings) -> Tip:
        made.append(1)
        if len(made) == 9:
            raise RuntimeError("no more TIPs")
        return Tip(settings)

    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=200, tips=4, planner="graph", seed=3, quiet=True)
    result = await run_async(config, tip_factory=tips, listeners=(events.append,))
    assert result.error is not None and result.error.startswith("the core agent crashed")
    assert "no more TIPs" in result.error
    assert result.interrupted and result.summary.ticks < 200
    assert result.summary.decisions == sum(e["type"] == "tip.shot" for e in events)
    assert events[-1]["type"] == "run.finished"


# --------------------------------------------------------------------------- the World's own


async def _next_tick(clock: Any) -> int:
    """The tick of the next ``world.tick`` the World publishes."""
    return (await clock.get()).message.tick


async def test_a_world_that_stops_fails_the_actions_waiting_for_their_tick_at_once() -> None:
    """Actions parked until the tick resolves get an error when the World stops, not silence
    until their requests' timeout."""
    import asyncio

    from actors import Runtime
    from actors.channels import Act
    from actors.world import WorldActor
    from bus import ActorStopped, Bus

    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        rt.spawn(WorldActor(EnhancedDummyGame(5, concurrency=4), 100, 5), name="world")
        assert await _next_tick(clock) == 0  # no TickReady: the tick cannot resolve
        asks = [
            asyncio.ensure_future(
                rt.bus.request("world.act", Act(e, 0, 0, 0.0, False), timeout=3600.0)
            )
            for e in (0, 1)
        ]
        assert await rt.settle()
        assert not any(a.done() for a in asks)  # parked, waiting for the tick
        await rt.stop("world")
        assert await rt.settle()
        assert all(a.done() for a in asks)
        for a in asks:
            assert isinstance(a.exception(), ActorStopped)


async def test_a_world_forgets_a_closed_encounter_once_it_has_ended() -> None:
    """Closing an encounter that ended already (its TIP crashed after its last act) leaves
    nothing behind; one closed while engaged is kept closed until the engine ends it."""
    import asyncio

    from actors import Runtime
    from actors.channels import Act, CloseEncounter, Observe, TickReady
    from actors.world import WorldActor
    from bus import Bus, RequestFailed

    async with Runtime(Bus()) as rt:
        clock = rt.bus.subscribe("world.tick")
        world = WorldActor(EnhancedDummyGame(5, concurrency=4), 500, 5)
        rt.spawn(world, name="world")
        tick = await _next_tick(clock)
        sighting = await rt.bus.request("world.observe", Observe(tick, True), timeout=10.0)
        first, second = (o.id for o in sighting.view.opponents[:2])
        await rt.bus.publish("world.ready", TickReady(tick, (first, second)))
        opponents = (o.id for o in sighting.view.opponents)
        nodes = dict(zip(opponents, sighting.projections, strict=True))
        here = {e: nodes[e].node for e in (first, second)}
        done = False
        while not done:  # hold still and fire until the first encounter ends
            result, kept = await asyncio.gather(
                rt.bus.request("world.act", Act(first, tick, here[first], 0.0, True), timeout=10.0),
                rt.bus.request("world.act", Act(second, tick, here[second], 0.0, False),
                               timeout=10.0),
            )  # fmt: skip
            done = result.report.done
            assert not kept.report.done, "the second encounter must outlive the first"
            tick = await _next_tick(clock)
            if not done:
                await rt.bus.publish("world.ready", TickReady(tick, ()))
        await rt.bus.publish("world.close", CloseEncounter(first, "tip failed"))
        await rt.bus.publish("world.close", CloseEncounter(second, "tip failed"))
        assert await rt.settle()
        assert set(world._closed) == {second}  # the ended one is not kept for ever
        try:  # the closed, engaged one acts no more ...
            await rt.bus.request(
                "world.act", Act(second, tick, here[second], 0.0, False), timeout=10.0
            )
            raise AssertionError("an act on a closed encounter was accepted")
        except RequestFailed:
            pass
        await rt.bus.publish("world.ready", TickReady(tick, ()))
        assert await _next_tick(clock) == tick + 1  # ... and ends with the next tick
        assert world._closed == {}


async def test_a_world_that_crashes_mid_tick_fails_every_waiting_tip_at_once() -> None:
    """Every TIP waiting on the crashed World's tick fails with the World's error (a request
    timeout no test would wait for: none is left waiting for it)."""
    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=200, tips=4, planner="graph", seed=1, quiet=True,
                       request_timeout=3600.0)  # fmt: skip
    result = await run_async(config, engine=BrokenGame(1, 4, at=7), listeners=(events.append,))
    started = {e["tip"] for e in events if e["type"] == "tip.started"}
    ended = {e["tip"] for e in events if e["type"] == "tip.finished"}
    failed = {
        e["actor"]: e["error"] for e in events
        if e["type"] == "actor.failed" and e["actor"].startswith("tip-")
    }  # fmt: skip
    assert len(started - ended) > 1 and set(failed) == started - ended
    assert all("world" in error for error in failed.values())
    assert result.summary.failed_tips == len(failed)


async def test_an_atari_game_that_crashes_is_not_replayed_and_ends_the_run() -> None:
    """The game is played in on_start: a crash is not restarted from a half-played game; it is
    kept as the actor's error and asks for the shutdown, so ``fom-fmc`` does not wait for ever."""
    from actors import Runtime
    from actors.atari import AtariGame
    from bus import Bus
    from fom.engines.atari import AtariSimulator, resolve_game

    game = AtariSimulator(resolve_game("Pong"), frameskip=4, seed=0)
    async with Runtime(Bus()) as rt:
        actor = AtariGame(game, steps=5, request_timeout=3600.0)
        ref = rt.spawn(actor, name="game")  # no walker pool: its first plan request fails
        await ref.wait()
        assert rt.failures == 1  # not restarted
        assert rt.shutdown_requested.is_set()
    assert actor.result is None
    assert actor.error is not None and "NoResponders" in actor.error


async def test_run_inside_a_running_loop_names_run_async() -> None:
    import pytest

    from fom.app import run

    with pytest.raises(RuntimeError, match="run_async"):
        run(RunConfig(ticks=1, quiet=True))


async def test_a_tick_that_waits_too_long_stops_the_run_naming_what_it_waited_for() -> None:
    """The watchdog: a TIP that hangs without crashing (no act, no failure) cannot hang the run."""
    import asyncio

    from actors.tip import Tip

    class HangingTip(Tip):
        async def request(self, topic: str, message: Any, *, timeout: float) -> Any:
            if topic == "world.act" and message.tick == 5:
                await asyncio.Event().wait()  # never answers, never fails
            return await super().request(topic, message, timeout=timeout)

    events: list[dict[str, Any]] = []
    config = RunConfig(ticks=500, tips=4, planner="graph", seed=1, quiet=True,
                       request_timeout=0.25)  # fmt: skip
    result = await run_async(config, tip_factory=HangingTip, listeners=(events.append,))
    assert result.error is not None
    assert result.error.startswith("tick 5 waited 0.5 s for the actions of encounter(s) ")
    assert result.interrupted and result.summary.ticks == 5
    assert events[-1]["type"] == "run.finished"
