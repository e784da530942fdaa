"""Cardboard worlds for the bot: DummyGame (the seed's) and EnhancedDummyGame (many encounters).

Every encounter (= one opponent id ``e``) lives on its own floor ``e + 1`` of the canonical
level (the bot itself stands on floor 0). Its state is one row of a struct of arrays
(:mod:`fom.engines.table`), so ``advance()`` is a handful of numpy operations over the alive
rows, never a Python loop over them; reports and spawns cost only for the encounters acted on,
ended or spawned.

The rules of a tick (moves and the bump rule, the shot, return fire) are :mod:`fom.rules`, the
ones the planner's model plays too. Randomness: the bot's own teleports come from one
``np.random.Generator`` seeded with the engine seed. Everything about an encounter (start
nodes, shot noise, hits, enemy fire) comes from its own counter-based stream
(:mod:`fom.streams`, keyed by (seed, encounter)): a stream is two integers (key, counter), so
10,000 of them are saved and restored as two arrays, and an encounter's outcomes do not depend
on how many other encounters exist or in which order they act.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from fom import rules
from fom.engines.base import (
    END_REASONS,
    ShotOutcome,
    StepReport,
    WorldView,
)
from fom.engines.simulated_acts import act_all, checked_aim, checked_node, illegal_move
from fom.engines.table import EncounterTable, SavedState, World
from fom.errors import ConfigError, EngineError
from fom.hitmodel import ENEMY_HEALTH, SELF_HEALTH, WEAPONS, Weapon
from fom.level import CanonicalLevel, default_level
from fom.state import Opponent, SelfState
from fom.streams import _uniform, stream_keys, stream_uniforms

if TYPE_CHECKING:
    from fom.match import Act

__all__ = ["DummyGame", "EnhancedDummyGame", "SimulatedGame"]

AMMO = 50  # shots a projection carries into an encounter
_REASON_CODES = ("", *END_REASONS)  # 0 none, 1 killed, 2 died, 3 timeout, 4 closed
_SPAWN_DRAWS = 2  # draws 0 and 1 of an encounter's stream place it; the rules draw from 2 on


class SimulatedGame:
    """Base of the dummy worlds: the Engine contract over a struct-of-arrays encounter table."""

    def __init__(
        self,
        seed: int | None = 0,
        *,
        weapons: Sequence[str | Weapon],
        spawn_every: int = 2,
        concurrency: int = 0,
        timeout: int = 12,
        idle_timeout: int | None = None,
        teleport_prob: float = 0.1,
        level: CanonicalLevel | None = None,
        ended_memory: int | None = None,
    ) -> None:
        if not weapons or any(not isinstance(w, Weapon) and w not in WEAPONS for w in weapons):
            raise ConfigError(
                f"weapons must be non-empty, Weapon specs or among {sorted(WEAPONS)}: {weapons}"
            )
        if spawn_every < 0 or concurrency < 0:
            raise ConfigError("spawn_every and concurrency must be >= 0")
        if spawn_every == 0 and concurrency == 0:
            raise ConfigError("with spawn_every=0 and concurrency=0 no enemy ever spawns")
        if timeout < 1:
            raise ConfigError(f"timeout must be >= 1 tick, got {timeout}")
        if not 0.0 <= teleport_prob <= 1.0:
            raise ConfigError(f"teleport_prob must be in [0, 1], got {teleport_prob}")
        self.level = level if level is not None else default_level()
        if self.level.n < 2:
            raise ConfigError("the level needs at least two nodes")
        self._weapons = rules.WeaponTable.of(weapons)
        self.weapons = self._weapons.names
        self.spawn_every = int(spawn_every)
        self.concurrency = int(concurrency)
        self.timeout = int(timeout)
        self.idle_timeout = int(idle_timeout if idle_timeout is not None else 2 * timeout)
        self.teleport_prob = float(teleport_prob)
        self.ended_memory = int(
            ended_memory if ended_memory is not None else max(1024, 2 * self.concurrency)
        )
        self._w: World = self._fresh_world(0)
        self.reset(seed)

    # ------------------------------------------------------------------ bookkeeping

    @property
    def tick(self) -> int:
        """The current tick (advance() adds one)."""
        return self._w.tick

    @property
    def seed(self) -> int:
        """The seed of the current match."""
        return self._w.seed

    @property
    def deaths(self) -> int:
        """How many projections have died so far."""
        return self._w.deaths

    @property
    def encounters_started(self) -> int:
        """How many encounters (enemies) have spawned so far."""
        return self._w.next_id

    def _fingerprint(self) -> tuple:
        """What must match for a saved state to be restorable into this engine."""
        specs = self._weapons.specs
        return (type(self).__name__, specs, self.level.n, self.timeout, self.idle_timeout)

    def _fresh_world(self, seed: int) -> World:
        """An empty world at tick 0 for ``seed``."""
        rng = np.random.Generator(np.random.PCG64(seed))
        return World(
            seed=seed,
            tick=0,
            rng=rng,
            self_node=int(rng.integers(self.level.n)),
            deaths=0,
            shots=0,
            next_id=0,
            alive_count=0,
            table=EncounterTable(),
            slot_of={},
            ended=OrderedDict(),
        )

    def reset(self, seed: int | None = None) -> WorldView:
        """Start a fresh match; ``seed=None`` replays the current seed."""
        if seed is None:
            seed = self._w.seed
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ConfigError(f"seed must be a non-negative int, got {seed!r}")
        self._w = self._fresh_world(int(seed))
        self._spawn_for_tick()
        return self.observe()

    def _spawn(self, count: int) -> None:
        """Spawn the next ``count`` enemies: their rows, streams and start nodes (vectorised)."""
        if count <= 0:
            return
        w = self._w
        t = w.table
        eids = np.arange(w.next_id, w.next_id + count, dtype=np.int64)
        w.next_id += count
        rows = t.allocate(count)
        keys = stream_keys(w.seed, eids)
        n = self.level.n
        start = np.minimum((stream_uniforms(keys, np.zeros(count)) * n).astype(np.int64), n - 1)
        enemy = np.minimum(
            (stream_uniforms(keys, np.ones(count)) * (n - 1)).astype(np.int64), n - 2
        )
        enemy += enemy >= start
        t.eid[rows] = eids
        t.weapon[rows] = eids % len(self.weapons)
        t.self_node[rows] = start
        t.origin[rows] = start
        t.enemy_node[rows] = enemy
        t.ammo[rows] = AMMO
        t.spawn[rows] = w.tick
        t.engaged[rows] = -1
        t.self_health[rows] = SELF_HEALTH
        t.enemy_health[rows] = ENEMY_HEALTH
        t.aim[rows] = 0.0
        t.pending[rows] = 0.0
        t.alive[rows] = True
        t.acted[rows] = False
        t.shot[rows] = False
        t.closed[rows] = False
        t.key[rows] = keys
        t.ctr[rows] = _SPAWN_DRAWS
        w.slot_of.update(zip(eids.tolist(), rows.tolist(), strict=True))
        w.alive_count += count

    def _spawn_for_tick(self) -> None:
        """Spawns of the current tick: one every ``spawn_every`` ticks, then top up."""
        w = self._w
        if self.spawn_every and w.tick % self.spawn_every == 0:
            self._spawn(1)
        self._spawn(self.concurrency - w.alive_count)

    def _slot(self, encounter: int) -> int | None:
        """The row of an alive encounter; None if it has ended; EngineError if never existed."""
        w = self._w
        if isinstance(encounter, bool) or not isinstance(encounter, (int, np.integer)):
            raise EngineError(f"encounter must be an int, got {encounter!r}")
        slot = w.slot_of.get(int(encounter))
        if slot is not None:
            return None if w.table.closed[slot] else slot
        if 0 <= encounter < w.next_id:
            return None
        raise EngineError(f"unknown encounter {encounter}")

    def _engage(self, slot: int) -> None:
        """Mark an encounter as acted on this tick (and engaged from now on)."""
        t = self._w.table
        t.acted[slot] = True
        if t.engaged[slot] < 0:
            t.engaged[slot] = self._w.tick

    # ------------------------------------------------------------------ perception

    def observe(self) -> WorldView:
        """The bot on floor 0 and every alive opponent (enemy health > 0), sorted by id."""
        w = self._w
        t = w.table
        level = self.level
        me = SelfState(
            node=w.self_node,
            floor=0,
            position=level.positions[w.self_node].copy(),
            health=SELF_HEALTH,
            ammo=AMMO,
            deaths=w.deaths,
        )
        rows = np.flatnonzero(t.alive[: t.high] & rules.alive(t.enemy_health[: t.high]))
        if rows.size == 0:
            return WorldView(tick=w.tick, self_state=me, opponents=())
        rows = rows[np.argsort(t.eid[rows], kind="stable")]
        eids = t.eid[rows]
        nodes = t.enemy_node[rows]
        floors = eids + 1
        pos = level.positions[nodes].copy()
        pos[:, 2] += floors * level.floor_height
        names = self.weapons
        tick = w.tick
        opponents = tuple(
            map(
                Opponent,
                eids.tolist(),
                map(names.__getitem__, t.weapon[rows].tolist()),
                nodes.tolist(),
                floors.tolist(),
                pos,
                t.enemy_health[rows].tolist(),
                itertools.repeat(tick, rows.size),
            )
        )
        return WorldView(tick=tick, self_state=me, opponents=opponents)

    def weapon_of(self, encounter: int) -> str:
        """The weapon class of an encounter's enemy (alternates with the encounter id)."""
        w = self._w
        if isinstance(encounter, bool) or not 0 <= int(encounter) < w.next_id:
            raise EngineError(f"unknown encounter {encounter}")
        return self.weapons[int(encounter) % len(self.weapons)]

    def stream_position(self, encounter: int) -> tuple[int, int]:
        """(key, index of the next draw) of an alive encounter's random stream, so its next
        uniforms can be replayed elsewhere. Only tests call it (tests/fom/test_rules.py replays
        the engine's draws through the planner's model); the engine itself never needs it."""
        slot = self._slot(encounter)
        if slot is None:
            raise EngineError(f"encounter {encounter} has ended")
        t = self._w.table
        return int(t.key[slot]), int(t.ctr[slot])

    def projection(self, encounter: int) -> SelfState:
        """The bot's projection on the encounter's floor (its final state if recently ended)."""
        w = self._w
        slot = w.slot_of.get(int(encounter)) if not isinstance(encounter, bool) else None
        if slot is not None:
            t = w.table
            node, health, ammo = (
                int(t.self_node[slot]),
                float(t.self_health[slot]),
                int(t.ammo[slot]),
            )
        elif int(encounter) in w.ended:
            node, health, ammo, _ = w.ended[int(encounter)]
        else:
            self._slot(encounter)  # raises for unknown ids
            raise EngineError(f"encounter {encounter} ended too long ago to be looked up")
        floor = int(encounter) + 1
        return SelfState(
            node=node,
            floor=floor,
            position=self.level.position(node, floor),
            health=health,
            ammo=ammo,
            deaths=w.deaths,
        )

    # ------------------------------------------------------------------ actions

    def move(self, encounter: int, node: int) -> None:
        """Step to ``node``: the node held at the start of the tick or one of its neighbours.

        The enemy's own node is occupied: stepping onto it is legal but leaves the projection
        where it is (it bumps into the enemy), so a TIP walking the shortest path to the enemy
        fights from the path's last node before it, the node its flank bias chose.
        """
        slot = self._slot(encounter)
        node = checked_node(node, self.level.n)
        if slot is None:
            return  # the encounter ended this tick; the TIP learns it from the next report
        t = self._w.table
        origin = int(t.origin[slot])
        if not rules.legal_moves(self.level.adjacency, origin, node):
            raise illegal_move(encounter, node, origin)
        t.self_node[slot] = rules.bump(t.self_node[slot], node, t.enemy_node[slot])
        self._engage(slot)

    def look_at(self, encounter: int, aim_offset: float, lead_gain: float = 0.0) -> None:
        """Aim at the encounter's enemy with ``aim_offset`` added to compensate recoil (its
        enemies do not move across the view: ``lead_gain`` is checked and has nothing to lead)."""
        slot = self._slot(encounter)
        aim = checked_aim(aim_offset, lead_gain)
        if slot is None:
            return
        self._w.table.aim[slot] = aim
        self._engage(slot)

    def shoot(self, encounter: int) -> ShotOutcome:
        """Fire once (not fired: encounter ended, enemy down, already shot this tick, no ammo)."""
        slot = self._slot(encounter)
        eid = int(encounter)
        if slot is None:
            return ShotOutcome(eid, False, False, 0.0, 0.0, 0.0)
        w = self._w
        t = w.table
        level = self.level
        distance = float(level.distance[t.self_node[slot], t.enemy_node[slot]])
        self._engage(slot)
        if t.shot[slot] or t.ammo[slot] <= 0 or not rules.alive(t.enemy_health[slot]):
            return ShotOutcome(eid, False, False, 0.0, 0.0, distance)
        k = int(t.weapon[slot])
        key, ctr = int(t.key[slot]), int(t.ctr[slot])
        u = [_uniform(key, ctr + i) for i in range(rules.SHOT_DRAWS)]
        t.ctr[slot] = ctr + rules.SHOT_DRAWS
        wt = self._weapons
        hit, error, dealt, health = rules.shoot(
            u, True, t.aim[slot], wt.drift[k], wt.noise[k], distance, wt.range[k], wt.damage[k],
            t.enemy_health[slot],
        )  # fmt: skip
        damage = float(dealt)
        t.enemy_health[slot] = health
        t.ammo[slot] -= 1
        t.shot[slot] = True
        w.shots += 1
        return ShotOutcome(eid, True, bool(hit), float(error), damage, distance)

    def act_all(
        self, acts: Sequence[Act], holders: Collection[int]
    ) -> dict[int, ShotOutcome | EngineError]:
        """A tick's actions at once, as ``move``, ``look_at`` and ``shoot`` on each would."""
        return act_all(self, acts, holders)

    def close(self, encounter: int) -> None:
        """End an encounter early; the next advance reports it with reason "closed"."""
        slot = self._slot(encounter)
        if slot is not None:
            self._w.table.closed[slot] = True

    # ------------------------------------------------------------------ time

    def advance(self) -> tuple[StepReport, ...]:
        """One tick: enemies fire at engaged projections, encounters end, the bot may teleport,
        enemies spawn. Returns a report per encounter acted on or ended, sorted by id."""
        w = self._w
        t = w.table
        hi = t.high
        level = self.level
        now = w.tick
        alive = t.alive[:hi]
        rows = np.flatnonzero(alive)
        if rows.size:
            engaged = t.engaged[rows]
            fires = rules.alive(t.enemy_health[rows])
            firing = rows[(engaged >= 0) & ~t.closed[rows] & fires]
            if firing.size:
                u = stream_uniforms(t.key[firing], t.ctr[firing])
                t.ctr[firing] += np.uint64(rules.RETURN_FIRE_DRAWS)
                k = t.weapon[firing]
                wt = self._weapons
                dmg = rules.return_fire(
                    u, t.enemy_health[firing], level.exposure[t.self_node[firing]],
                    wt.enemy_accuracy[k], wt.enemy_damage[k],
                )  # fmt: skip
                t.self_health[firing] -= dmg
                t.pending[firing] += dmg
            age = np.where(engaged >= 0, now - engaged + 1, now - t.spawn[rows] + 1)
            limit = np.where(engaged >= 0, self.timeout, self.idle_timeout)
            code = np.select(
                [t.closed[rows], ~fires, ~rules.alive(t.self_health[rows]), age >= limit],
                [4, 1, 2, 3],
                0,
            )
            report_mask = t.acted[rows] | (code > 0)
            rep = rows[report_mask]
            codes = code[report_mask]
            order = np.argsort(t.eid[rep], kind="stable")
            rep, codes = rep[order], codes[order]
        else:
            rep = rows
            codes = np.zeros(0, dtype=np.int64)
        reports: tuple[StepReport, ...] = ()
        if rep.size:
            nodes = t.self_node[rep]
            reports = tuple(
                map(
                    StepReport,
                    t.eid[rep].tolist(),
                    t.pending[rep].tolist(),
                    level.exposure[nodes].tolist(),
                    t.self_health[rep].tolist(),
                    t.enemy_health[rep].tolist(),
                    nodes.tolist(),
                    t.enemy_node[rep].tolist(),
                    (codes > 0).tolist(),
                    map(_REASON_CODES.__getitem__, codes.tolist()),
                )
            )
            t.pending[rep] = 0.0
            t.acted[rep] = False
            t.shot[rep] = False
            t.origin[rep] = nodes
            ended = rep[codes > 0]
            if ended.size:
                self._finish(ended, codes[codes > 0])
        w.tick = now + 1
        if w.rng.random() < self.teleport_prob:
            w.self_node = int(w.rng.integers(level.n))
        self._spawn_for_tick()
        return reports

    def _finish(self, rows: np.ndarray, codes: np.ndarray) -> None:
        """Free the rows of ended encounters, count deaths, remember their final states."""
        w = self._w
        t = w.table
        w.deaths += int(np.count_nonzero(codes == 2))
        for e, node, hp, ammo, c in zip(
            t.eid[rows].tolist(),
            t.self_node[rows].tolist(),
            t.self_health[rows].tolist(),
            t.ammo[rows].tolist(),
            codes.tolist(),
            strict=True,
        ):
            del w.slot_of[e]
            w.ended[e] = (node, hp, ammo, _REASON_CODES[c])
        t.alive[rows] = False
        t.closed[rows] = False
        t.free.extend(rows.tolist())
        w.alive_count -= int(rows.size)
        while len(w.ended) > self.ended_memory:
            w.ended.popitem(last=False)

    # ------------------------------------------------------------------ save / restore

    def save_state(self) -> object:
        """A deep copy of the match (encounter table, counters, RNG states)."""
        return SavedState(self._fingerprint(), self._w.copy())

    def restore_state(self, state: object) -> None:
        """Return to a saved state (which stays reusable: it is copied again)."""
        if not isinstance(state, SavedState):
            raise EngineError(f"not a state saved by {type(self).__name__}: {type(state).__name__}")
        if state.fingerprint != self._fingerprint():
            raise EngineError("the state was saved by an engine with a different configuration")
        self._w = state.world.copy()


class DummyGame(SimulatedGame):
    """The seed's world: an enemy every other tick alternating shotgun/rocket; the bot teleports."""

    def __init__(self, seed: int | None = 0, spawn_every: int = 2, **options: object) -> None:
        options.setdefault("weapons", ("shotgun", "rocket"))
        super().__init__(seed, spawn_every=spawn_every, **options)  # type: ignore[arg-type]


class EnhancedDummyGame(SimulatedGame):
    """Three weapon classes alternating, and at least ``concurrency`` enemies alive at all times."""

    def __init__(self, seed: int | None = 0, concurrency: int = 1, **options: object) -> None:
        if concurrency < 1:
            raise ConfigError(f"concurrency must be >= 1, got {concurrency}")
        options.setdefault("weapons", ("shotgun", "rocket", "railgun"))
        options.setdefault("spawn_every", 2)
        super().__init__(seed, concurrency=concurrency, **options)  # type: ignore[arg-type]
