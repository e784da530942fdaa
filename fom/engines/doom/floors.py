"""Floors: K games of one map played in lockstep, one Engine to the actors (``--floors K``).

Each floor is a :class:`DoomEngine` (its own ViZDoom process); floor 0 runs in this process and
every other floor in a worker process of its own, so the K games step on several cores at once:
a tick sends the workers their actions, plays floor 0 meanwhile (each floor resolves its
actions with :func:`fom.match.resolve_tick`, the one match core, and advances), and gathers
the replies in floor order, so the outcome does not depend on which floor answered first.
Floor f's game plays on the f-th CPU this process may use (:mod:`.affinity`), and both ends of
a pipe look at it for a moment before they sleep on it (:data:`.floor.SPIN_S`).
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
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fom.engines.base import ShotOutcome, StepReport, WorldView
from fom.engines.doom.engine import EpisodeEnd
from fom.engines.doom.floor import Local, Lost, Remote, Snap
from fom.engines.doom.monsters import PATTERNS
from fom.engines.doom.watchdog import HANG_S, Watchdog
from fom.errors import ConfigError, EngineError, GameLost
from fom.state import SelfState

if TYPE_CHECKING:
    from fom.match import Act, TickResolution

__all__ = ["FloorFailure", "FloorSet"]

@dataclass(frozen=True, slots=True)
class FloorFailure:
    """A floor lost its game: which, why, and how many times it has been restarted."""

    floor: int
    error_type: str
    error: str
    restarts: int


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
        self._searching = False
        self._episodes: list[EpisodeEnd] = []
        self._floors: list[Local | Remote] = []
        try:
            for f in range(self.k):
                self._floors.append(self._start(f))
        except BaseException:
            self.shutdown()
            raise
        self.level, self.geometry = self._floors[0].level, self._floors[0].geometry
        self.weapons = PATTERNS
        self._tick = 0
        self._snaps: list[Snap] = []
        self.reset(seed)

    def _start(self, f: int) -> Local | Remote:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        cpu = cpus[f % len(cpus)] if self.k > 1 and cpus else None  # floors play at once
        spec = {"scenario": self.scenario, "seed": self._seed, "frame_skip": self.frame_skip,
                "floor": f, "generation": self._restarts[f], "cpu": cpu,
                "hang_s": self.hang_s}  # fmt: skip
        return Local(spec) if f == 0 else Remote(spec)

    def shutdown(self) -> None:
        """Stop every floor's game (and worker); idempotent."""
        floors, self._floors = self._floors, []
        for floor in floors:
            floor.stop()

    def __del__(self) -> None:
        self.shutdown()

    @property
    def watchdog(self) -> Watchdog | None:
        """Floor 0's (in this process; a worker's floor is given up when it does not answer a
        save or load within ``hang_s``: :data:`~fom.engines.doom.floor.HELD_OPS`)."""
        engine = getattr(self._floors[0], "engine", None) if self._floors else None
        return engine.watchdog if engine is not None else None

    @contextlib.contextmanager
    def searching(self) -> Iterator[None]:
        """A search over the games (fmc-engine) runs in here: a floor whose game is lost
        meanwhile raises GameLost, and is restarted at the next tick, not in the search
        (whose end, a restore, could not bring back a game that is gone)."""
        self._searching = True
        try:
            yield
        finally:
            self._searching = False

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
        try:
            return self._check(f, floor.recv())
        except _FloorDied as dead:
            return self._died(f, dead.why, restart=False)

    def _died(self, f: int, why: str, *, restart: bool = True) -> tuple[StepReport, ...]:
        """Floor ``f`` lost its game: restarted now (``restart``, and not in a search), which
        closes its encounters (their reports); else left for the next tick, and GameLost."""
        if restart and not self._searching:
            return self._restart(f, why)
        floor = self._floors[f]
        if not isinstance(floor, Lost):
            self._floors[f] = Lost(why)
            floor.stop()
        raise GameLost(f"floor {f} lost its game: {why}")

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

    def shoot_rested(self, encounter: int) -> ShotOutcome:
        """:meth:`DoomEngine.shoot_rested`, forwarded as :meth:`shoot` is."""
        f, local = self._where(encounter)
        return replace(self._one(f, "shoot_rested", local), encounter=encounter)

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
                reports.extend(self._died(f, dead.why))
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
                closed = self._died(f, dead.why)
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
        return _Saved(id(self), states, self._tick, list(self._base), list(self._snaps),
                      list(self._seen), list(self._episodes))  # fmt: skip

    def restore_state(self, state: object) -> None:
        """Every floor back to its saved game."""
        if not isinstance(state, _Saved) or state.owner != id(self):
            raise EngineError("not a state saved by this FloorSet")
        lost = None
        for f in range(self.k):
            try:
                self._one(f, "restore", state.states[f])
            except GameLost as exc:  # the others are restored all the same
                lost = lost or exc
        self._tick, self._base, self._snaps = state.tick, list(state.base), list(state.snaps)
        self._seen, self._episodes = list(state.seen), list(state.episodes)  # (a search's own)
        if lost is not None:
            raise lost


@dataclass(frozen=True, slots=True)
class _Saved:
    owner: int
    states: list[object]
    tick: int
    base: list[int]
    snaps: list[Snap]
    seen: list[int]
    episodes: list[EpisodeEnd]


class _FloorDied(Exception):
    """Raised inside FloorSet when a floor's game is gone."""

    def __init__(self, floor: int, why: str) -> None:
        super().__init__(f"floor {floor}: {why}")
        self.floor = floor
        self.why = why
