"""The ViZDoom side of the doom engine: start a headless game, read its map and its frames."""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fom.engines.base import ShotOutcome
from fom.engines.doom.mapgeom import MapGeometry, level_from_map
from fom.engines.doom.monsters import MONSTERS
from fom.engines.doom.reaper import reaper_for
from fom.engines.doom.watchdog import CLOSE_S, HANG_S, bounded
from fom.errors import ConfigError

if TYPE_CHECKING:
    from fom.level import CanonicalLevel

__all__ = [
    "LEAD_TICS",
    "READY",
    "VARS",
    "Controls",
    "Frame",
    "bearing",
    "load_game",
    "map_of",
    "read_frame",
    "read_sectors",
    "shot_outcome",
    "start_game",
    "went_off",
    "wrap",
]

VARS = ("POSITION_X", "POSITION_Y", "POSITION_Z", "ANGLE", "HEALTH", "HITCOUNT", "DAMAGECOUNT",
        "KILLCOUNT", "SELECTED_WEAPON_AMMO", "VELOCITY_X", "VELOCITY_Y",
        "ATTACK_READY")  # fmt: skip
"""The game variables the engine reads, in this order (indices below)."""
X, Y, Z, ANGLE, HEALTH, HITS, DAMAGE, KILLS, AMMO, VX, VY, READY = range(len(VARS))
LEAD_TICS = 4.0
"""Tics from a press to its bullet (the pistol's): the horizon of a target's apparent motion
(ShotOutcome.motion) when the gun's state is not known."""
IMPACTS = ("BulletPuff", "Blood")
"""Objects that show where a shot landed: on a wall (puff) or on a body (blood)."""
IMPACT_CONE = 12.0
"""Degrees: an impact further than this from where the bot faced is not its shot's."""
IMPACT_NEAR = 48.0
"""Map units: an impact this close to the bot is its own blood (or a shot at it)."""


@dataclass(slots=True)
class Frame:
    """What the game showed after the last step: the bot and the objects, as arrays."""

    vars: np.ndarray
    mon_ids: np.ndarray
    mon_names: tuple[str, ...]
    mon_xy: np.ndarray
    mon_vel: np.ndarray
    visible: np.ndarray
    impacts: np.ndarray  # (k, 3): id, x, y of bullet puffs and blood newer than max_id
    max_id: int
    node: int
    """The bot's nearest node."""
    mon_nodes: np.ndarray
    """Each monster's nearest node."""


@dataclass(frozen=True, slots=True)
class Controls:
    """What the scenario lets the bot do, from its own buttons (defend_the_center only turns and
    fires, basic only strafes and fires, take_cover only strafes): the engine plays its own
    delta buttons but keeps to these."""

    forward: bool
    strafe: bool
    turn: bool
    fire: bool

    @classmethod
    def of(cls, names: set[str]) -> Controls:
        """The controls of a set of ViZDoom button names."""
        return cls(
            forward=bool(names & {"MOVE_FORWARD", "MOVE_BACKWARD", "MOVE_FORWARD_BACKWARD_DELTA"}),
            strafe=bool(names & {"MOVE_LEFT", "MOVE_RIGHT", "MOVE_LEFT_RIGHT_DELTA"}),
            turn=bool(names & {"TURN_LEFT", "TURN_RIGHT", "TURN_LEFT_RIGHT_DELTA"}),
            fire="ATTACK" in names,
        )

    @property
    def move(self) -> bool:
        """Whether the bot can walk at all."""
        return self.forward or self.strafe


def start_game(vzd: Any, config: Path, ini: Path, *, sectors: bool = False
               ) -> tuple[Any, Controls]:  # fmt: skip
    """A headless game of the scenario ``config`` (160x120 gray, objects info, the sectors'
    with ``sectors``, the engine's buttons and variables), and the controls its own buttons
    allow.

    ViZDoom's constructor makes ``_vizdoom/`` in the working directory by check-then-mkdir,
    and two games constructed at once in one directory (a process pool, pytest-xdist) can both
    see none: the loser fails ("Failed to create ./_vizdoom/ directory: File exists") and the
    process may crash. Making it first, with exist_ok, leaves the constructor nothing to race
    on. It is left in place, empty: removing it would reopen the race for a game another
    process is starting in the same directory."""
    (Path.cwd() / "_vizdoom").mkdir(exist_ok=True)
    game = vzd.DoomGame()
    game.load_config(str(config))
    game.set_doom_config_path(str(ini))  # ViZDoom's .ini: not in the user's cwd
    game.set_window_visible(False)
    game.set_sound_enabled(False)
    game.set_screen_resolution(vzd.ScreenResolution.RES_160X120)
    game.set_screen_format(vzd.ScreenFormat.GRAY8)
    game.set_render_hud(False)
    game.set_objects_info_enabled(True)
    game.set_sectors_info_enabled(sectors)
    game.set_mode(vzd.Mode.PLAYER)
    b = vzd.Button
    own = {str(x).rsplit(".", 1)[-1] for x in game.get_available_buttons()}
    game.set_available_buttons([b.ATTACK, b.TURN_LEFT_RIGHT_DELTA, b.MOVE_FORWARD_BACKWARD_DELTA,
                                b.MOVE_LEFT_RIGHT_DELTA])  # fmt: skip
    game.set_available_game_variables([getattr(vzd.GameVariable, v) for v in VARS])
    try:
        game.init()
    except Exception as exc:
        raise ConfigError(f"ViZDoom could not start {config}: {exc}") from None
    return game, Controls.of(own)


def load_game(game: Any, path: Path, data: bytes) -> None:
    """Load a save (its bytes, through ``path``). A load plays one tic with the current action
    and the buttons held the tic before count (refire): so first one tic of nothing held."""
    path.write_bytes(data)
    game.set_action([0.0, 0.0, 0.0, 0.0])
    if not game.is_episode_finished():
        game.advance_action(1)
    game.load(str(path))


@functools.lru_cache(maxsize=16)
def map_of(vzd: Any, config: Path) -> tuple[CanonicalLevel, MapGeometry]:
    """The level of a scenario's map, read once per process from a game of its own that reports
    the sectors, then closed: a game that reports them pays for it on every call (on
    deadly_corridor's small map, 12-25 us of a one-tic call's 130-150), and the map does not
    change, so the games that play leave them off."""
    tmp = Path(tempfile.mkdtemp(prefix="fom-doom-map-"))
    game = reaper = None
    try:
        game, _ = start_game(vzd, config, tmp / "_vizdoom.ini", sectors=True)
        reaper = reaper_for(tmp / "_vizdoom.ini")  # ends the game if this process dies hard
        with bounded(reaper.pid if reaper else None, HANG_S):
            game.new_episode()
            return level_from_map(read_sectors(game.get_state()))
    finally:
        pid = reaper.pid if reaper is not None else None
        if reaper is not None:
            reaper.stop()
        if game is not None:
            with bounded(pid, CLOSE_S), contextlib.suppress(Exception):
                game.close()
        shutil.rmtree(tmp, ignore_errors=True)


def read_sectors(state: Any) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """The map of a game state as :func:`fom.engines.doom.mapgeom.level_from_map` takes it."""
    return [
        (
            float(sec.floor_height),
            float(sec.ceiling_height),
            np.array([(ln.x1, ln.y1, ln.x2, ln.y2) for ln in sec.lines], dtype=np.float64),
            np.array([ln.is_blocking for ln in sec.lines], dtype=bool),
        )
        for sec in state.sectors
        if len(sec.lines)
    ]


def read_frame(state: Any, geometry: MapGeometry, max_id: int) -> Frame:
    """The bot's variables, the monsters (by object id) and the impacts newer than ``max_id``."""
    v = np.asarray(state.game_variables, dtype=np.float64)
    ids, names, xy, vel, imp = [], [], [], [], []
    top = max_id
    for o in state.objects:
        oid = int(o.id)
        top = max(top, oid)
        if o.name in MONSTERS:
            ids.append(oid)
            names.append(o.name)
            xy.append((o.position_x, o.position_y))
            vel.append((o.velocity_x, o.velocity_y))
        elif o.name in IMPACTS and oid > max_id:
            imp.append((oid, o.position_x, o.position_y))
    order = np.argsort(ids, kind="stable")
    me = v[[X, Y]]
    mon_xy = np.array(xy, dtype=np.float64).reshape(-1, 2)[order]
    nodes = geometry.node_of(np.concatenate([me[None], mon_xy]))  # one query: bot and monsters
    return Frame(
        vars=v,
        mon_ids=np.array(ids, dtype=np.int64)[order],
        mon_names=tuple(names[i] for i in order),
        mon_xy=mon_xy,
        mon_vel=np.array(vel, dtype=np.float64).reshape(-1, 2)[order],
        visible=geometry.visible(me, mon_xy),
        impacts=np.array(imp, dtype=np.float64).reshape(-1, 3),
        max_id=top,
        node=int(nodes[0]),
        mon_nodes=nodes[1:],
    )


def went_off(vzd: Any, game: Any, before: np.ndarray) -> bool:
    """Whether a shot went off since the variables ``before`` (ammunition spent, or a hit)."""
    gv = vzd.GameVariable
    return bool(game.get_game_variable(gv.SELECTED_WEAPON_AMMO) < before[AMMO]
                or game.get_game_variable(gv.HITCOUNT) > before[HITS])  # fmt: skip


def wrap(deg: np.ndarray | float) -> np.ndarray | float:
    """Angles folded into [-180, 180)."""
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def bearing(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Degrees counter-clockwise from +x of each dst seen from src (map units)."""
    d = np.asarray(dst, dtype=np.float64).reshape(-1, 2) - src
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


def shot_outcome(
    eid: int, obj: int, last_xy: np.ndarray, before: Frame, after: Frame | None, distance: float,
    motion: float = 0.0, refire: bool = False,
) -> ShotOutcome:
    """A shot at monster ``obj`` as the game counted it between two frames (``after``: the tic it
    went off, or the decision's last): fired if ammunition went, a hit was counted or an impact
    lies on the line of fire (scenarios that refill the ammunition every tic); hit from
    HITCOUNT/DAMAGECOUNT; the signed aim error (degrees, what ``aim_offset`` should add) from
    the target's bearing to where the shot landed (of the new puffs and blood away from the bot,
    the one nearest the line of fire, within IMPACT_CONE); 0.0 when none is seen (no evidence:
    the learner keeps its aim). ``motion`` (the target's apparent motion the aim was led by)
    rides along for the lead rule, ``refire`` (the trigger was held the decision before) for
    the trigger rule."""
    if after is None:  # the episode ended during the shot
        return ShotOutcome(eid, False, False, 0.0, 0.0, distance)
    dv = after.vars - before.vars
    hit = bool(dv[HITS] > 0 or dv[DAMAGE] > 0)
    me = after.vars[[X, Y]]
    facing = after.vars[ANGLE]
    landed = bearing(me, after.impacts[:, 1:3])
    ours = (np.abs(wrap(landed - facing)) < IMPACT_CONE) & (
        np.hypot(*(after.impacts[:, 1:3] - me).T) > IMPACT_NEAR
    )  # not the monsters' bullets, nor the bot's own blood
    if not (hit or dv[AMMO] < 0 or ours.any()):  # a puff also tells a shot where the
        return ShotOutcome(eid, False, False, 0.0, 0.0, distance)  # ammunition never falls
    k = np.flatnonzero(after.mon_ids == obj)
    aim_at = float(bearing(me, after.mon_xy[k[0]] if k.size else last_xy)[0])
    error = 0.0
    if ours.any():  # the impact nearest the line of fire is the shot's (others: spread, blood)
        off = np.where(ours, np.abs(wrap(landed - facing)), np.inf)
        error = float(wrap(aim_at - landed[int(np.argmin(off))]))
    damage = float(max(dv[DAMAGE], 0.0)) if hit else 0.0
    return ShotOutcome(eid, True, hit, error, damage, distance, motion, refire)
