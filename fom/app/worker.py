"""``fom-worker``: connect to the NATS server and host encounters (and plan) for the drivers
there until told to stop (SIGTERM, Ctrl-C) or until the driver served has gone silent."""

from __future__ import annotations

import asyncio
import os
import signal

from actors import run as run_loop
from actors.worker import WorkerResult, default_name, serve
from bus import BusUnavailable
from bus.nats import NatsBus, check_url
from fom.config import WorkerConfig
from fom.errors import ConfigError

__all__ = ["run_worker", "run_worker_async"]


async def run_worker_async(config: WorkerConfig) -> WorkerResult:
    """Serve encounter steps and plan batches as ``config`` says; ConfigError (one line) when
    no server answers."""
    config.validate()
    name = config.name or default_name()
    try:
        check_url(config.bus)
        bus = await NatsBus.connect(config.bus, name=f"fom-worker-{name}")
    except BusUnavailable as exc:
        raise ConfigError(str(exc)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await serve(
            bus,
            name,
            driver_timeout=config.driver_timeout,
            orphan_timeout=config.orphan_timeout,
            parent=os.getppid() if config.exit_with_parent else None,
            stop=stop,
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await bus.aclose()


def run_worker(config: WorkerConfig) -> WorkerResult:
    """``run_worker_async`` on a fresh event loop."""
    return run_loop(run_worker_async(config), use_uvloop=config.uvloop)
