"""The bus over NATS against bare nats-py on the same nats-server, measured in one run.

    python scripts/bench_nats.py [--n 50000] [--rounds 3] [--json] [--no-uvloop] [--no-match]

Rows (a private nats-server on a free loopback port, two client connections in this process):
- tell: an actor publishing through the NATS bus to an actor on another connection, against
  bare ``nc.publish`` of ``msgpack.packb`` frames to a callback that unpacks them
  (``nats_tell_ratio``, target >= 0.8).
- ask: 100 concurrent requesters and one responding actor, against bare ``nc.request`` and a
  callback answering with ``msg.respond`` (msgpack both ways) (``nats_ask_ratio``, >= 0.7).
- workers (unless --no-match): the FMC match at 1,024 TIPs whose encounters (TIPs and their
  planning) live on 2 ``fom-worker`` processes against one in-process run, decisions per
  second (``workers_speedup``, target >= 1.6 on 2 cores); and the resident memory of each
  process of a 10,000-TIP run over 2 workers (``rss_mb_per_worker``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgpack
import nats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bus import _Counter, _Echo, _pack, _sample, _unpack

from actors import Runtime, loop_factory
from bus.codec import encode_ndarray
from bus.nats import NatsBus
from bus.server import NatsServer
from fom.app import run
from fom.config import RunConfig

REQUESTERS = 100


async def _timed(fn: Callable[[], Awaitable[int]]) -> float:
    start = time.perf_counter()
    count = await fn()
    return count / (time.perf_counter() - start)


async def tell_bus(url: str, n: int) -> int:
    """An actor on one connection receives ``n`` messages published on another."""
    sender, receiver = await NatsBus.connect(url), await NatsBus.connect(url)
    try:
        async with Runtime(receiver) as rt:
            done = asyncio.Event()
            rt.spawn(_Counter(n, done), name="sink", topics=("bench.tell",))
            await receiver._flush_queue()
            await receiver.nc.flush()
            m = _sample()
            publish = sender.publish
            for _ in range(n):
                await publish("bench.tell", m)
            await asyncio.wait_for(done.wait(), 120)
    finally:
        await sender.aclose()
        await receiver.aclose()
    return n


async def tell_bare(url: str, n: int) -> int:
    """Bare nats-py: ``n`` packed frames to a callback that unpacks them."""
    pub, sub = await nats.connect(url), await nats.connect(url)
    done = asyncio.Event()
    seen = 0

    async def cb(msg: object) -> None:
        nonlocal seen
        _unpack(msg.data)  # type: ignore[attr-defined]
        seen += 1
        if seen == n:
            done.set()

    try:
        await sub.subscribe("bench.tell", cb=cb)
        await sub.flush()
        m = _sample()
        for _ in range(n):
            await pub.publish("bench.tell", _pack(m))
        await asyncio.wait_for(done.wait(), 120)
    finally:
        await pub.close()
        await sub.close()
    return n


async def ask_bus(url: str, n: int) -> int:
    """100 requesters on one connection, one echoing actor on another."""
    per = n // REQUESTERS
    client, server = await NatsBus.connect(url), await NatsBus.connect(url)
    try:
        async with Runtime(server) as rt:
            rt.spawn(_Echo(), name="echo")
            await server._flush_queue()
            await server.nc.flush()
            m = _sample()

            async def requester() -> None:
                request = client.request
                for _ in range(per):
                    await request("bench.ask", m, timeout=30.0)

            await asyncio.gather(*(requester() for _ in range(REQUESTERS)))
    finally:
        await client.aclose()
        await server.aclose()
    return per * REQUESTERS


async def ask_bare(url: str, n: int) -> int:
    """Bare nats-py request/respond with msgpack both ways."""
    per = n // REQUESTERS
    client, server = await nats.connect(url), await nats.connect(url)

    async def respond(msg: object) -> None:
        fields = _unpack(msg.data)  # type: ignore[attr-defined]
        await msg.respond(msgpack.packb(fields, default=encode_ndarray))  # type: ignore[attr-defined]

    try:
        await server.subscribe("bench.ask", cb=respond)
        await server.flush()
        m = _sample()

        async def requester() -> None:
            for _ in range(per):
                reply = await client.request("bench.ask", _pack(m), timeout=30.0)
                _unpack(reply.data)

        await asyncio.gather(*(requester() for _ in range(REQUESTERS)))
    finally:
        await client.close()
        await server.close()
    return per * REQUESTERS


async def measure_bus(url: str, n: int, rounds: int) -> dict[str, float]:
    """Tell and ask rows, bare and bus interleaved each round; the best round of each counts."""
    pairs = {
        "tell": (lambda: tell_bare(url, n), lambda: tell_bus(url, n)),
        "ask": (lambda: ask_bare(url, n // 4), lambda: ask_bus(url, n // 4)),
    }
    r: dict[str, float] = {}
    for _ in range(rounds):
        for row, (bare, ours) in pairs.items():
            r[f"nats_{row}_bare"] = max(r.get(f"nats_{row}_bare", 0.0), await _timed(bare))
            r[f"nats_{row}_bus"] = max(r.get(f"nats_{row}_bus", 0.0), await _timed(ours))
    r["nats_tell_ratio"] = r["nats_tell_bus"] / r["nats_tell_bare"]
    r["nats_ask_ratio"] = r["nats_ask_bus"] / r["nats_ask_bare"]
    return r


def match_rate(tips: int, ticks: int, workers: int, seed: int) -> float:
    """Decisions per second of the FMC match (the run's own figure: from its first tick, the
    workers' start left out)."""
    config = RunConfig(tips=tips, ticks=ticks, workers=workers, seed=seed, planner="fmc",
                       quiet=True)  # fmt: skip
    return run(config).summary.decisions_per_s


def measure_workers(tips: int, ticks: int, rounds: int) -> dict[str, float]:
    """The match in one process and over 2 workers, interleaved; the best round of each."""
    r = {"match_in_process": 0.0, "match_2_workers": 0.0}
    for i in range(rounds):
        r["match_in_process"] = max(r["match_in_process"], match_rate(tips, ticks, 0, i))
        r["match_2_workers"] = max(r["match_2_workers"], match_rate(tips, ticks, 2, i))
    r["workers_speedup"] = r["match_2_workers"] / r["match_in_process"]
    return r


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def measure_rss(tips: int, ticks: int) -> dict[str, float]:
    """Peak resident memory of the driver and of each of its 2 workers (sampled from /proc)."""
    driver = subprocess.Popen(
        [sys.executable, "-c", "from fom.cli import run_main; run_main()", "--tips", str(tips),
         "--ticks", str(ticks), "--workers", "2", "--planner", "fmc", "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peak: dict[int, float] = {}
    try:
        while driver.poll() is None:
            for pid in (driver.pid, *_children(driver.pid)):
                peak[pid] = max(peak.get(pid, 0.0), _rss_mb(pid))
            time.sleep(0.1)
    finally:
        if driver.poll() is None:
            driver.kill()
        driver.wait()
    workers = [mb for pid, mb in peak.items() if pid != driver.pid and mb > 0]
    workers = sorted(workers)[-2:]  # the two worker processes (not the nats-server's)
    return {
        "rss_mb_driver": peak.get(driver.pid, 0.0),
        "rss_mb_per_worker": sum(workers) / len(workers) if workers else 0.0,
        "rss_tips": float(tips),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse flags, start a private nats-server, run the rows, print a table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="messages for the tell row")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the best of each counts")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-uvloop", action="store_true", help="use the standard event loop")
    parser.add_argument("--no-match", action="store_true", help="only the tell and ask rows")
    parser.add_argument("--tips", type=int, default=1024, help="TIPs of the speed-up match")
    parser.add_argument("--ticks", type=int, default=20, help="ticks of the speed-up match")
    parser.add_argument("--rss-tips", type=int, default=10_000, help="TIPs of the memory run")
    parser.add_argument("--rss-ticks", type=int, default=3, help="ticks of the memory run")
    args = parser.parse_args(argv)
    with NatsServer() as server, asyncio.Runner(
        loop_factory=loop_factory(not args.no_uvloop)
    ) as runner:
        r = runner.run(measure_bus(server.url, args.n, args.rounds))
    if not args.no_match:
        r.update(measure_workers(args.tips, args.ticks, args.rounds))
        r.update(measure_rss(args.rss_tips, args.rss_ticks))
    if args.json:
        print(json.dumps(r, indent=2))
        return
    rows = [
        ("tell (msgs/s)", "nats_tell", ">= 0.8"),
        ("ask, 100 requesters (req/s)", "nats_ask", ">= 0.7"),
    ]
    print(f"{'row':32} {'bus':>12} {'bare nats-py':>12} {'ratio':>7}  target")
    for name, key, target in rows:
        bus, bare, ratio = r[f"{key}_bus"], r[f"{key}_bare"], r[f"{key}_ratio"]
        print(f"{name:32} {bus:12,.0f} {bare:12,.0f} {ratio:7.2f}  {target}")
    if not args.no_match:
        print(
            f"FMC match, {args.tips} TIPs (decisions/s): 2 workers {r['match_2_workers']:,.0f}, "
            f"one process {r['match_in_process']:,.0f}, speed-up {r['workers_speedup']:.2f} "
            "(target >= 1.6)"
        )
        print(
            f"{args.rss_tips} TIPs over 2 workers: {r['rss_mb_per_worker']:.0f} MB per worker, "
            f"{r['rss_mb_driver']:.0f} MB in the driver"
        )


if __name__ == "__main__":
    main()
