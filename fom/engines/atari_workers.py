"""Child processes that step Atari walkers, each with its own emulator, so FMC uses every core.

The parent sends a worker a chunk of walkers (serialized emulator states, RNG included, and one
action each); the worker restores, acts, reads the observation and serializes the new states back.
Workers are pure functions of what they receive, so a swarm stepped in any number of processes
gives the same results as one stepped in one. A worker is a fresh interpreter
(``python -m fom.engines.atari_workers``) talking over a socket pair. Every worker is stopped on
every path out:
:meth:`AtariWorkers.close` (also run by a finalizer when the owner is collected and at interpreter
exit) asks, waits, then terminates; a worker whose parent vanished reads EOF and exits; workers
ignore SIGINT, so Ctrl-C is the parent's to handle. A worker that does not answer within
``timeout`` seconds, or dies, raises :class:`fom.errors.EngineError` in the parent.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import weakref
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from fom.errors import EngineError

__all__ = ["AtariWorkers", "WorkerSettings"]


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """What a worker needs to build the same emulator as its parent."""

    game: str
    frameskip: int
    obs: str
    max_episode_frames: int
    pixel_block: int


def _serve(conn: Connection, settings: WorkerSettings) -> None:
    """A worker's loop: step the chunks it is sent until told to stop or the parent goes."""
    from ale_py import ALEState

    from fom.engines.atari import AtariSimulator

    sim = AtariSimulator(
        settings.game, frameskip=settings.frameskip, obs=settings.obs,  # type: ignore[arg-type]
        max_episode_frames=settings.max_episode_frames, pixel_block=settings.pixel_block,
    )  # fmt: skip
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        states, actions = message
        try:
            new, rewards, lives, over, obs = sim.step_states([ALEState(s) for s in states], actions)
            conn.send(("ok", ([bytes(s.serialize()) for s in new], rewards, lives, over, obs)))
        except Exception as exc:  # reported to the parent, which raises
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _stop(conns: list[Connection], procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """Ask every worker to stop, wait up to ``timeout`` s, then terminate and kill stragglers."""
    for conn in conns:
        with contextlib.suppress(OSError, ValueError):
            conn.send(None)
    for proc in procs:
        for stop in (None, proc.terminate, proc.kill):
            if stop is not None:
                stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout)
                break
    for conn in conns:
        conn.close()


def _start(settings: WorkerSettings) -> tuple[Connection, subprocess.Popen[bytes]]:
    """Start one worker (``python -m fom.engines.atari_workers``) on one end of a socket pair.

    A fresh interpreter, not a fork: nothing of the parent's threads or event loop is copied and
    the parent's main module is never imported again.
    """
    ours, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno()), json.dumps(asdict(settings))],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return Connection(ours.detach()), proc


class AtariWorkers:
    """``count`` worker processes stepping chunks of walkers."""

    def __init__(self, count: int, settings: WorkerSettings, timeout: float = 120.0) -> None:
        """Start the workers and wait until each has loaded its ROM (or raise EngineError)."""
        self.timeout = timeout
        self._conns: list[Connection] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._finalizer = weakref.finalize(self, _stop, self._conns, self._procs, 2.0)
        try:
            for _ in range(count):
                conn, proc = _start(settings)
                self._conns.append(conn)
                self._procs.append(proc)
            for k in range(count):
                self._receive(k)
        except BaseException:
            self.close()
            raise

    def __len__(self) -> int:
        """Number of workers."""
        return len(self._conns)

    @property
    def pids(self) -> list[int | None]:
        """The workers' process ids."""
        return [p.pid for p in self._procs]

    def submit(self, k: int, states: list[bytes], actions: list[int]) -> None:
        """Send worker ``k`` a chunk to step (collect it with :meth:`collect`)."""
        try:
            self._conns[k].send((states, actions))
        except (OSError, ValueError) as exc:
            raise EngineError(f"Atari worker {k + 1} is gone: {exc}") from None

    def collect(self, k: int) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Worker ``k``'s answer: (states, rewards, lives, game over, observations)."""
        return self._receive(k)

    def _receive(self, k: int) -> Any:
        conn, proc = self._conns[k], self._procs[k]
        try:
            ready = conn.poll(self.timeout)
            if not ready:
                raise EngineError(f"Atari worker {k + 1} did not answer in {self.timeout:g} s")
            status, payload = conn.recv()
        except (EOFError, OSError):
            raise EngineError(f"Atari worker {k + 1} died (exit code {proc.poll()})") from None
        if status == "error":
            raise EngineError(f"Atari worker {k + 1} failed: {payload}")
        return payload

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        self._finalizer()


def main(argv: list[str] | None = None) -> None:
    """A worker's entry point: ``python -m fom.engines.atari_workers FD SETTINGS_JSON``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    fd, settings = argv if argv is not None else sys.argv[1:]
    with Connection(int(fd)) as conn:
        _serve(conn, WorkerSettings(**json.loads(settings)))


if __name__ == "__main__":
    main()
