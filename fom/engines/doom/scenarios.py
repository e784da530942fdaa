"""Which ViZDoom scenario a ``doom:<name>`` world plays: a built-in name or a user's .cfg."""

from __future__ import annotations

import os
from pathlib import Path

from fom.errors import ConfigError

__all__ = ["builtin_scenarios", "resolve_scenario", "vizdoom_module"]

_NOT_PLAYABLE = {"multi", "multi_duel", "learning", "oblige", "doom", "doom2", "freedoom1",
                 "freedoom2", "basic_audio"}  # fmt: skip
"""Built-in configs that are not single-player scenarios of their own (multiplayer, sound,
base configs of the game data)."""


def vizdoom_module():
    """``import vizdoom``, or a one-line ConfigError saying how to install it."""
    try:
        import vizdoom
    except ImportError as exc:
        raise ConfigError(
            f"the doom worlds need the vizdoom package ({exc}); install FOM with: "
            "python -m pip install -e ."
        ) from None
    return vizdoom


def builtin_scenarios() -> dict[str, Path]:
    """The scenarios vizdoom ships, by name (``deadly_corridor``: its .cfg)."""
    root = Path(vizdoom_module().scenarios_path)
    return {
        p.stem: p
        for p in sorted(root.glob("*.cfg"))
        if p.stem not in _NOT_PLAYABLE
    }


def resolve_scenario(name: str) -> Path:
    """The .cfg of ``name``: a built-in scenario's name or a path to a user's .cfg file.

    ConfigError (one line, listing the built-in names) when it is neither."""
    if not name:
        raise ConfigError("--world doom:<scenario> needs a scenario name or a .cfg path")
    if name.endswith(".cfg") or os.sep in name:
        path = Path(name).expanduser()
        if not path.is_file():
            raise ConfigError(f"--world doom:{name}: no such scenario file")
        return path.resolve()
    known = builtin_scenarios()
    if name not in known:
        raise ConfigError(
            f"unknown doom scenario {name!r} (--world doom:<scenario>); choose one of "
            f"{', '.join(known)} or a .cfg path"
        )
    return known[name]
