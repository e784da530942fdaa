"""Where a game of ``fom-fmc`` stands between two decisions, saved so that it can go on later
exactly as if it had never stopped (a full MsPacman or Qbert game takes hours of emulation)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import msgpack

from fom.atomic import write_atomically
from fom.config import FmcConfig
from fom.errors import ConfigError, StateFileError

__all__ = ["FORMAT", "AtariCheckpoint", "game_settings"]

FORMAT = "fom-fmc-checkpoint/1"
"""The ``format`` field of a checkpoint file (msgpack map)."""


def game_settings(config: FmcConfig, game_id: str) -> dict[str, Any]:
    """The settings a game's decisions depend on (``processes`` and ``steps`` do not)."""
    return {
        "game": game_id, "seed": config.seed, "walkers": config.walkers,
        "horizon": config.horizon, "max_samples": config.sample_cap,
        "min_walkers": config.min_walkers, "frameskip": config.frameskip,
        "adaptive": config.adaptive, "obs": config.obs, "loss_is_death": config.loss_is_death,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class AtariCheckpoint:
    """A game after ``step`` decisions: the emulator, the score, what it cost, the swarm."""

    settings: dict[str, Any]
    """:func:`game_settings` of the game: another game, seed or planner cannot go on from it."""
    step: int
    """Decisions played."""
    state: bytes
    """The real game's emulator state after them (its RNG included)."""
    score: float
    """Score after them."""
    samples: int
    """Walker-steps spent on them."""
    wall_s: float
    """Wall time spent playing them, over every session."""
    walkers: int
    """Walkers the next decision uses (the adaptive swarm's size after the last one)."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the checkpoint atomically (temporary file, then rename); OSError if it cannot."""
        fields = dataclasses.asdict(self)
        write_atomically(path, msgpack.packb({"format": FORMAT, **fields}, use_bin_type=True))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AtariCheckpoint:
        """Read a checkpoint ``save`` wrote; StateFileError if it is missing or not one."""
        try:
            with open(path, "rb") as fh:
                raw = msgpack.unpackb(fh.read(), raw=False)
        except FileNotFoundError:
            raise StateFileError(f"checkpoint {path} does not exist") from None
        except OSError as exc:
            raise StateFileError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
        except (ValueError, msgpack.UnpackException) as exc:
            raise StateFileError(f"{path} is not a fom-fmc checkpoint: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise StateFileError(f"{path} is not a fom-fmc checkpoint ({FORMAT})")
        names = [f.name for f in dataclasses.fields(cls)]
        try:
            checkpoint = cls(**{name: raw[name] for name in names})
        except KeyError as exc:
            raise StateFileError(f"checkpoint {path} has no {exc.args[0]!r}") from None
        kinds = (dict, int, bytes, (int, float), int, (int, float), int)
        for name, kind in zip(names, kinds, strict=True):
            if not isinstance(getattr(checkpoint, name), kind):
                raise StateFileError(f"checkpoint {path}: {name!r} has the wrong type")
        return checkpoint

    def check(self, settings: dict[str, Any], path: str) -> None:
        """ConfigError naming the first setting this game was not played with; StateFileError
        if its counts are out of range."""
        for name, value in settings.items():
            if self.settings.get(name) != value:
                flag = "game" if name == "game" else "--" + name.replace("_", "-")
                raise ConfigError(
                    f"checkpoint {path} was played with {flag} {self.settings.get(name)!r}, "
                    f"not {value!r}: resume with the same settings"
                )
        low = settings["min_walkers"] if settings["adaptive"] else settings["walkers"]
        if self.step < 0 or self.samples < 0 or not low <= self.walkers <= settings["walkers"]:
            raise StateFileError(f"checkpoint {path} is corrupt: counts out of range")
