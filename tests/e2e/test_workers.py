"""Runs over NATS with worker processes, against a real nats-server: the same stream as in one
process, events live on NATS, bad bus input, and the faults a distributed run must survive."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgpack
import pytest
from processes import gone, left

from actors.channels import DriverAlive, WorkerAlive
from actors.channels.workers import DRIVER_ALIVE, WORKER_ALIVE
from bus.nats import NatsBus
from bus.server import NatsServer, nats_server_binary
from fom.app import run_async
from fom.app.cluster import worker_command
from fom.config import RunConfig
from fom.dashboard.replay import read_events
from fom.errors import ConfigError
from fom.events import strip_wallclock

pytestmark = pytest.mark.skipif(
    nats_server_binary() is None, reason="no nats-server binary (apt-get install nats-server)"
)

BASE = dict(ticks=30, tips=6, seed=11, planner="fmc", walkers=8, horizon=3, quiet=True)
_LAYOUT = ("events", "workers", "bus", "world_on_worker")
"""The run.started config fields that say where it ran."""


def _stream(path: Path) -> list[dict[str, Any]]:
    out = []
    for event in read_events(path):
        event = strip_wallclock(event)
        if event["type"] == "run.started":
            event["config"] = {k: v for k, v in event["config"].items() if k not in _LAYOUT}
        out.append(event)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
async def test_same_seed_same_stream_in_process_and_over_1_2_3_workers(tmp_path: Path) -> None:
    alone = tmp_path / "alone.jsonl"
    await run_async(RunConfig(**BASE, events=str(alone)))  # type: ignore[arg-type]
    expected = _stream(alone)
    assert {"plan.done", "tip.finished", "pattern.merged"} <= {e["type"] for e in expected}
    for workers in (1, 2, 3):
        path = tmp_path / f"w{workers}.jsonl"
        result = await run_async(RunConfig(**BASE, events=str(path), workers=workers))  # type: ignore[arg-type]
        stats = result.workers
        assert stats is not None and len(stats.seen) == workers
        assert stats.steps > 0 and stats.failed_encounters == 0, "the workers hosted nothing"
        got = _stream(path)
        assert [e["seq"] for e in got] == list(range(len(got)))
        assert got == expected, f"the stream over {workers} worker(s) differs"
        latency = result.summary.latency_ms  # wall clock, so not in the compared stream
        assert 0 < latency.p50 <= latency.p99, "decisions on the workers carry no latency"


async def test_events_are_a_live_stream_on_nats(nats_server: NatsServer, tmp_path: Path) -> None:
    """A plain NATS client (nats-py and msgpack, nothing of FOM) follows the run's events."""
    import nats

    seen: list[list[Any]] = []
    done = asyncio.Event()

    async def on_event(msg: Any) -> None:
        frame = msgpack.unpackb(msg.data, raw=False, strict_map_key=False, ext_hook=lambda c, d: d)
        seen.append(frame)  # [topic, sender, seq, corr, reply_to, type, *fields]
        if frame[5] == "run.finished":
            done.set()

    follower = await nats.connect(nats_server.url)
    try:
        await follower.subscribe("event.>", cb=on_event)
        await follower.flush()
        path = tmp_path / "run.jsonl"
        config = RunConfig(**{**BASE, "ticks": 20}, events=str(path), bus=nats_server.url)  # type: ignore[arg-type]
        result = await run_async(config)
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await follower.close()
    stream = list(read_events(path))
    assert result.events_bridged == len(stream) and result.events_not_bridged == 0
    assert all(f[0] == "event." + f[5] or f[0].startswith("event.") for f in seen)
    assert Counter(f[5] for f in seen) == Counter(e["type"] for e in stream)
    ticks = [f[6] for f in seen if f[5] == "world.tick"]
    assert ticks == sorted(ticks) == [e["tick"] for e in stream if e["type"] == "world.tick"]


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    code = "import sys; from fom.cli import {}; {}(sys.argv[1:])"
    prog, *rest = args
    main = {"fom-run": "run_main", "fom-worker": "worker_main"}[prog]
    return subprocess.run(
        [sys.executable, "-c", code.format(main, main), *rest],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.parametrize("prog", ["fom-run", "fom-worker"])
def test_a_bus_url_with_no_server_is_one_line_and_status_2(prog: str) -> None:
    url = f"nats://127.0.0.1:{_free_port()}"
    done = _cli(prog, "--bus", url)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{prog}: error: no NATS server answers at {url} (Connection refused)"
    ], done.stderr
    bad = _cli(prog, "--bus", "localhost:4222")
    assert bad.returncode == 2 and "nats://HOST:PORT" in bad.stderr
    assert bad.stderr.count("\n") == 1


async def test_workers_without_a_nats_server_binary_say_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fom.app.cluster

    monkeypatch.setattr(fom.app.cluster, "nats_server_binary", lambda: None)
    with pytest.raises(ConfigError, match="apt-get install nats-server"):
        await run_async(RunConfig(**BASE, workers=2))  # type: ignore[arg-type]


async def _worker_pids(url: str, count: int, timeout: float = 30) -> dict[str, int]:
    bus = await NatsBus.connect(url)
    try:
        beats = bus.subscribe(WORKER_ALIVE, name="watch")
        pids: dict[str, int] = {}
        deadline = time.monotonic() + timeout
        while len(pids) < count and time.monotonic() < deadline:
            env = await asyncio.wait_for(beats.get(), timeout)
            if isinstance(env.message, WorkerAlive):
                pids[env.message.name] = env.message.pid
        return pids
    finally:
        await bus.aclose()


@pytest.mark.slow
async def test_kill_9_of_a_worker_mid_run_fails_its_open_encounters(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The worker's open encounters end as failed (one event each), their partial deltas are
    never merged, new encounters go to the worker left, and the stream stays gapless."""
    fields = {**BASE, "ticks": 60, "tips": 8}
    ticks: list[int] = []
    killed_at: list[int] = []
    path = tmp_path / "killed.jsonl"
    config = RunConfig(**fields, events=str(path), bus=nats_server.url, workers=2)  # type: ignore[arg-type]

    async def killer() -> None:
        pids = await _worker_pids(nats_server.url, 2)
        while len(ticks) < 10:
            await asyncio.sleep(0.01)
        os.kill(min(pids.values()), signal.SIGKILL)
        killed_at.append(ticks[-1])

    def listen(event: dict[str, Any]) -> None:
        if event["type"] == "world.tick":
            ticks.append(event["tick"])

    task = asyncio.create_task(killer())
    result = await run_async(config, listeners=(listen,))
    await asyncio.wait_for(task, 5)
    assert killed_at and not result.interrupted and result.error is None
    stats = result.workers
    assert stats is not None and len(stats.lost_workers) == 1, stats
    got = list(read_events(path))
    assert [e["seq"] for e in got] == list(range(len(got)))
    assert got[-1]["type"] == "run.finished" and got[-1]["tick"] == 60
    failed = [e for e in got if e["type"] == "actor.failed" and e["actor"].startswith("tip-")]
    lost = [int(e["actor"].removeprefix("tip-")) for e in failed]
    assert lost and len(lost) == len(set(lost)) == stats.failed_encounters, stats
    assert {e["error_type"] for e in failed} == {"WorkerLost"}
    finished = [e for e in got if e["type"] == "tip.finished"]
    assert not {e["encounter"] for e in finished} & set(lost), "a failed encounter finished"
    merged = [e for e in got if e["type"] in ("pattern.merged", "pattern.rejected")]
    assert len(merged) == len(finished), "a failed encounter's partial delta was merged"
    # the match went on without the lost worker: encounters started and ended after it
    last_failure = max(e["tick"] for e in failed)
    assert any(e["tick"] > last_failure for e in got if e["type"] == "tip.started")
    assert any(e["tick"] > last_failure for e in finished)
    summary = got[-1]["summary"]
    assert summary["failed_tips"] == len(lost)


@pytest.mark.slow
async def test_planning_only_split_kill_9_of_a_worker_loses_no_decision(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """Where the encounters stay in the driver (injected TIPs, or a planner over the driver's
    game), the workers only plan: a lost worker's chunks are planned again, the stream is the
    one a run in one process writes."""
    from actors.tip import Tip

    alone = tmp_path / "alone.jsonl"
    fields = {**BASE, "ticks": 60}
    await run_async(RunConfig(**fields, events=str(alone)))  # type: ignore[arg-type]
    ticks: list[int] = []
    killed = asyncio.Event()
    path = tmp_path / "killed.jsonl"
    config = RunConfig(**fields, events=str(path), bus=nats_server.url, workers=2)  # type: ignore[arg-type]

    async def killer() -> None:
        pids = await _worker_pids(nats_server.url, 2)
        while len(ticks) < 10:
            await asyncio.sleep(0.01)
        os.kill(min(pids.values()), signal.SIGKILL)
        killed.set()

    def listen(event: dict[str, Any]) -> None:
        if event["type"] == "world.tick":
            ticks.append(event["tick"])

    task = asyncio.create_task(killer())
    own_tips = lambda settings: Tip(settings)  # noqa: E731  (not the default: no hosting)
    result = await run_async(config, listeners=(listen,), tip_factory=own_tips)
    await asyncio.wait_for(task, 5)
    assert killed.is_set() and not result.interrupted and result.error is None
    stats = result.workers
    assert stats is not None and len(stats.lost_workers) == 1 and stats.steps == 0, stats
    assert stats.batches > 0, "the workers did not plan"
    got = _stream(path)
    assert [e["seq"] for e in got] == list(range(len(got)))
    assert got == _stream(alone), "a lost worker changed the match"


@pytest.mark.slow
async def test_the_nats_server_down_for_2_s_and_back(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    path = tmp_path / "outage.jsonl"
    fields = {**BASE, "ticks": 200, "tick_ms": 20.0}
    config = RunConfig(**fields, events=str(path), bus=nats_server.url, workers=1)  # type: ignore[arg-type]
    ticks: list[int] = []
    bounced = asyncio.Event()

    def listen(event: dict[str, Any]) -> None:
        if event["type"] == "world.tick":
            ticks.append(event["tick"])

    async def bounce() -> None:
        while len(ticks) < 20:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(nats_server.pause)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(nats_server.start)
        bounced.set()

    task = asyncio.create_task(bounce())
    result = await run_async(config, listeners=(listen,))
    await asyncio.wait_for(task, 10)
    assert bounced.is_set() and ticks[-1] > 150, "the outage was not in the middle of the run"
    assert not result.interrupted and result.error is None
    got = list(read_events(path))
    assert [e["seq"] for e in got] == list(range(len(got))) and result.events == len(got)
    assert got[-1]["type"] == "run.finished"
    assert result.events_bridged + result.events_not_bridged == len(got)
    stats = result.workers
    assert stats is not None and stats.steps > 0
    assert stats.failed_encounters == 0, "the outage cost encounters: NATS came back in time"


async def _first_tick(url: str, timeout: float = 30) -> None:
    bus = await NatsBus.connect(url)
    try:
        ticks = bus.subscribe("event.world.tick", name="watch")
        await asyncio.wait_for(ticks.get(), timeout)
    finally:
        await bus.aclose()


@pytest.mark.slow
def test_sigterm_on_the_driver_stops_every_worker_it_started(nats_server: NatsServer) -> None:
    driver = subprocess.Popen(
        [sys.executable, "-c", "from fom.cli import run_main; run_main()", "--bus",
         nats_server.url, "--workers", "2", "--ticks", "100000", "--tips", "4", "--quiet",
         "--planner", "fmc", "--walkers", "8", "--horizon", "3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        pids = asyncio.run(_worker_pids(nats_server.url, 2))
        assert len(pids) == 2
        asyncio.run(_first_tick(nats_server.url))  # the match is under way
        driver.send_signal(signal.SIGTERM)
        out, err = driver.communicate(timeout=30)
        assert driver.returncode == 128 + signal.SIGTERM, err
        assert "workers: 2 took part" in out
        for pid in pids.values():
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=10)


def test_a_worker_whose_driver_vanished_exits_by_itself(nats_server: NatsServer) -> None:
    command = worker_command(nats_server.url, "orphan", driver_timeout=1.0)
    worker = subprocess.Popen(
        [a for a in command if a != "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    async def beat_then_vanish() -> float:
        bus = await NatsBus.connect(nats_server.url)
        try:
            await _worker_pids(nats_server.url, 1)
            for _ in range(8):  # a driver for 2 s
                await bus.publish(DRIVER_ALIVE, DriverAlive("test", os.getpid()))
                await asyncio.sleep(0.25)
            return time.monotonic()
        finally:
            await bus.aclose()

    try:
        vanished = asyncio.run(beat_then_vanish())
        assert worker.poll() is None, "the worker left while its driver was alive"
        worker.wait(timeout=10)
        waited = time.monotonic() - vanished
        assert worker.returncode == 0 and 0.5 < waited < 5.0, (waited, worker.stderr.read())
        assert "no heartbeat from the driver" in worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)




@pytest.mark.slow
def test_kill_9_of_the_driver_leaves_no_worker_behind(nats_server: NatsServer) -> None:
    driver = subprocess.Popen(
        [sys.executable, "-c", "from fom.cli import run_main; run_main()", "--bus",
         nats_server.url, "--workers", "1", "--ticks", "100000", "--tips", "2", "--quiet",
         "--planner", "fmc", "--walkers", "8", "--horizon", "3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    pids: dict[str, int] = {}
    try:
        pids = asyncio.run(_worker_pids(nats_server.url, 1))
        asyncio.run(_first_tick(nats_server.url))
        driver.kill()
        driver.wait(timeout=10)
        (pid,) = pids.values()
        assert not left([pid], grace_s=15), f"worker {pid} outlived its driver"  # its timeout: 5 s
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=10)
        for pid in pids.values():
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.slow
def test_kill_9_of_a_driver_leaves_neither_its_workers_nor_its_private_server() -> None:
    driver = subprocess.Popen(
        [sys.executable, "-c", "from fom.cli import run_main; run_main()", "--workers", "1",
         "--ticks", "100000", "--tips", "2", "--quiet", "--planner", "fmc", "--walkers", "8",
         "--horizon", "3"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    children: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(children) < 2 and time.monotonic() < deadline:  # the server, then a worker
            children = _children(driver.pid)
            time.sleep(0.05)
        assert len(children) == 2, "the driver did not start its server and worker"
        cmdlines = {p: Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0") for p in children}
        (args,) = [a for a in cmdlines.values() if b"--ports_file_dir" in a]  # the server's
        ports_dir = Path(args[args.index(b"--ports_file_dir") + 1].decode())
        (ports,) = ports_dir.glob("*.ports")
        url = json.loads(ports.read_text())["nats"][0]
        asyncio.run(_first_tick(url))  # the match runs: the workers are planning
        driver.kill()
        driver.wait(timeout=10)
        assert not left(children, grace_s=10), "a worker or the server outlived its driver"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=10)
        for pid in children:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
