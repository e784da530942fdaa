"""The driver's side of a run over NATS: the server (given, or a private one), the connection,
the worker processes it starts, and stopping all of them on every path out.

    async with open_cluster(config) as cluster:   # None when the run is in one process
        ... RemoteWalkerPool(..., link=cluster.link), EventBridge(cluster.bus) ...
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from actors.remote_pool import WorkerLink
from bus import BusUnavailable
from bus.nats import NatsBus, check_url
from bus.server import INSTALL_HINT, NatsServer, nats_server_binary
from fom.config import RunConfig
from fom.errors import ConfigError, RunFailed

__all__ = ["Cluster", "open_cluster", "worker_command"]

log = logging.getLogger("fom.app.cluster")

WORKERS_READY_S = 30.0
"""How long the driver waits for the workers it started to say they are alive."""
STOP_S = 5.0


def worker_command(url: str, name: str, driver_timeout: float = 5.0) -> list[str]:
    """The command line of one ``fom-worker`` (this interpreter, so the same installation)."""
    return [
        sys.executable, "-c", "import sys; from fom.cli import worker_main; worker_main()",
        "--bus", url, "--name", name, "--driver-timeout", str(driver_timeout),
        "--orphan-timeout", str(WORKERS_READY_S), "--quiet", "--exit-with-parent",
    ]  # fmt: skip


@dataclass(slots=True)
class Cluster:
    """What a distributed run holds: stop it with ``close`` (``open_cluster`` does)."""

    bus: NatsBus
    link: WorkerLink
    server: NatsServer | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop_workers(self) -> None:
        """SIGTERM every worker this driver started, then SIGKILL what is left after 5 s."""
        for proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_S)

    def check_started(self) -> None:
        """RunFailed if a worker this driver started has exited already."""
        for proc in self.procs:
            if proc.poll() is not None:
                raise RunFailed(f"a worker exited at start with status {proc.returncode}")

    async def close(self) -> None:
        """Stop the heartbeat, the workers, the connection and the private server."""
        try:
            self.link.close()
            self.stop_workers()
            await self.bus.aclose()
        finally:
            if self.server is not None:
                self.server.stop()


def _same_code_env() -> dict[str, str]:
    """The environment for a worker: this one, with the directory FOM runs from first on the
    path, so a worker runs the driver's code whatever its working directory."""
    import fom

    root = str(Path(fom.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


async def _connect(url: str) -> NatsBus:
    try:
        check_url(url)
        return await NatsBus.connect(url, name="fom-driver")
    except BusUnavailable as exc:
        raise ConfigError(str(exc)) from None


@contextlib.asynccontextmanager
async def open_cluster(config: RunConfig) -> AsyncIterator[Cluster | None]:
    """The cluster for ``config`` (None without ``--bus`` and ``--workers``), stopped on exit."""
    if not config.bus and not config.workers:
        yield None
        return
    server = None
    if config.bus:
        url = config.bus
    else:
        if nats_server_binary() is None:
            raise ConfigError(f"--workers needs a NATS server: {INSTALL_HINT}")
        try:
            server = NatsServer().start()
        except BusUnavailable as exc:
            raise ConfigError(f"--workers: {exc}") from None
        url = server.url
    cluster: Cluster | None = None
    try:
        bus = await _connect(url)
        run = uuid.uuid4().hex[:12]
        link = WorkerLink(bus, run, timeout=config.request_timeout)
        cluster = Cluster(bus, link, server)
        await link.start()
        for i in range(config.workers):
            cluster.procs.append(
                subprocess.Popen(
                    worker_command(url, f"w{i}-{run}-{os.getpid()}"),
                    stdin=subprocess.DEVNULL,
                    env=_same_code_env(),
                    start_new_session=True,  # the driver stops them, not the terminal's Ctrl-C
                )
            )
        if config.workers:
            live = await link.wait_for(config.workers, WORKERS_READY_S, cluster.check_started)
            if len(live) < config.workers:
                raise RunFailed(
                    f"only {len(live)} of {config.workers} workers started within "
                    f"{WORKERS_READY_S:g} s"
                )
        yield cluster
    finally:
        if cluster is not None:
            await cluster.close()
        elif server is not None:
            server.stop()
