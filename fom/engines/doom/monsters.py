"""Doom's monster classes as FOM sees them: pattern name, spawn health, threat, a planner spec.

An opponent's pattern is ``combat/<pattern name>`` (``combat/zombieman``, ``combat/imp`` ...).
The :class:`fom.hitmodel.Weapon` of a class is what the FMC planner's encounter model assumes
about a fight with it (ranges in metres, as the extracted level's; 128 map units are 3 m):
hitscan monsters (zombieman, shotgun guy, chaingunner) hurt at range, melee ones (demon,
chainsaw marine) only close, imps throw slow fireballs. Only the shape matters to the planner.
"""

from __future__ import annotations

from dataclasses import dataclass

from fom.hitmodel import WEAPONS, Weapon

__all__ = ["MONSTERS", "PATTERNS", "MonsterClass", "monster_of", "weapon_spec"]


@dataclass(frozen=True, slots=True)
class MonsterClass:
    """One Doom monster class (object name) and what the bot knows of it."""

    object_name: str
    pattern: str
    health: float
    threat: float
    """Damage per second it deals at close range, roughly: who holds the trigger first."""
    weapon: Weapon


def _m(obj: str, pattern: str, health: float, threat: float, rng: float, dmg: float,
       acc: float) -> MonsterClass:  # fmt: skip
    return MonsterClass(
        obj, pattern, health, threat,
        Weapon(pattern, drift=0.0, noise=0.1, range=rng, damage=10.0, enemy_damage=dmg,
               enemy_accuracy=acc),
    )  # fmt: skip


MONSTERS: dict[str, MonsterClass] = {
    m.object_name: m
    for m in (
        _m("Zombieman", "zombieman", 20, 9, 30.0, 9.0, 0.4),
        _m("ShotgunGuy", "shotgunguy", 30, 15, 20.0, 15.0, 0.5),
        _m("ChaingunGuy", "chaingunguy", 70, 30, 30.0, 20.0, 0.6),
        _m("DoomImp", "imp", 60, 12, 25.0, 10.0, 0.4),
        _m("Demon", "demon", 150, 20, 2.5, 25.0, 0.7),
        _m("Spectre", "spectre", 150, 20, 2.5, 25.0, 0.7),
        _m("MarineChainsawVzd", "chainsawmarine", 100, 25, 2.5, 20.0, 0.8),
        _m("Cacodemon", "cacodemon", 400, 15, 25.0, 15.0, 0.4),
        _m("LostSoul", "lostsoul", 100, 10, 4.0, 8.0, 0.5),
        _m("HellKnight", "hellknight", 500, 25, 25.0, 20.0, 0.5),
        _m("BaronOfHell", "baron", 1000, 30, 25.0, 25.0, 0.5),
        _m("Revenant", "revenant", 300, 30, 30.0, 25.0, 0.5),
        _m("Fatso", "mancubus", 600, 35, 30.0, 30.0, 0.4),
        _m("Arachnotron", "arachnotron", 500, 30, 30.0, 20.0, 0.5),
        _m("PainElemental", "painelemental", 400, 10, 20.0, 8.0, 0.3),
        _m("Archvile", "archvile", 700, 40, 30.0, 40.0, 0.6),
        _m("WolfensteinSS", "wolfss", 50, 15, 25.0, 12.0, 0.5),
        _m("Cyberdemon", "cyberdemon", 4000, 60, 40.0, 60.0, 0.4),
        _m("SpiderMastermind", "mastermind", 3000, 60, 40.0, 40.0, 0.6),
    )
}
"""The monster classes by their object name (what ``set_objects_info_enabled`` reports)."""

_BY_PATTERN = {m.pattern: m for m in MONSTERS.values()}
PATTERNS: tuple[str, ...] = tuple(sorted(_BY_PATTERN))
"""Every monster class's pattern name: a doom engine's ``weapons``."""


def monster_of(object_name: str) -> MonsterClass | None:
    """The class of an object, or None (items, corpses ``Dead*``, puffs, the player)."""
    return MONSTERS.get(object_name)


def weapon_spec(name: str) -> Weapon:
    """The planner's spec of an enemy kind: a simulated world's weapon or a Doom monster class."""
    spec = WEAPONS.get(name)
    if spec is not None:
        return spec
    monster = _BY_PATTERN.get(name)
    if monster is None:
        raise KeyError(f"unknown enemy kind {name!r}")
    return monster.weapon
