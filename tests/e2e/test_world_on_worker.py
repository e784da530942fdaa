"""``--world-on-worker``: the world's engine on a worker process, against a real nats-server.
The same stream as in one process; a world whose worker is killed stops the run with a clear
error and a whole stream; a worker that joins mid-run takes the new encounters."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_workers import BASE, _stream, _worker_pids

from actors.channels.world_host import WorldClose, WorldOpen, WorldResolve
from actors.world_host import WorldHost
from bus.server import NatsServer, nats_server_binary
from fom.app import run_async
from fom.app.cluster import worker_command
from fom.config import RunConfig
from fom.dashboard.replay import read_events
from fom.engines import make_engine
from fom.errors import ConfigError
from fom.match import Act, resolve_tick
from fom.signals import StopSignals

pytestmark = pytest.mark.skipif(
    nats_server_binary() is None, reason="no nats-server binary (apt-get install nats-server)"
)


def test_a_world_host_resolves_a_tick_as_the_engine_does() -> None:
    """The worker's side: each snapshot is what the same engine says in one process."""
    host, local = WorldHost(), make_engine("enhanced", 5, 8)
    opened = host.handle(WorldOpen("r", "enhanced", 5, 8, {}))
    assert opened.level is not None and repr(opened.view) == repr(local.observe())
    assert opened.level.to_level().n == local.level.n
    for tick in range(6):
        view = local.observe()
        acts = tuple(
            Act(o.id, tick, local.projection(o.id).node, 0.0, True) for o in view.opponents
        )
        snap = host.handle(WorldResolve("r", tick, acts))
        want = resolve_tick(local, tick, acts)
        assert snap.reports == want.reports
        assert {r.report.encounter: r for r in snap.results} == want.results
        assert repr(snap.view) == repr(local.observe())  # (positions are arrays)
    host.close()


def test_a_numbered_request_sent_again_is_answered_once() -> None:
    """A request the driver sends again after a NATS reconnection (same ``seq``) does not play
    its tick twice: the host answers it from memory; the next number plays on."""
    host = WorldHost()
    host.handle(WorldOpen("r", "enhanced", 5, 8, {}))
    first = host.handle(WorldResolve("r", 0, (), 1))
    assert host.handle(WorldResolve("r", 0, (), 1)) is first
    assert first.view.tick == 1
    assert host.handle(WorldResolve("r", 1, (), 2)).view.tick == 2
    open_id = first.view.opponents[0].id
    assert host.handle(WorldClose("r", open_id, 3)) is host.handle(WorldClose("r", open_id, 3))
    host.close()


async def test_same_seed_same_stream_with_the_world_on_a_worker(tmp_path: Path) -> None:
    alone, remote = tmp_path / "alone.jsonl", tmp_path / "remote.jsonl"
    await run_async(RunConfig(**BASE, events=str(alone)))  # type: ignore[arg-type]
    result = await run_async(
        RunConfig(**BASE, events=str(remote), workers=2, world_on_worker=True)  # type: ignore[arg-type]
    )
    assert result.error is None and not result.interrupted
    assert _stream(remote) == _stream(alone)


@pytest.mark.slow
async def test_many_tips_same_stream_summary_included(tmp_path: Path) -> None:
    """With 128 TIPs the shots of a tick arrive in another order over workers than in one
    process; the summary's float sums (exposure) are folded in the stream's order, so the
    run.finished record is still the same to the last bit."""
    fields = {**BASE, "tips": 128, "ticks": 40, "seed": 2}
    alone, spread = tmp_path / "alone.jsonl", tmp_path / "spread.jsonl"
    await run_async(RunConfig(**fields, events=str(alone)))  # type: ignore[arg-type]
    await run_async(RunConfig(**fields, events=str(spread), workers=2))  # type: ignore[arg-type]
    expected, got = _stream(alone), _stream(spread)
    assert expected[-1]["type"] == "run.finished" and expected[-1]["summary"]["decisions"] > 1000
    assert got[-1] == expected[-1]
    assert got == expected


def test_the_world_needs_workers_and_a_simulated_world() -> None:
    with pytest.raises(ConfigError, match="needs workers"):
        RunConfig(world_on_worker=True).validate()
    with pytest.raises(ConfigError, match="Doom"):
        RunConfig(world="doom:basic", workers=1, world_on_worker=True).validate()


@pytest.mark.slow
async def test_kill_9_of_the_worlds_worker_stops_the_run_with_its_error(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    path = tmp_path / "killed.jsonl"
    ticks: list[int] = []
    config = RunConfig(**{**BASE, "ticks": 400, "request_timeout": 3.0}, events=str(path),  # type: ignore[arg-type]
                       bus=nats_server.url, workers=2, world_on_worker=True)  # fmt: skip

    async def killer() -> None:
        pids = await _worker_pids(nats_server.url, 2)
        while len(ticks) < 5:
            await asyncio.sleep(0.01)
        os.kill(pids[min(pids)], signal.SIGKILL)  # the first by name hosts the world

    def listen(event: dict[str, Any]) -> None:
        if event["type"] == "world.tick":
            ticks.append(event["tick"])

    task = asyncio.create_task(killer())
    result = await asyncio.wait_for(run_async(config, listeners=(listen,)), 60)
    await asyncio.wait_for(task, 5)
    assert result.error is not None and "the world on worker" in result.error
    assert result.interrupted
    got = list(read_events(path))
    assert [e["seq"] for e in got] == list(range(len(got)))
    assert got[-1]["type"] == "run.finished" and got[-1]["tick"] < 400
    world = [e for e in got if e["type"] == "actor.failed" and e["actor"] == "world"]
    assert len(world) == 1 and world[0]["action"] == "stop"


@pytest.mark.slow
async def test_a_worker_that_joins_mid_run_takes_new_encounters(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The worker joins after tick 20; the run stops (as on Ctrl-C) 60 ticks after the driver
    can have heard it, however long it took to start."""
    config = RunConfig(**{**BASE, "ticks": 100_000, "tips": 8, "tick_ms": 20.0},  # type: ignore[arg-type]
                       bus=nats_server.url, workers=1)  # fmt: skip
    ticks = 0
    at: dict[int, asyncio.Event] = {}
    joined: list[subprocess.Popen[bytes]] = []
    stops = StopSignals()

    def listen(event: dict[str, Any]) -> None:
        nonlocal ticks
        if event["type"] == "world.tick":
            ticks += 1
            if ticks in at:
                at[ticks].set()

    async def tick(n: int) -> None:
        at.setdefault(n, asyncio.Event())
        if ticks < n:
            await at[n].wait()

    async def join() -> None:
        await tick(20)
        joined.append(subprocess.Popen(worker_command(nats_server.url, "late-joiner")))
        await _worker_pids(nats_server.url, 2)  # the run's worker and the late joiner beat
        await tick(ticks + 60)
        stops(signal.SIGINT)

    task = asyncio.create_task(join())
    try:
        result = await asyncio.wait_for(
            run_async(config, listeners=(listen,), handle_signals=stops), 120
        )
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()
        for proc in joined:
            proc.terminate()
            proc.wait(timeout=10)
    stats = result.workers
    assert result.interrupted and ticks < config.ticks  # stopped by the test, not run out
    assert stats is not None and "late-joiner" in stats.seen, stats
    assert stats.sent.get("late-joiner", 0) > 0, "the worker that joined hosted no encounter"
    assert stats.failed_encounters == 0 and result.error is None


@pytest.mark.slow
async def test_the_nats_server_down_for_2_s_and_back_plays_each_tick_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The world's requests wait out an outage (far shorter than the request timeout) and the
    run plays on: the stream is the one-process stream."""
    fields = {**BASE, "ticks": 120, "tick_ms": 20.0, "request_timeout": 20.0}
    alone, remote = tmp_path / "alone.jsonl", tmp_path / "remote.jsonl"
    await run_async(RunConfig(**fields, events=str(alone)))  # type: ignore[arg-type]
    config = RunConfig(**fields, events=str(remote), bus=nats_server.url, workers=1,  # type: ignore[arg-type]
                       world_on_worker=True)  # fmt: skip
    ticks = 0
    twentieth = asyncio.Event()

    def listen(event: dict[str, Any]) -> None:
        nonlocal ticks
        if event["type"] == "world.tick":
            ticks += 1
            if ticks == 20:
                twentieth.set()

    async def bounce() -> None:
        await twentieth.wait()
        await asyncio.to_thread(nats_server.pause)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(nats_server.start)

    task = asyncio.create_task(bounce())
    try:
        result = await asyncio.wait_for(run_async(config, listeners=(listen,)), 60)
        await asyncio.wait_for(task, 10)
    finally:
        task.cancel()
    assert result.error is None and not result.interrupted
    assert _stream(remote) == _stream(alone)


async def test_a_world_request_cut_by_a_reconnection_is_sent_again_and_played_once(
    nats_server: NatsServer,
) -> None:
    """NATS may lose a request or its reply as it reconnects: the engine sends the request
    again, with its number, and the worker answers the copy from memory. Here the worker
    holds the first reply back until the driver's connection has said it reconnected."""
    from actors.channels.world_host import WORLD_HOST
    from actors.remote_engine import RemoteEngine
    from bus.nats import NatsBus

    responder = await NatsBus.connect(nats_server.url)
    requests = responder.subscribe(f"{WORLD_HOST}.w", name="world")
    await responder._flush_queue()  # the subscription is on the server before the driver asks
    await responder.nc.flush(timeout=5)  # (else, on a loaded machine: "no subscriber answers")
    host, seen = WorldHost(), []
    engine: RemoteEngine | None = None

    async def serve() -> None:
        held = None
        while True:
            envelope = await requests.get()
            seen.append(envelope.message)
            answer = host.handle(envelope.message)
            if isinstance(envelope.message, WorldResolve) and held is None:
                held = envelope, answer  # as if NATS lost it: the driver hears of a reconnection
                assert engine is not None and engine._bus is not None
                engine._loop.call_soon_threadsafe(engine._bus._on_reconnect)
                continue
            responder.reply(envelope, answer, sender="w")
            if held is not None:
                responder.reply(*held, sender="w")  # late: nobody waits for it any more

    server = asyncio.create_task(serve())
    try:
        engine = await asyncio.to_thread(
            RemoteEngine, nats_server.url, "w", run="r", world="enhanced", seed=5, tips=8,
            options={}, timeout=20.0,
        )  # fmt: skip
        view = engine.observe()
        acts = tuple(Act(o.id, 0, engine.projection(o.id).node, 0.0, True) for o in view.opponents)
        await asyncio.to_thread(engine.resolve, 0, acts)
        resolves = [m for m in seen if isinstance(m, WorldResolve)]
        assert len(resolves) == 2 and resolves[0] == resolves[1]  # the same request, number
        assert engine.tick == 1 and host.handle(WorldResolve("r", 1, (), 9)).view.tick == 2
    finally:
        server.cancel()
        if engine is not None:
            await asyncio.to_thread(engine.shutdown)
        host.close()
        await responder.aclose()
