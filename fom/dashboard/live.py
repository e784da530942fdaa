"""A live dashboard window (interactive matplotlib through pyplot); the only pyplot user here."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from importlib.util import find_spec
from typing import Any

from fom.dashboard.errors import DashboardError
from fom.dashboard.render import FIGSIZE, Dashboard
from fom.dashboard.state import DashboardState

__all__ = ["LiveWindow", "has_display", "interactive_backend"]

# Interactive backends and the modules they need, in order of preference.
_BACKENDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("QtAgg", ("PyQt6", "PySide6", "PyQt5", "PySide2")),
    ("TkAgg", ("_tkinter",)),
    ("GTK4Agg", ("gi",)),
    ("GTK3Agg", ("gi",)),
    ("WXAgg", ("wx",)),
)
_NON_INTERACTIVE = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def _importable(module: str) -> bool:
    """Whether a module could be imported, without importing it."""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def interactive_backend() -> str | None:
    """The interactive matplotlib backend to use: $MPLBACKEND if interactive, else the first
    whose GUI toolkit is importable (MacOSX on macOS); None when there is none."""
    env = os.environ.get("MPLBACKEND", "").strip()
    if env and env.lower() not in _NON_INTERACTIVE and not env.lower().startswith("module://"):
        return env
    if sys.platform == "darwin":
        return "MacOSX"
    for name, modules in _BACKENDS:
        if any(_importable(m) for m in modules):
            return name
    return None


def has_display() -> bool:
    """Whether a live window can be opened: a display on X11/Wayland systems (DISPLAY or
    WAYLAND_DISPLAY) and an importable interactive backend everywhere."""
    if sys.platform not in ("win32", "darwin", "cygwin") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    return interactive_backend() is not None


class LiveWindow:
    """An interactive window showing the dashboard; call `refresh(state)` (e.g. twice a second).

    Closing the window by hand is not an error: `is_open` turns False and `refresh` returns
    False, so a run can continue headless or stop. Usable as a context manager.
    """

    def __init__(
        self,
        title: str = "FOM dashboard",
        *,
        backend: str | None = None,
        figsize: Sequence[float] = FIGSIZE,
    ) -> None:
        """Open the window; DashboardError (one clear line) when no display/backend is usable."""
        if backend is None and not has_display():
            raise DashboardError(
                "no display for the live dashboard (DISPLAY/WAYLAND_DISPLAY unset or no GUI "
                "toolkit for matplotlib); render to a file with --dashboard out.png instead"
            )
        name = backend or interactive_backend()
        if name is None:
            raise DashboardError("no interactive matplotlib backend is available for --live")
        import matplotlib.pyplot as plt

        try:
            plt.switch_backend(name)
        except (ImportError, RuntimeError, ValueError) as exc:
            raise DashboardError(f"cannot open a live window with backend {name}: {exc}") from None
        self._plt: Any = plt
        self.backend = name
        self.figure = plt.figure(num=title, figsize=tuple(figsize))
        self.dashboard = Dashboard(self.figure)
        self._open = True
        self.figure.canvas.mpl_connect("close_event", self._on_close)
        plt.show(block=False)
        self._flush()

    def _on_close(self, _event: object) -> None:
        """The user closed the window."""
        self._open = False

    @property
    def is_open(self) -> bool:
        """Whether the window is still open."""
        return self._open

    def _flush(self) -> None:
        """Let the GUI process pending events (repaint, resize, close)."""
        self.figure.canvas.flush_events()

    def refresh(self, state: DashboardState) -> bool:
        """Redraw from `state`; False (and nothing drawn) once the window was closed."""
        if not self._open:
            return False
        self.dashboard.draw(state)
        self.figure.canvas.draw_idle()
        self._flush()
        return self._open

    def close(self) -> None:
        """Close the window (idempotent)."""
        if self._open:
            self._open = False
            self._plt.close(self.figure)

    def __enter__(self) -> LiveWindow:
        """Use as a context manager that closes the window on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the window."""
        self.close()
