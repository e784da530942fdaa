"""One floor of a FloorSet: its DoomEngine in this process (floor 0) or in a worker process of
its own, behind the same ``send(op, args)`` / ``recv()`` pair, whose reply is ``("ok", value)``,
``("err", FomError)`` (bad input; the game is fine) or ``("dead", why)`` (the game is gone)."""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from fom.engines.base import WorldView
from fom.engines.doom.engine import DoomEngine, EpisodeEnd
from fom.errors import ConfigError, EngineError, FomError
from fom.state import SelfState

__all__ = [
    "HELD_OPS",
    "REPLY_TIMEOUT_S",
    "SPIN_S",
    "WAKE_S",
    "Local",
    "Lost",
    "Remote",
    "Snap",
    "snap",
]

REPLY_TIMEOUT_S = 60.0
"""Longest wait for a floor's reply before it counts as dead (a game that hangs in it is killed
by the worker's watchdog first, after HANG_S, so its reply says why), but for HELD_OPS."""
HELD_OPS = frozenset({"save", "restore"})
"""A worker's operations whose game calls keep its GIL (ViZDoom's save and load), so that its
watchdog cannot stop a game that hangs in them: the driver waits for their reply only the
floor's ``hang_s``, then kills the worker (whose reaper ends the game)."""
WAKE_S = 0.5
"""The driver counts its waits for a reply in wake-ups this far apart, as the watchdog does, so
that a run suspended as a whole (Ctrl-Z) does not count its pause against its floors."""
SPIN_S = 0.002
"""How long the driver waits for a floor's reply, and a floor's worker for its next operation,
looking at the pipe without sleeping before they block on it. Each side answers within a tick
(a game's decision, the actors of a tick: about 1 ms here), and a process that sleeps is woken
late: measured on 2 CPUs, two floors made 1,150-1,280 ticks/s blocking and 1,480 spinning (the
floors alone, 1,500 ticks), and fom-run's two floors 1,940-1,970 decisions/s spinning 1 ms,
2,040-2,150 spinning 2 ms. The spin is bounded, so a slow tick costs 2 ms of one CPU at most."""


@dataclass(frozen=True, slots=True)
class Snap:
    """A floor's state as the composite needs it between two of its ticks (local ids)."""

    view: WorldView
    projections: dict[int, SelfState]
    threats: dict[int, float]
    open: tuple[int, ...]
    episodes: tuple[EpisodeEnd, ...]


def snap(engine: DoomEngine) -> Snap:
    view = engine.observe()
    open_ids = tuple(sorted(engine._m.open))
    return Snap(
        view=view,
        projections={e: engine.projection(e) for e in open_ids},
        threats={e: engine.threat(e) for e in open_ids},
        open=open_ids,
        episodes=engine.take_episodes(),
    )


def _call(engine: DoomEngine, op: str, args: tuple) -> Any:
    """One operation on a floor's engine; the reply carries the floor's new snapshot."""
    match op:
        case "snap":
            return snap(engine)
        case "reset":
            engine.reset(*args)
            return snap(engine)
        case "resolve":
            from fom.match import resolve_tick  # the match core imports the planners, which
            # import the monster table of this package: imported when first needed

            resolution = resolve_tick(engine, *args)
            return resolution, snap(engine)
        case "advance":
            reports = engine.advance()
            return reports, snap(engine)
        case "move" | "look_at" | "shoot" | "shoot_rested" | "close":
            return getattr(engine, op)(*args)
        case "save":
            return engine.save_state()
        case "restore":
            engine.restore_state(*args)
            return snap(engine)
        case _:
            raise EngineError(f"unknown floor operation {op!r}")


def _serve(conn: Connection, spec: dict[str, Any]) -> None:
    """A floor's worker: host one DoomEngine and answer the composite until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver stops us (or its pipe closes)
    engine = None
    try:
        engine = DoomEngine(**spec)
        conn.send(("ok", (engine.level, engine.geometry)))
        while True:
            try:
                spin(conn)
                op, args = conn.recv()
            except EOFError:
                return
            if op == "stop":
                return
            try:
                conn.send(("ok", _call(engine, op, args)))
            except FomError as exc:  # bad input from the caller: the game is fine
                conn.send(("err", exc))
    except BaseException as exc:  # the game died: say so, then end (the composite restarts us)
        with contextlib.suppress(OSError, ValueError):
            conn.send(("dead", why(engine, exc)))
    finally:
        if engine is not None:
            engine.shutdown()


def why(engine: DoomEngine | None, exc: BaseException) -> str:
    """Why a floor lost its game: its watchdog's verdict if it killed a game that hung."""
    verdict = engine.watchdog.verdict if engine is not None else None
    return verdict or f"{type(exc).__name__}: {exc}"


def spin(conn: Connection) -> bool:
    """Whether ``conn`` has something to read within SPIN_S, looking without sleeping."""
    end = time.perf_counter() + SPIN_S
    while time.perf_counter() < end:
        if conn.poll(0):
            return True
    return False


class Local:
    """Floor 0, in this process (no worker, no pipe: a game that hangs rather than dies is
    stopped by the engine's watchdog, :mod:`.watchdog`)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        try:
            self.engine = DoomEngine(**spec)
        except FomError:
            raise
        except Exception as exc:  # vizdoom's own: the game could not start
            raise ConfigError(
                f"floor {spec['floor']} could not start its game: {type(exc).__name__}: {exc}"
            ) from exc
        self.level, self.geometry = self.engine.level, self.engine.geometry
        self._reply: tuple[str, Any] | None = None

    def send(self, op: str, args: tuple) -> None:
        try:
            self._reply = ("ok", _call(self.engine, op, args))
        except FomError as exc:
            self._reply = ("err", exc)
        except Exception as exc:  # vizdoom's own errors: the game process is gone
            self._reply = ("dead", why(self.engine, exc))

    def recv(self) -> tuple[str, Any]:
        reply, self._reply = self._reply, None
        return reply if reply is not None else ("dead", "no reply")

    def stop(self) -> None:
        self.engine.shutdown()


class Remote:
    """A floor in a worker process of its own."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.floor, self.hang_s = int(spec["floor"]), float(spec["hang_s"])
        self._op = ""  # the operation last sent
        self._hung = False
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, spec), daemon=True,
                                name=f"fom-doom-floor-{spec['floor']}")  # fmt: skip
        self.proc.start()
        child.close()
        status, value = self.recv()
        if status != "ok":
            self.stop()
            raise ConfigError(f"floor {spec['floor']} could not start its game: {value}")
        self.level, self.geometry = value

    def send(self, op: str, args: tuple) -> None:
        self._op = op
        with contextlib.suppress(OSError, ValueError):  # if dead, recv says so
            self.conn.send((op, args))

    def recv(self) -> tuple[str, Any]:
        held = self._op in HELD_OPS
        wait = self.hang_s if held else REPLY_TIMEOUT_S
        try:
            if not spin(self.conn) and not self._poll(wait):
                self._hung = True
                if held:
                    return ("dead", f"GameHung: floor {self.floor}'s game did not answer a "
                                    f"{self._op} for {wait:g} s; killed its worker")  # fmt: skip
                return ("dead", f"no reply within {wait:g} s")
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            return ("dead", f"the floor's worker went away ({type(exc).__name__})")

    def _poll(self, seconds: float) -> bool:
        """Whether a reply comes within ``seconds``, counted in wake-ups (WAKE_S)."""
        return any(self.conn.poll(WAKE_S) for _ in range(max(1, math.ceil(seconds / WAKE_S))))

    def stop(self) -> None:
        """Stop the worker: told to, or killed at once if it did not answer."""
        if not self._hung:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(("stop", ()))
            self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()
            # (not join(): its game, a child that may be stopped, holds the worker's sentinel
            # open, and is only reaped once the worker is: is_alive() reaps it)
            deadline = time.monotonic() + 5
            while self.proc.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        self.conn.close()


class Lost:
    """A floor whose game was lost in the middle of a search over the game (fmc-engine): nothing
    calls into it any more, and it answers every operation that it is dead, so the next tick
    reports it and starts a new game."""

    def __init__(self, why: str) -> None:
        self.why = why

    def send(self, op: str, args: tuple) -> None:
        """Nothing to send to."""

    def recv(self) -> tuple[str, Any]:
        return ("dead", self.why)

    def stop(self) -> None:
        """Its game was stopped when it was lost."""
