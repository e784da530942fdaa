"""A private ``nats-server`` on a free loopback port: for ``fom-run --workers N`` without
``--bus``, the tests and the benchmarks. Stopped on every path out (use it as a context manager).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bus.errors import BusUnavailable

__all__ = ["INSTALL_HINT", "NatsServer", "nats_server_binary"]

INSTALL_HINT = "install the nats-server package (apt-get install nats-server) or pass --bus URL"
"""What to do when no ``nats-server`` is on PATH, said in the one-line error."""


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGTERM when its parent dies (even by
    kill -9), so a private server never outlives the process that started it."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


_PR_SET_PDEATHSIG = 1


def nats_server_binary() -> str | None:
    """The path of ``nats-server`` (PATH, then /usr/sbin where Debian puts it), or None."""
    return shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/bin")


class NatsServer:
    """``nats-server -a 127.0.0.1 -p -1`` in a temporary directory; ``url`` once started."""

    def __init__(self, *, ready_timeout: float = 10.0, max_payload: int | None = None) -> None:
        self.ready_timeout = ready_timeout
        self.max_payload = max_payload
        self.url = ""
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> NatsServer:
        """Start the server and wait (bounded) until it accepts connections."""
        binary = nats_server_binary()
        if binary is None:
            raise BusUnavailable(f"no nats-server on PATH: {INSTALL_HINT}")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="fom-nats-")
        work = Path(self._dir.name)
        for stale in work.glob("*.ports"):  # a restart after `pause`
            stale.unlink()
        args = [binary, "-a", "127.0.0.1", "-p", str(self.port or -1),
                "--ports_file_dir", str(work), "-l", str(work / "nats.log")]  # fmt: skip
        if self.max_payload:
            conf = work / "nats.conf"
            conf.write_text(f"max_payload: {self.max_payload}\n")
            args += ["-c", str(conf)]
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            self._wait_ready(work)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, work: Path) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                status = self._proc.returncode
                raise BusUnavailable(f"nats-server exited at start (status {status})")
            for ports in work.glob("*.ports"):
                with contextlib.suppress(ValueError, OSError):
                    url = json.loads(ports.read_text())["nats"][0]
                    self.port = int(url.rsplit(":", 1)[1])
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                        self.url = f"nats://127.0.0.1:{self.port}"
                        return
            time.sleep(0.02)
        raise BusUnavailable(f"nats-server was not ready within {self.ready_timeout:g} s")

    def pause(self) -> None:
        """Stop the server, keeping its port, so ``start`` brings it back at the same URL."""
        self._terminate()

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5.0)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its directory."""
        self._terminate()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
