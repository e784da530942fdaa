"""DoomEngine: the Engine contract over a real ViZDoom game (headless).

One body, many fights. Every monster in sight is an opponent; each gets an encounter id the
first time it is seen (ids count up over the run, in object-id order within a tick) and lives on
floor ``id + 1`` of the canonical level, as the simulated worlds' encounters do; the bot's
projection there is the bot itself. A decision (``tick``) lasts ``frame_skip`` tics.

The body follows the first encounter that acts on it in a tick (:func:`fom.match.resolve_tick`
acts the trigger holder first, see :meth:`DoomEngine.trigger_holders`): its ``move`` picks the
node to walk to (strafing, so the body keeps facing its target; it holds its ground against a
monster in sight, :func:`.body.step_to`), its ``look_at`` turns to the
bearing of the target, seen from where the body will be when the bullet leaves, plus
``aim_offset`` degrees plus ``lead_gain`` times the target's apparent motion
(``ShotOutcome.motion``: how far its last step turns its bearing until then; a gain of 1 is
the geometric lead; when the bullet leaves and where the body will be: :mod:`.body`), its
``shoot`` holds ATTACK for the decision and plays it at once (a few tics longer if its bullet
has not left yet: FIRE_LAG), so the outcome is the game's: fired when ammunition went or a hit
was counted, hit from HITCOUNT/DAMAGECOUNT, the signed aim error (degrees) from where the shot
landed (new BulletPuff/Blood objects) against the target's bearing. Other encounters' actions
that tick are checked and kept, not played.

An encounter ends ``killed`` when its monster dies (its object disappears or turns ``Dead*``),
``timeout`` when out of sight for ``lost_after`` decisions or when the episode times out,
``died`` when the bot dies, ``closed`` on :meth:`close`. An episode that ends starts the next
one, seeded from (seed, episode). Damage taken (HEALTH drops) is charged to the body's driver.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import tempfile
from pathlib import Path

import numpy as np

from fom.engines.base import ShotOutcome, StepReport, WorldView, finite_number
from fom.engines.doom.affinity import SharedCpu
from fom.engines.doom.body import play_decision, step_to
from fom.engines.doom.game import (
    AMMO,
    HEALTH,
    KILLS,
    Frame,
    X,
    Y,
    load_game,
    map_of,
    read_frame,
    shot_outcome,
    start_game,
)
from fom.engines.doom.mapgeom import UNITS_PER_METRE
from fom.engines.doom.monsters import MONSTERS, PATTERNS
from fom.engines.doom.reaper import reaper_for
from fom.engines.doom.records import Enc, EpisodeEnd, MatchState, Saved
from fom.engines.doom.renumber import renumber
from fom.engines.doom.scenarios import resolve_scenario, vizdoom_module
from fom.engines.doom.watchdog import CLOSE_S, HANG_S, Watchdog, bounded
from fom.errors import ConfigError, EngineError
from fom.state import Opponent, SelfState

__all__ = ["DOOM_STREAM", "DoomEngine", "EpisodeEnd"]

DOOM_STREAM = 7
"""First spawn-key word of the episode seeds: SeedSequence(seed, (7, floor, generation,
episode))."""
_ENDED_MEMORY = 4096


class DoomEngine:
    """A ViZDoom scenario as an FOM world (see the module docstring)."""

    def __init__(
        self,
        scenario: str,
        seed: int = 0,
        *,
        frame_skip: int = 4,
        lost_after: int = 6,
        floor: int = 0,
        generation: int = 0,
        close_in: bool = False,
        cpu: int | None = None,
        hang_s: float = HANG_S,
    ) -> None:
        """``floor`` and ``generation`` (games the floor lost to a crash) key the episode seeds;
        ``close_in``: the body walks planned steps toward a monster in sight too (an ablation);
        ``cpu``: where the game plays (else where the thread is, :mod:`.affinity`); ``hang_s``:
        a game call that waits longer kills the game (:mod:`.watchdog`)."""
        if frame_skip < 1:
            raise ConfigError(f"--frame-skip must be >= 1, got {frame_skip}")
        self.scenario = scenario
        self.config_path = resolve_scenario(scenario)
        self.frame_skip = int(frame_skip)
        self.lost_after = int(lost_after)
        self.close_in = bool(close_in)
        self.cpu, self.hang_s = cpu, float(hang_s)
        self.floor = int(floor)
        self.generation = int(generation)
        self.weapons = PATTERNS
        self._vzd = vizdoom_module()
        self._tmp = Path(tempfile.mkdtemp(prefix="fom-doom-"))
        self._game = None
        try:
            self.level, self.geometry = map_of(self._vzd, self.config_path)
            self._game = self._start()
        except BaseException:
            self.shutdown()
            raise
        self._m = MatchState(seed=int(seed))
        self.reset(seed)

    # ------------------------------------------------------------------ the game process

    def _start(self):
        ini = self._tmp / "_vizdoom.ini"
        game, self.controls = start_game(self._vzd, self.config_path, ini)
        self._reaper = reaper_for(ini)  # ends the game if this process dies hard
        pid = self._reaper.pid if self._reaper else None
        self.shared_cpu = SharedCpu(pid, self.cpu)
        self.watchdog = Watchdog(pid, self.hang_s)
        return game

    def shutdown(self) -> None:
        """Stop the ViZDoom process and remove the save files (idempotent)."""
        if (reaper := getattr(self, "_reaper", None)) is not None:
            reaper.stop()
        if (watchdog := getattr(self, "watchdog", None)) is not None:
            watchdog.stop()
        game, self._game = getattr(self, "_game", None), None
        if game is not None:
            with bounded(getattr(watchdog, "pid", None), CLOSE_S), contextlib.suppress(Exception):
                game.close()  # (a stopped game would hold close() for ever)
        if getattr(self, "_tmp", None) is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __del__(self) -> None:
        self.shutdown()

    @property
    def game(self):
        """The running game; EngineError once shut down."""
        if self._game is None:
            raise EngineError("the doom engine is shut down")
        return self._game

    def _episode_seed(self, seed: int, episode: int) -> int:
        key = (DOOM_STREAM, self.floor, self.generation, episode)
        ss = np.random.SeedSequence(seed, spawn_key=key)
        return int(ss.generate_state(1)[0] & 0x7FFFFFFF)

    def _read(self, max_id: int) -> Frame:
        """The frame after a step (the game must be in an episode)."""
        return read_frame(self.game.get_state(), self.geometry, max_id)

    def _self_xy(self) -> np.ndarray:
        return self._frame.vars[[X, Y]]

    @property
    def _frame(self) -> Frame:
        assert self._m.frame is not None
        return self._m.frame

    def _self_node(self) -> int:
        return self._frame.node

    # ------------------------------------------------------------------ Engine: bookkeeping

    @property
    def tick(self) -> int:
        """Decisions played since reset."""
        return self._m.tick

    @property
    def seed(self) -> int:
        """The seed of the current match."""
        return self._m.seed

    def take_episodes(self) -> tuple[EpisodeEnd, ...]:
        """The episodes that ended since the last call (in order), and forget them."""
        done, self._m.episodes = tuple(self._m.episodes), []
        return done

    def reset(self, seed: int | None = None) -> WorldView:
        """A fresh match: the first episode seeded from (seed, floor, 0)."""
        if seed is None:
            seed = self._m.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
        self._m = MatchState(seed=int(seed))
        self._new_episode()
        return self.observe()

    def _new_episode(self) -> None:
        m = self._m
        game = self.game
        with self.watchdog:
            game.set_seed(self._episode_seed(m.seed, m.episode))
            game.new_episode()
            m.frame = self._read(-1)
        m.by_obj = {}
        m.fought = set()
        m.held, m.fire_at, m.ready_at = False, None, None
        m.tally = [0, 0, 0.0]
        self._sight()
        m.origin = self._self_node()
        m.health = float(m.frame.vars[HEALTH])
        m.kills = float(m.frame.vars[KILLS])
        m.goal = int(np.argmax(self.level.distance[m.origin]))

    def _sight(self) -> None:
        """Open an encounter for every monster in sight that has none (object-id order)."""
        m, f = self._m, self._frame
        for k in np.flatnonzero(f.visible).tolist():
            obj = int(f.mon_ids[k])
            if obj in m.by_obj:
                continue
            cls = MONSTERS[f.mon_names[k]]
            eid = m.next_eid
            m.next_eid += 1
            m.by_obj[obj] = eid
            m.open[eid] = Enc(
                eid=eid, obj=obj, pattern=cls.pattern, threat=cls.threat, health=cls.health,
                xy=f.mon_xy[k].copy(), vel=f.mon_vel[k].copy(),
                node=int(f.mon_nodes[k]),
            )  # fmt: skip
            m.fought.add(cls.pattern)

    # ------------------------------------------------------------------ perception

    def _me(self, floor: int) -> SelfState:
        """The bot as it stood at the start of the decision (its node is the move's origin)."""
        f = self._frame
        node = self._m.origin
        return SelfState(node=node, floor=floor, position=self.level.position(node, floor),
                         health=float(f.vars[HEALTH]), ammo=max(int(f.vars[AMMO]), 0),
                         deaths=self._m.deaths)  # fmt: skip

    def observe(self) -> WorldView:
        """The bot (floor 0) and the monsters in sight with an open encounter, by id."""
        m = self._m
        opponents = tuple(
            Opponent(id=e.eid, weapon=e.pattern, node=e.node, floor=e.eid + 1,
                     position=self.level.position(e.node, e.eid + 1),
                     health=max(e.health, 1.0), last_seen=m.tick)
            for e in sorted(m.open.values(), key=lambda e: e.eid)
            if e.lost == 0 and not e.closed
        )  # fmt: skip
        return WorldView(tick=m.tick, self_state=self._me(0), opponents=opponents)

    def projection(self, encounter: int) -> SelfState:
        """The bot on the encounter's floor (its last state there once the encounter ended)."""
        eid = self._known(encounter)
        if eid in self._m.ended and eid not in self._m.open:
            node, health, ammo = self._m.ended[eid]
            return SelfState(node, eid + 1, self.level.position(node, eid + 1), health, ammo,
                             self._m.deaths)  # fmt: skip
        return self._me(eid + 1)

    def threat(self, encounter: int) -> float:
        """Which monster to shoot first: its class's threat over its distance (metres, at least
        1) and over the health it has left, i.e. the danger a point of damage removes. Without
        the health the trigger went to the toughest monsters in sight (demons, 150 hit points)
        while nearer imps and zombies kept firing (a standing bot, 6 seeds x 400 decisions,
        kills per episode: defend_the_line 28.2 -> 36.8, defend_the_center 18.0 -> 19.9);
        threat / (distance * sqrt(health)) and threat / (health * sqrt(distance)) were worse."""
        e = self._m.open.get(int(encounter))
        if e is None:
            return 0.0
        d = float(np.hypot(*(e.xy - self._self_xy()))) / UNITS_PER_METRE
        return e.threat / (max(d, 1.0) * max(e.health, 1.0))

    def trigger_holders(self, encounters: tuple[int, ...]) -> tuple[int, ...]:
        """One body, one trigger: the most threatening of ``encounters`` by :meth:`threat`
        (ties: lowest id)."""
        if not encounters:
            return ()
        return (max(sorted(encounters), key=self.threat),)

    def shoot_rested(self, encounter: int) -> ShotOutcome:
        """:meth:`shoot`, letting the trigger go on the gun's refire check, so that its next
        shot goes true (the pistol: a few tics later than a refire would)."""
        self._m.rest = True
        try:
            return self.shoot(encounter)
        finally:
            self._m.rest = False

    # ------------------------------------------------------------------ actions

    def _known(self, encounter: object) -> int:
        if isinstance(encounter, bool) or not isinstance(encounter, (int, np.integer)):
            raise EngineError(f"encounter must be an int, got {encounter!r}")
        eid = int(encounter)
        if not 0 <= eid < self._m.next_eid:
            raise EngineError(f"unknown encounter {encounter}")
        return eid

    def _acting(self, encounter: object) -> Enc | None:
        """The open encounter acting now (it may drive the body), or None if it ended."""
        eid = self._known(encounter)
        e = self._m.open.get(eid)
        if e is None or e.closed:
            return None
        e.acted = True
        if self._m.driver is None and not self._m.stepped:
            self._m.driver = eid
        return e

    def move(self, encounter: int, node: int) -> None:
        """Walk toward ``node``, the bot's node at the start of the tick or a neighbour (staying
        or closing in on a monster in sight, the body stands: :func:`.body.step_to`)."""
        if isinstance(node, bool) or not isinstance(node, (int, np.integer)):
            raise EngineError(f"node must be an int, got {node!r}")
        self._known(encounter)
        if not 0 <= node < self.level.n:
            raise EngineError(f"node {node} is not in [0, {self.level.n})")
        origin = self._m.origin
        if node != origin and not self.level.adjacency[origin, node]:
            raise EngineError(
                f"encounter {encounter}: node {node} is not node {origin} or one of its neighbours"
            )
        e = self._acting(encounter)
        if e is not None and self._m.driver == e.eid and not self._m.stepped:
            self._m.move_to = step_to(self, e, int(node))

    def look_at(self, encounter: int, aim_offset: float, lead_gain: float = 0.0) -> None:
        """Turn to the target's bearing plus ``aim_offset`` degrees plus ``lead_gain`` times its
        apparent motion until the bullet leaves (the bot's momentum and the target's last step;
        when, the body's gun tells: :func:`~fom.engines.doom.body.take_aim`)."""
        aim = finite_number("aim_offset", aim_offset)
        gain = finite_number("lead_gain", lead_gain)
        e = self._acting(encounter)
        if e is not None and self._m.driver == e.eid and not self._m.stepped:
            self._m.target = (e.xy.copy(), e.vel.copy(), aim, gain)  # aimed as it plays

    def shoot(self, encounter: int) -> ShotOutcome:
        """Hold ATTACK for this decision and play it (only the body's driver fires)."""
        e = self._acting(encounter)
        eid = int(encounter)
        if e is None:
            return ShotOutcome(eid, False, False, 0.0, 0.0, 0.0)
        distance = float(np.hypot(*(e.xy - self._self_xy()))) / UNITS_PER_METRE
        m = self._m
        if m.driver != eid or m.stepped:
            return ShotOutcome(eid, False, False, 0.0, 0.0, distance)
        before = self._frame
        fired = play_decision(self, attack=True)
        m.shot = shot_outcome(e.eid, e.obj, e.xy, before, fired, distance, m.motion, m.held)
        m.tally[0] += m.shot.fired
        m.tally[1] += m.shot.hit
        e.health -= m.shot.damage
        return m.shot

    def close(self, encounter: int) -> None:
        """End an encounter early; the next advance reports it "closed"."""
        e = self._m.open.get(self._known(encounter))
        if e is not None:
            e.closed = True

    # ------------------------------------------------------------------ time

    def advance(self) -> tuple[StepReport, ...]:
        """Finish the decision (play it if nobody shot), end encounters, sight new monsters."""
        m = self._m
        game = self.game
        if not m.stepped:
            play_decision(self, attack=False)
        finished = game.is_episode_finished()
        died = finished and bool(game.is_player_dead())
        f = self._frame
        health = 0.0 if died else float(f.vars[HEALTH])
        taken = max(m.health - health, 0.0) if died or not finished else 0.0
        m.tally[2] += taken
        self._charge(taken)
        node = self._self_node()
        exposure = float(self.level.exposure[node])
        alive = {int(o): k for k, o in enumerate(f.mon_ids.tolist())}
        killed = self._killed(alive, f) if not finished else set()
        reports = []
        for eid in sorted(m.open):
            e = m.open[eid]
            k = alive.get(e.obj)
            if e.closed:
                reason = "closed"
            elif finished:
                reason = "died" if died else "timeout"
            elif k is None:  # gone: killed if the game counted a kill for it, else lost
                reason = "killed" if eid in killed else "timeout"
            else:
                e.vel = (f.mon_xy[k] - e.xy) / max(m.tics, 1)  # monsters step: no momentum
                e.xy = f.mon_xy[k].copy()
                e.node = int(f.mon_nodes[k])
                e.lost = 0 if f.visible[k] else e.lost + 1
                reason = "timeout" if e.lost >= self.lost_after else ""
            if not (e.acted or reason):
                continue
            reports.append(
                StepReport(
                    encounter=eid, damage_taken=e.pending, exposure=exposure,
                    self_health=health, enemy_health=max(e.health, 0.0) if reason != "killed"
                    else 0.0, self_node=node, enemy_node=e.node, done=bool(reason),
                    reason=reason,
                )
            )
            e.pending = 0.0
            e.acted = False
            if reason:
                del m.open[eid]
                m.by_obj.pop(e.obj, None)
                m.ended[eid] = (node, health, max(int(f.vars[AMMO]), 0))
        while len(m.ended) > _ENDED_MEMORY:
            m.ended.pop(next(iter(m.ended)))
        m.tick += 1
        m.driver = m.move_to = m.aim = m.target = None
        m.motion = 0.0
        m.stepped = False
        m.shot = None
        if finished:
            self._end_episode(died)
        else:
            self._sight()
        m.health = float(self._frame.vars[HEALTH])
        m.kills = float(self._frame.vars[KILLS])
        m.origin = self._self_node()
        return tuple(reports)

    def _killed(self, alive: dict[int, int], f: Frame) -> set[int]:
        """The open encounters whose monster died this decision: of those whose object went,
        as many as KILLCOUNT rose by, the driver's first, then by id."""
        m = self._m
        gone = [eid for eid in sorted(m.open) if m.open[eid].obj not in alive]
        gone.sort(key=lambda eid: eid != m.driver)
        return set(gone[: max(int(f.vars[KILLS] - m.kills), 0)])

    def _charge(self, taken: float) -> None:
        """Charge damage taken to the body's driver, else the most threatening open encounter."""
        if taken <= 0 or not self._m.open:
            return
        m = self._m
        eid = m.driver if m.driver in m.open else max(sorted(m.open), key=self.threat)
        m.open[eid].pending += taken

    def _end_episode(self, died: bool) -> None:
        m = self._m
        game = self.game
        kills = int(game.get_game_variable(self._vzd.GameVariable.KILLCOUNT))
        m.episodes.append(
            EpisodeEnd(
                floor=self.floor, episode=m.episode, tick=m.tick - 1,
                reward=float(game.get_total_reward()), kills=kills, died=died,
                patterns=tuple(sorted(m.fought)), shots=m.tally[0], hits=m.tally[1],
                damage_taken=m.tally[2],
            )
        )
        m.deaths += died
        m.episode += 1
        self._new_episode()

    # ------------------------------------------------------------------ save / restore

    def save_state(self) -> object:
        """The game's save file and the match; the game is reloaded from it at once, so the
        continuation from here and from any restore are the same (a load plays one tic)."""
        path = self._tmp / "state.sav"
        with self.watchdog:
            self.game.save(str(path))
            data = path.read_bytes()
            load_game(self.game, path, data)
            self._renumber()
        return Saved(id(self), data, copy.deepcopy(self._m))

    def restore_state(self, state: object) -> None:
        """Return to a state from save_state (reusable)."""
        if not isinstance(state, Saved):
            raise EngineError(f"not a state saved by DoomEngine: {type(state).__name__}")
        if state.owner != id(self):
            raise EngineError("the state was saved by another DoomEngine")
        with self.watchdog:
            load_game(self.game, self._tmp / "state.sav", state.game)
            self._m = copy.deepcopy(state.match)
            self._renumber()

    def _renumber(self) -> None:
        """After a load: carry the match over to the objects' new ids (see renumber); the load's
        tic held no trigger: the gun's state is not known until the next decision reads it."""
        m = self._m
        m.held, m.fire_at, m.ready_at = False, None, None
        if not self.game.is_episode_finished() and m.frame is not None:
            renumber(m.frame, m.open.values(), self._read(-1))
            m.by_obj = {e.obj: e.eid for e in m.open.values()}
