"""The one body in the game: steering, turning and firing by the driver's intents for one
decision, and waiting tic by tic for a shot's bullet so the shot is read on the tic it goes off.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fom.engines.doom.game import ANGLE, Frame, X, Y, bearing, went_off, wrap

if TYPE_CHECKING:
    from fom.engines.doom.engine import DoomEngine

__all__ = ["FIRE_LAG", "RUN_SPEED", "STRAFE_AIM", "explore", "play_decision"]

RUN_SPEED = 50.0
"""MOVE_*_DELTA value of a running step (about 9.7 map units per tic)."""
STRAFE_AIM = 40.0
"""Map units of sideways offset to the target at which a bot that cannot turn strafes at full
speed to line up its shot (scenarios such as basic)."""
FIRE_LAG = 4
"""Tics a shot decision may run past ``frame_skip`` until its bullet leaves (the pistol fires
4 tics after the press), so the shot's outcome is measured in its own decision."""


def play_decision(engine: DoomEngine, attack: bool) -> Frame | None:
    """Play one decision (frame_skip tics) with the driver's intents; with ``attack``, the frame
    of the tic the shot went off (else the last one; None if the episode ended)."""
    m = engine._m
    game = engine.game
    f = engine._frame
    theta = float(f.vars[ANGLE])
    ctl = engine.controls
    if m.driver is None and ctl.move:
        explore(engine)
    attack = attack and ctl.fire
    m.held = attack
    turn = 0.0
    if m.aim is not None and ctl.turn:
        turn = -float(wrap(m.aim - theta))  # TURN_LEFT_RIGHT_DELTA turns right (clockwise)
        theta -= turn
    fwd = side = 0.0
    if m.aim is not None and not ctl.turn and ctl.strafe:  # aim by strafing (basic)
        lateral = m.aim_range * math.sin(math.radians(float(wrap(m.aim - theta))))
        side = -RUN_SPEED * max(-1.0, min(1.0, lateral / STRAFE_AIM))
    elif m.move_to is not None and ctl.move:
        goal = engine.geometry.nodes[m.move_to]
        d = goal - f.vars[[X, Y]]
        if np.hypot(*d) > 8.0:
            rel = math.radians(math.degrees(math.atan2(d[1], d[0])) - theta)
            fwd = RUN_SPEED * math.cos(rel) * ctl.forward
            side = -RUN_SPEED * math.sin(rel) * ctl.strafe
    shot: Frame | None = None
    tic0 = int(game.get_episode_time())
    game.set_action([float(attack), turn, fwd, side])  # the whole turn on the first tic
    game.advance_action(1)  # (spread over the decision, the refire shots go astray)
    if engine.frame_skip > 1 and not game.is_episode_finished():
        game.set_action([float(attack), 0.0, fwd, side])
        game.advance_action(engine.frame_skip - 1)
    if attack and not game.is_episode_finished():
        went = went_off(engine._vzd, game, f.vars)
        game.set_action([0.0, 0.0, fwd, side])
        for _ in range(FIRE_LAG):  # the bullet leaves a few tics after the press: wait,
            if went or game.is_episode_finished():  # tic by tic (a bulk wait reads the
                break  # shot's geometry tics late: measured, hit rate 0.96 -> 0.81)
            game.advance_action(1)
            went = went_off(engine._vzd, game, f.vars)
        if went and not game.is_episode_finished():
            shot = engine._read(f.max_id)  # the tic it went off: where it landed, from where
    m.stepped = True
    m.tics = int(game.get_episode_time()) - tic0
    if not game.is_episode_finished():
        m.frame = shot if shot is not None else engine._read(f.max_id)
        if attack and shot is None:  # no ammunition spent nor hit: its puffs may tell
            shot = m.frame
    return shot


def explore(engine: DoomEngine) -> None:
    """No fight drives the body: walk (facing ahead) toward the goal node, to find some."""
    m = engine._m
    if m.origin == m.goal:
        m.goal = int(np.argmax(engine.level.distance[m.origin]))
    path = engine.level.shortest_path(m.origin, m.goal, 0.0)
    m.move_to = path[1] if len(path) > 1 else path[0]
    ahead = engine.geometry.nodes[m.move_to]
    if np.hypot(*(ahead - engine._self_xy())) > 8.0:
        m.aim = float(bearing(engine._self_xy(), ahead)[0])
