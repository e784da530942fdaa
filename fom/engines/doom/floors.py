"""Floors: K games of one map played in lockstep, one Engine to the actors (``--floors K``).

Each floor is a :class:`DoomEngine` (its own ViZDoom process); floor 0 runs in this process and
every other floor in a worker process of its own, so the K games step on several cores at once:
a tick sends the workers their actions, plays floor 0 meanwhile (each floor resolves its
actions with :func:`fom.match.resolve_tick`, the one match core, and advances), and gathers
the replies in floor order, so the outcome does not depend on which floor answered first.
Floor f's game plays on the f-th CPU this process may use (:mod:`.affinity`), and both ends of
a pipe look at it for a moment before they sleep on it (SPIN_S).
(Floor 0 at home rather than in a worker of its own: one process and one pipe fewer per tick,
measured 1.04-1.11x -> 1.13-1.37x for two floors over one, scripts/bench_doom.py.)
Encounter ids are global: ``(base + local) * K + floor``, so they never clash across floors,
nor across the games of a floor that was restarted.

A floor whose game dies (its ViZDoom process was killed, or its worker) is reported through
:meth:`FloorSet.take_failures`; its open encounters end "closed" at that tick, and the floor
starts a new game (the next generation of its episode seeds) while the others play on.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from fom.engines.base import ShotOutcome, StepReport, WorldView
from fom.engines.doom.engine import DoomEngine, EpisodeEnd
from fom.engines.doom.monsters import PATTERNS
from fom.engines.doom.watchdog import HANG_S
from fom.errors import ConfigError, EngineError, FomError
from fom.state import SelfState

if TYPE_CHECKING:
    from fom.match import Act, TickResolution

__all__ = ["FloorFailure", "FloorSet"]

REPLY_TIMEOUT_S = 60.0
"""Longest wait for a floor's reply before it counts as dead (a game that hangs in it is killed
by the worker's watchdog first, after HANG_S, so its reply says why)."""
SPIN_S = 0.002
"""How long the driver waits for a floor's reply, and a floor's worker for its next operation,
looking at the pipe without sleeping before they block on it. Each side answers within a tick
(a game's decision, the actors of a tick: about 1 ms here), and a process that sleeps is woken
late: measured on 2 CPUs, two floors made 1,150-1,280 ticks/s blocking and 1,480 spinning (the
floors alone, 1,500 ticks), and fom-run's two floors 1,940-1,970 decisions/s spinning 1 ms,
2,040-2,150 spinning 2 ms. The spin is bounded, so a slow tick costs 2 ms of one CPU at most."""


@dataclass(frozen=True, slots=True)
class FloorFailure:
    """A floor lost its game: which, why, and how many times it has been restarted."""

    floor: int
    error_type: str
    error: str
    restarts: int


@dataclass(frozen=True, slots=True)
class _Snap:
    """A floor's state as the composite needs it between two of its ticks (local ids)."""

    view: WorldView
    projections: dict[int, SelfState]
    threats: dict[int, float]
    open: tuple[int, ...]
    episodes: tuple[EpisodeEnd, ...]


def _snap(engine: DoomEngine) -> _Snap:
    view = engine.observe()
    open_ids = tuple(sorted(engine._m.open))
    return _Snap(
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
            return _snap(engine)
        case "reset":
            engine.reset(*args)
            return _snap(engine)
        case "resolve":
            from fom.match import resolve_tick  # the match core imports the planners, which
            # import the monster table of this package: imported when first needed

            resolution = resolve_tick(engine, *args)
            return resolution, _snap(engine)
        case "advance":
            reports = engine.advance()
            return reports, _snap(engine)
        case "move" | "look_at" | "shoot" | "close":
            return getattr(engine, op)(*args)
        case "save":
            return engine.save_state()
        case "restore":
            engine.restore_state(*args)
            return _snap(engine)
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
                _spin(conn)
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
            conn.send(("dead", _why(engine, exc)))
    finally:
        if engine is not None:
            engine.shutdown()


def _why(engine: DoomEngine | None, exc: BaseException) -> str:
    """Why a floor lost its game: its watchdog's verdict if it killed a game that hung."""
    verdict = engine.watchdog.verdict if engine is not None else None
    return verdict or f"{type(exc).__name__}: {exc}"


def _spin(conn: Connection) -> bool:
    """Whether ``conn`` has something to read within SPIN_S, looking without sleeping."""
    end = time.perf_counter() + SPIN_S
    while time.perf_counter() < end:
        if conn.poll(0):
            return True
    return False


class _Local:
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
            self._reply = ("dead", _why(self.engine, exc))

    def recv(self) -> tuple[str, Any]:
        reply, self._reply = self._reply, None
        return reply if reply is not None else ("dead", "no reply")

    def stop(self) -> None:
        self.engine.shutdown()


class _Remote:
    """A floor in a worker process of its own."""

    def __init__(self, spec: dict[str, Any]) -> None:
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
        with contextlib.suppress(OSError, ValueError):  # if dead, recv says so
            self.conn.send((op, args))

    def recv(self) -> tuple[str, Any]:
        try:
            if not _spin(self.conn) and not self.conn.poll(REPLY_TIMEOUT_S):
                return ("dead", f"no reply within {REPLY_TIMEOUT_S:g} s")
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            return ("dead", f"the floor's worker went away ({type(exc).__name__})")

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(("stop", ()))
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


class FloorSet:
    """K floors of one scenario as one Engine (see the module docstring)."""

    def __init__(self, scenario: str, seed: int = 0, *, floors: int = 2, frame_skip: int = 4,
                 hang_s: float = HANG_S) -> None:  # fmt: skip
        """``hang_s``: how long a game call may wait before the floor's game is killed."""
        if floors < 1:
            raise ConfigError(f"--floors must be >= 1, got {floors}")
        self.k = int(floors)
        self.scenario, self.frame_skip, self.hang_s = scenario, int(frame_skip), float(hang_s)
        self._seed = int(seed)
        self._restarts = [0] * self.k
        self._base = [0] * self.k
        self._seen = [-1] * self.k
        """The highest local id each floor's current game has given out."""
        self._failures: list[FloorFailure] = []
        self._episodes: list[EpisodeEnd] = []
        self._floors: list[_Local | _Remote] = []
        try:
            for f in range(self.k):
                self._floors.append(self._start(f))
        except BaseException:
            self.shutdown()
            raise
        self.level, self.geometry = self._floors[0].level, self._floors[0].geometry
        self.weapons = PATTERNS
        self._tick = 0
        self._snaps: list[_Snap] = []
        self.reset(seed)

    def _start(self, f: int) -> _Local | _Remote:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        cpu = cpus[f % len(cpus)] if self.k > 1 and cpus else None  # floors play at once
        spec = {"scenario": self.scenario, "seed": self._seed, "frame_skip": self.frame_skip,
                "floor": f, "generation": self._restarts[f], "cpu": cpu,
                "hang_s": self.hang_s}  # fmt: skip
        return _Local(spec) if f == 0 else _Remote(spec)

    def shutdown(self) -> None:
        """Stop every floor's game (and worker); idempotent."""
        floors, self._floors = self._floors, []
        for floor in floors:
            floor.stop()

    def __del__(self) -> None:
        self.shutdown()

    # ------------------------------------------------------------------ the floors

    def _all(self, op: str, args_of: Any) -> list[tuple[str, Any]]:
        """Send ``op`` to every floor at once, then gather the replies in floor order (the
        workers' first, so they play while this process plays floor 0)."""
        for f, floor in reversed(list(enumerate(self._floors))):
            floor.send(op, args_of(f))
        return [floor.recv() for floor in self._floors]

    def _one(self, f: int, op: str, *args: Any) -> Any:
        floor = self._floors[f]
        floor.send(op, args)
        return self._check(f, floor.recv())

    def _check(self, f: int, reply: tuple[str, Any]) -> Any:
        status, value = reply
        if status == "err":
            raise value
        if status == "dead":
            raise _FloorDied(f, value)
        return value

    def _glob(self, f: int, local: int) -> int:
        return (self._base[f] + local) * self.k + f

    def _where(self, encounter: object) -> tuple[int, int]:
        if isinstance(encounter, bool) or not isinstance(encounter, int):
            raise EngineError(f"encounter must be an int, got {encounter!r}")
        f, rest = encounter % self.k, encounter // self.k
        local = rest - self._base[f]
        if encounter < 0 or local < 0:
            raise EngineError(f"encounter {encounter} belongs to a floor's earlier game")
        return f, local

    def _restart(self, f: int, why: str) -> tuple[StepReport, ...]:
        """Floor ``f`` lost its game: report it, close its encounters, start a new game."""
        self._restarts[f] += 1
        kind, _, text = why.partition(": ")
        self._failures.append(FloorFailure(f, kind or "FloorDied", text or why, self._restarts[f]))
        old = self._snaps[f]
        me = old.view.self_state
        exposure = float(self.level.exposure[me.node])
        closed = tuple(
            StepReport(self._glob(f, e), 0.0, exposure, me.health, 0.0, me.node, me.node, True,
                       "closed")
            for e in old.open
        )
        self._base[f] += self._seen[f] + 1  # the new game's ids follow the old game's
        self._seen[f] = -1
        self._floors[f].stop()
        self._floors[f] = self._start(f)
        self._snaps[f] = self._one(f, "reset", self._seed)
        return closed

    # ------------------------------------------------------------------ Engine

    @property
    def tick(self) -> int:
        """Decisions played since reset (every floor plays one per tick)."""
        return self._tick

    def take_episodes(self) -> tuple[EpisodeEnd, ...]:
        """The episodes every floor ended since the last call (floor order within a tick)."""
        done, self._episodes = tuple(self._episodes), []
        return done

    def take_failures(self) -> tuple[FloorFailure, ...]:
        """The floors that lost their game since the last call."""
        done, self._failures = tuple(self._failures), []
        return done

    def reset(self, seed: int | None = None) -> WorldView:
        """Every floor starts a fresh match from ``seed`` (their episodes differ by floor)."""
        if seed is not None:
            self._seed = int(seed)
        self._tick = 0
        self._snaps = [self._check(f, r) for f, r in
                       enumerate(self._all("reset", lambda f: (self._seed,)))]  # fmt: skip
        self._absorb()
        return self.observe()

    def _absorb(self) -> None:
        for f, snap in enumerate(self._snaps):
            self._episodes.extend(snap.episodes)
            self._seen[f] = max([self._seen[f], *snap.open, *(o.id for o in snap.view.opponents)])

    def observe(self) -> WorldView:
        """The bot of floor 0 and the opponents of every floor (global ids, sorted)."""
        opponents = []
        for f, snap in enumerate(self._snaps):
            for o in snap.view.opponents:
                g = self._glob(f, o.id)
                opponents.append(o if g == o.id else  # (one floor, first game: ids are global)
                                 replace(o, id=g, floor=g + 1,
                                         position=self.level.position(o.node, g + 1)))  # fmt: skip
        opponents.sort(key=lambda o: o.id)
        return WorldView(self._tick, self._snaps[0].view.self_state, tuple(opponents))

    def projection(self, encounter: int) -> SelfState:
        """The bot of the encounter's floor, on the encounter's own floor of the level."""
        f, local = self._where(encounter)
        snap = self._snaps[f]
        me = snap.projections.get(local, snap.view.self_state)
        if me.floor == encounter + 1:
            return me
        return replace(me, floor=encounter + 1,
                       position=self.level.position(me.node, encounter + 1))  # fmt: skip

    def trigger_holders(self, encounters: tuple[int, ...]) -> tuple[int, ...]:
        """One trigger per body, so per floor: its most threatening encounter."""
        best: dict[int, tuple[float, int]] = {}
        for g in sorted(encounters):
            f, local = self._where(g)
            threat = self._snaps[f].threats.get(local, 0.0)
            if f not in best or threat > best[f][0]:
                best[f] = (threat, g)
        return tuple(sorted(g for _, g in best.values()))

    def move(self, encounter: int, node: int) -> None:
        """Forwarded to the encounter's floor."""
        f, local = self._where(encounter)
        self._one(f, "move", local, node)

    def look_at(self, encounter: int, aim_offset: float, lead_gain: float = 0.0) -> None:
        """Forwarded to the encounter's floor."""
        f, local = self._where(encounter)
        self._one(f, "look_at", local, aim_offset, lead_gain)

    def shoot(self, encounter: int) -> ShotOutcome:
        """Forwarded to the encounter's floor (its id made global)."""
        f, local = self._where(encounter)
        return replace(self._one(f, "shoot", local), encounter=encounter)

    def close(self, encounter: int) -> None:
        """Forwarded to the encounter's floor."""
        f, local = self._where(encounter)
        self._one(f, "close", local)

    def advance(self) -> tuple[StepReport, ...]:
        """Every floor advances at once; their reports, with global ids, sorted."""
        reports: list[StepReport] = []
        for f, reply in enumerate(self._all("advance", lambda f: ())):
            try:
                local_reports, self._snaps[f] = self._check(f, reply)
            except _FloorDied as dead:
                reports.extend(self._restart(f, dead.why))
                continue
            reports.extend(replace(r, encounter=self._glob(f, r.encounter))
                           for r in local_reports)  # fmt: skip
        return self._after(reports)

    def _after(self, reports: list[StepReport]) -> tuple[StepReport, ...]:
        self._tick += 1
        self._absorb()
        return tuple(sorted(reports, key=lambda r: r.encounter))

    def resolve(self, tick: int, acts: list[Act]) -> TickResolution:
        """The tick of every floor at once, each resolved by its own ``resolve_tick``."""
        from fom.match import ActResult, TickResolution
        per: list[list[Act]] = [[] for _ in range(self.k)]
        for a in acts:
            f, local = self._where(a.encounter)
            per[f].append(replace(a, encounter=local))
        acted = [[a.encounter for a in acts if a.encounter % self.k == f] for f in range(self.k)]
        results: dict[int, ActResult | EngineError] = {}
        reports: list[StepReport] = []
        for f, reply in enumerate(self._all("resolve", lambda f: (tick, per[f]))):
            try:
                resolution, self._snaps[f] = self._check(f, reply)
            except _FloorDied as dead:
                closed = self._restart(f, dead.why)
                reports.extend(closed)
                by_id = {r.encounter: r for r in closed}
                for g in acted[f]:
                    report = by_id.get(g)
                    if report is None:
                        results[g] = EngineError(f"encounter {g}: its floor's game died")
                    else:
                        results[g] = ActResult(tick, ShotOutcome(g, False, False, 0.0, 0.0, 0.0),
                                               report)  # fmt: skip
                continue
            for local, result in resolution.results.items():
                g = self._glob(f, local)
                results[g] = (
                    EngineError(str(result)) if isinstance(result, EngineError) else
                    result if g == local else
                    ActResult(result.tick, replace(result.shot, encounter=g),
                              replace(result.report, encounter=g))
                )  # fmt: skip
            reports.extend(r if (g := self._glob(f, r.encounter)) == r.encounter else
                           replace(r, encounter=g) for r in resolution.reports)  # fmt: skip
        return TickResolution(dict(sorted(results.items())), self._after(reports))

    def save_state(self) -> object:
        """Every floor's saved game and the composite's own counters."""
        states = [self._one(f, "save") for f in range(self.k)]
        return _Saved(id(self), states, self._tick, list(self._base), list(self._snaps))

    def restore_state(self, state: object) -> None:
        """Every floor back to its saved game."""
        if not isinstance(state, _Saved) or state.owner != id(self):
            raise EngineError("not a state saved by this FloorSet")
        for f in range(self.k):
            self._one(f, "restore", state.states[f])
        self._tick, self._base, self._snaps = state.tick, list(state.base), list(state.snaps)


@dataclass(frozen=True, slots=True)
class _Saved:
    owner: int
    states: list[object]
    tick: int
    base: list[int]
    snaps: list[_Snap]


class _FloorDied(Exception):
    """Raised inside FloorSet when a floor's game is gone."""

    def __init__(self, floor: int, why: str) -> None:
        super().__init__(f"floor {floor}: {why}")
        self.floor = floor
        self.why = why
