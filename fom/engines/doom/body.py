"""The one body in the game: steering, turning and firing by the driver's intents for one
decision, and waiting tic by tic for a shot's bullet so the shot is read on the tic it goes off.
A decision without a shot is one call into the game (each call builds the game's state, most of
what a decision costs): it turns over its tics and runs by its mean facing (:func:`mean_facing`).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from fom.engines.doom.game import (
    ANGLE,
    LEAD_TICS,
    READY,
    VX,
    VY,
    Controls,
    Frame,
    X,
    Y,
    bearing,
    went_off,
    wrap,
)

if TYPE_CHECKING:
    from fom.engines.doom.engine import DoomEngine
    from fom.engines.doom.records import Enc, MatchState
    from fom.level import CanonicalLevel

__all__ = [
    "FIRE_LAG",
    "FRICTION",
    "READY_AGAIN",
    "REFIRE_CHECK",
    "RUN_SPEED",
    "STRAFE_AIM",
    "THRUST",
    "bullet_between",
    "bullet_in",
    "drift",
    "explore",
    "mean_facing",
    "pending",
    "play_decision",
    "pull",
    "run_toward",
    "step_to",
    "sync_gun",
    "take_aim",
]

RUN_SPEED = 50.0
"""MOVE_*_DELTA value of a running step."""
THRUST = 1.0 / 32.0
"""Map units per tic of speed one tic of MOVE_*_DELTA adds per unit of its value (Doom's
``forwardmove * 2048`` in 16.16 fixed point)."""
FRICTION = 0.90625
"""What is left of the body's speed after each tic on the ground (Doom's 0xE800): measured,
speeds 1.42, 2.70, 3.86, 4.92 over a running step's first tics."""
STRAFE_AIM = 40.0
"""Map units of sideways offset to the target at which a bot that cannot turn strafes at full
speed to line up its shot (scenarios such as basic)."""
REFIRE_CHECK = 14
"""Tics from the pistol's press (its Fire state) to its refire check (A_ReFire). A trigger held
on that tic fires again at once and the shot strays; let go on that tic alone, the gun is ready
READY_AGAIN tics after the press and its next shot goes true. Measured on the game: shots 14
tics apart held, 19 apart let go on the check's tic, 14 let go on any other."""
READY_AGAIN = 19
"""Tics from the pistol's press to its ready state when its refire check found no trigger."""
FIRE_LAG = 4
"""Tics a shot decision may run past ``frame_skip`` until its bullet leaves (the pistol fires
4 tics after the press), so the shot's outcome is measured in its own decision."""


def play_decision(engine: DoomEngine, attack: bool) -> Frame | None:
    """Play one decision (frame_skip tics) with the driver's intents; with ``attack``, the frame
    of the tic the shot went off (else the last one; None if the episode ended). The game and
    this thread share a CPU meanwhile (:class:`~fom.engines.doom.affinity.SharedCpu`), under
    the engine's watchdog (:mod:`~fom.engines.doom.watchdog`)."""
    with engine.shared_cpu, engine.watchdog:
        return _play(engine, attack)


def _play(engine: DoomEngine, attack: bool) -> Frame | None:
    m = engine._m
    game = engine.game
    f = engine._frame
    theta = float(f.vars[ANGLE])
    ctl = engine.controls
    if m.driver is None and ctl.move:
        explore(engine)
    attack = attack and ctl.fire
    shot: Frame | None = None
    tic0 = int(game.get_episode_time())
    sync_gun(m, tic0, bool(f.vars[READY]))
    squeeze = attack and not m.rest  # the trigger on the refire check: refire, or rest
    aims = m.target is not None or m.aim is not None
    strafe_aim = aims and not ctl.turn and ctl.strafe  # (scenarios such as basic)
    heading = None  # the world direction the body walks in, if it walks
    if not strafe_aim and m.move_to is not None and ctl.move:
        d = engine.geometry.nodes[m.move_to] - f.vars[[X, Y]]
        if np.hypot(*d) > 8.0:
            heading = math.degrees(math.atan2(d[1], d[0]))
    if m.target is not None:  # aim from where the body will be when its bullet leaves
        due = bullet_in(m, tic0, squeeze) if attack else None
        tics = LEAD_TICS if due is None else float(due)
        take_aim(m, f, tics, drift(f.vars[[VX, VY]], heading, tics))
    fs = engine.frame_skip
    spread = not attack and fs > 1  # no bullet leaves: the turn spread over the tics, one call
    turn = 0.0
    if m.aim is not None and ctl.turn:
        turn = -float(wrap(m.aim - theta))  # TURN_LEFT_RIGHT_DELTA turns right (clockwise)
        theta -= turn
    fwd = side = 0.0
    if strafe_aim:
        lateral = m.aim_range * math.sin(math.radians(float(wrap(m.aim - theta))))
        side = -RUN_SPEED * max(-1.0, min(1.0, lateral / STRAFE_AIM))
    elif heading is not None:
        fwd, side = run_toward(heading, mean_facing(theta, turn, fs) if spread else theta, ctl)
    if spread:
        pull(engine, [0.0, turn / fs, fwd, side], fs, squeeze)
    else:  # the whole turn on the first tic (spread, a moving body's shots go astray)
        pull(engine, [float(attack), turn, fwd, side], 1, squeeze)
    if not spread and fs > 1:
        tics = fs - 1
        due = bullet_in(m, tic0 + 1, squeeze) if attack else None
        if due is not None and tics < due + 1 <= tics + FIRE_LAG:  # a press of this decision:
            tics = due + 1  # on to its bullet in the same call (a firing gun ignores the trigger)
        pull(engine, [float(attack), 0.0, fwd, side], tics, squeeze)
    if attack and not game.is_episode_finished():
        went = went_off(engine._vzd, game, f.vars)
        for _ in range(FIRE_LAG):  # the bullet leaves a few tics after the press: wait to its
            if went or game.is_episode_finished() or not pending(m, game):  # tic (not known:
                break  # tic by tic; reading it tics late once cost hit rate 0.96 -> 0.81)
            due = bullet_in(m, int(game.get_episode_time()), squeeze)
            pull(engine, [0.0, 0.0, fwd, side], 1 if due is None else due + 1, squeeze)
            went = went_off(engine._vzd, game, f.vars)
        if went and not game.is_episode_finished():
            shot = engine._read(f.max_id)  # the tic it went off: where it landed, from where
    m.stepped = True
    m.tics = int(game.get_episode_time()) - tic0
    if not game.is_episode_finished():
        m.frame = shot if shot is not None else engine._read(f.max_id)
        if attack and shot is None and bullet_between(m, tic0, tic0 + m.tics):
            shot = m.frame  # no ammunition spent nor hit (refilled?): its puffs may tell
    return shot


def run_toward(heading: float, facing: float, ctl: Controls) -> tuple[float, float]:
    """The forward and side speeds that run the body toward ``heading`` while it faces
    ``facing`` (degrees), as far as the scenario's controls let it."""
    rel = math.radians(heading - facing)
    return RUN_SPEED * math.cos(rel) * ctl.forward, -RUN_SPEED * math.sin(rel) * ctl.strafe


def mean_facing(theta: float, turn: float, tics: int) -> float:
    """The body's mean facing over ``tics`` tics that turn it by ``-turn`` in equal steps to
    ``theta`` (a tic turns, then thrusts): running by it, the steps fan out around the heading
    instead of curving to it (a quarter turn over 4 tics: 10 degrees astray against 44; the
    velocity it ends with is nearer still). By the last facing, the exploring body's fights
    began astray (deadly_corridor, 10 seeds x 1,000 decisions: hit rate 1.00 -> 0.99, closing
    in 0.98 -> 0.92; by the mean one, 1.00 and 0.98)."""
    return theta + turn * (tics - 1) / (2 * tics)


def bullet_between(m: MatchState, start: int, end: int) -> bool:
    """Whether, by the gun's model, a bullet left between tics ``start`` and ``end`` (not known:
    maybe; the puffs of monsters' bullets must not pass for a shot the gun never fired)."""
    if m.fire_at is None:
        return m.ready_at is None
    return start <= m.fire_at + FIRE_LAG < end


def drift(velocity: np.ndarray, heading: float | None, tics: float) -> np.ndarray:
    """How far the body moves in ``tics`` tics (map units): its velocity, plus a running
    step's thrust toward ``heading`` (degrees; None: it stands), less Doom's friction."""
    thrust = np.zeros(2)
    if heading is not None:
        h = math.radians(heading)
        thrust = RUN_SPEED * THRUST * np.array([math.cos(h), math.sin(h)])
    v, shift = np.asarray(velocity, dtype=np.float64), np.zeros(2)
    for _ in range(int(tics)):
        v = v + thrust
        shift += v
        v = v * FRICTION
    return shift


def bullet_in(m: MatchState, tic: int, squeeze: bool) -> int | None:
    """Tics from ``tic`` until the bullet of the gun's next press leaves, by its model (the
    refire check held or let go as ``squeeze``; None: not known)."""
    if m.fire_at is not None:
        if tic - m.fire_at <= FIRE_LAG:  # pressed, its bullet not yet away
            return m.fire_at + FIRE_LAG - tic
        press = m.fire_at + (REFIRE_CHECK if squeeze else READY_AGAIN)
    elif m.ready_at is not None:
        press = max(tic, m.ready_at)
    else:
        return None
    return max(press, tic) - tic + FIRE_LAG


def take_aim(m: MatchState, f: Frame, tics: float, shift: np.ndarray) -> None:
    """Aim at ``m.target`` from where the body will be when the bullet leaves (``shift`` map
    units on): the target's bearing now, plus the aim offset, plus the lead gain times the
    target's own apparent motion over ``tics``."""
    xy, vel, offset, gain = m.target
    me = f.vars[[X, Y]] + shift
    now = float(bearing(me, xy)[0])
    m.motion = float(wrap(float(bearing(me, xy + vel * tics)[0]) - now))
    m.aim = now + offset + gain * m.motion
    m.aim_range = float(np.hypot(*(xy - me)))


def pending(m: MatchState, game: Any) -> bool:
    """Whether a shot may still go off from a press already made (the gun's model: pressed less
    than FIRE_LAG tics ago; not known, maybe)."""
    if m.fire_at is None:
        return m.ready_at is None
    return int(game.get_episode_time()) - m.fire_at <= FIRE_LAG


def sync_gun(m: MatchState, tic: int, ready: bool) -> None:
    """Correct the gun's model by the game's ATTACK_READY at ``tic``: ready is ready; not ready
    where the model thought so (a gun raised, switched or empty) leaves it unknown."""
    if ready:
        m.fire_at, m.ready_at = None, tic
    elif m.ready_at is not None and m.ready_at <= tic:
        m.ready_at = None


def pull(engine: DoomEngine, action: list[float], tics: int, squeeze: bool) -> None:
    """Play ``tics`` tics of ``action`` (its first button: the trigger) and follow the pistol
    through them; on its refire check (if it falls among them) the trigger is ``squeeze``."""
    game, m = engine.game, engine._m
    while tics > 0 and not game.is_episode_finished():
        tic = int(game.get_episode_time())
        check = None if m.fire_at is None else m.fire_at + REFIRE_CHECK
        n = tics if check is None or not tic <= check < tic + tics else check - tic
        if n == 0:  # the refire check alone: held, the gun fires again; let go, it rests
            game.set_action([float(squeeze), *action[1:]])
            game.advance_action(1)
            m.held = squeeze
            m.fire_at, m.ready_at = (
                (tic, None) if squeeze else (None, tic + READY_AGAIN - REFIRE_CHECK)
            )
            tics -= 1
            continue
        game.set_action(action)
        game.advance_action(n)
        if action[0] and m.ready_at is not None and m.ready_at < tic + n:  # pressed, ready:
            m.fire_at, m.ready_at, m.held = max(tic, m.ready_at), None, False  # a first shot
        tics -= n


def step_to(engine: DoomEngine, e: Enc, node: int) -> int | None:
    """Where the body walks when its driver, fighting ``e``, moves to ``node`` (None: it stands).

    Staying on its node is standing still: walking back to the node's centre spoiled the aim
    (the scripted bot on deadly_corridor, 6 seeds x 600 decisions: hit rate 0.95 -> 1.00, kills
    per episode 5.71 -> 5.77). And unless ``engine.close_in``, the body takes no step closer to
    a monster it has in sight, since the pistol needs none: the planned steps that close in on
    it walked the bot into the corridor's crossfire (fom there: 4.86 -> 5.77 kills, 0.975 ->
    1.00 hits). Steps that keep or widen the distance (cover, flanks) are taken as planned.
    """
    here = engine._m.origin
    if node == here:
        return None
    if e.lost == 0 and not engine.close_in:
        xy = engine.geometry.nodes
        if np.hypot(*(xy[node] - e.xy)) < np.hypot(*(xy[here] - e.xy)):
            return None
    return node


def explore(engine: DoomEngine) -> None:
    """No fight drives the body: walk (facing ahead) toward the goal node, to find some."""
    m = engine._m
    if m.origin == m.goal:
        m.goal = int(np.argmax(engine.level.distance[m.origin]))
    path = _route(engine.level, m.origin, m.goal)
    m.move_to = path[1] if len(path) > 1 else path[0]
    ahead = engine.geometry.nodes[m.move_to]
    if np.hypot(*(ahead - engine._self_xy())) > 8.0:
        m.aim = float(bearing(engine._self_xy(), ahead)[0])


@functools.lru_cache(maxsize=4096)
def _route(level: CanonicalLevel, origin: int, goal: int) -> tuple[int, ...]:
    """The level's shortest path, without flank bias: fixed for a level, and an exploring body
    asks for it every decision (Dijkstra in Python: about a tenth of a decision's own work)."""
    return level.shortest_path(origin, goal, 0.0)
