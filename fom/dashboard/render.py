"""Draw a DashboardState on a matplotlib figure: map, learning curves, accuracy, numbers.

Pure matplotlib (no pyplot): headless rendering uses `Figure` + `FigureCanvasAgg`, and the live
window hands its own pyplot figure in. Artists are created once and updated on each `draw`, so
refreshing twice a second stays cheap.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from fom.dashboard.errors import DashboardError
from fom.dashboard.state import DashboardState, LevelView, weapon_of

__all__ = ["AXIS_TITLES", "BOT_COLOUR", "WEAPON_COLOURS", "Dashboard", "save_png"]

AXIS_TITLES = ("Level (top-down)", "Learning curves", "Accuracy per pattern", "Numbers")
FIGSIZE = (12.0, 8.0)
BOT_COLOUR = "#2ca02c"
# Reds and oranges, one per weapon in order of first appearance (enemies, curves and bars).
WEAPON_COLOURS = ("#d62728", "#ff8c00", "#8b1a1a", "#f4b400", "#e9573f", "#b35900")
NODE_CMAP = "Greys"
_EMPTY2 = np.empty((0, 2))


BIG_LEVEL = 30
"""Levels with more nodes (a real map's) are drawn with small, unlabelled nodes."""


def _fmt(value: float | None, spec: str, unit: str = "") -> str:
    """Format an optional number, '-' when unknown."""
    return "-" if value is None or not math.isfinite(value) else f"{value:{spec}}{unit}"


class Dashboard:
    """The four-panel dashboard on one figure; `draw(state)` updates it in place.

    With `figure=None` a headless Agg figure is created; a given figure is cleared and reused
    (the live window passes a pyplot figure). Axes: `ax_map`, `ax_curves`, `ax_accuracy`,
    `ax_numbers`, titled as in `AXIS_TITLES`.
    """

    def __init__(self, figure: Figure | None = None, *, figsize: Sequence[float] = FIGSIZE) -> None:
        """Build the axes and the (empty) artists that `draw` will update."""
        if figure is None:
            figure = Figure(figsize=tuple(figsize))
            FigureCanvasAgg(figure)
        else:
            figure.clear()
        self.figure = figure
        grid = figure.add_gridspec(
            2, 2, left=0.065, right=0.985, bottom=0.07, top=0.91, wspace=0.16, hspace=0.3,
            width_ratios=(1.0, 1.15),
        )
        self.ax_map = figure.add_subplot(grid[0, 0])
        self.ax_curves = figure.add_subplot(grid[0, 1])
        self.ax_accuracy = figure.add_subplot(grid[1, 0])
        self.ax_numbers = figure.add_subplot(grid[1, 1])
        for ax, title in zip(self.axes, AXIS_TITLES, strict=True):
            ax.set_title(title, fontsize=11, fontweight="bold")
        self._title = figure.suptitle("FOM dashboard", fontsize=13)
        self._setup_map()
        self._setup_curves()
        self._setup_accuracy()
        self._setup_numbers()

    @property
    def axes(self) -> tuple:
        """The four axes: map, curves, accuracy, numbers."""
        return (self.ax_map, self.ax_curves, self.ax_accuracy, self.ax_numbers)

    # -------------------------------------------------------------------- setup

    def _setup_map(self) -> None:
        """Empty map artists: edges, nodes, paths, enemies, bot."""
        ax = self.ax_map
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_aspect("equal", adjustable="box")
        ax.set_anchor("W")
        ax.grid(True, color="#eeeeee", linewidth=0.6, zorder=0)
        self._level: LevelView | None = None
        self._map_span = 1.0
        self._walls = LineCollection([], colors="#303030", linewidths=1.2, zorder=1)
        ax.add_collection(self._walls)
        self._edges = LineCollection([], colors="#b0b0b0", linewidths=2.0, zorder=1)
        ax.add_collection(self._edges)
        self._nodes = ax.scatter(
            [], [], c=[], s=260, cmap=NODE_CMAP, vmin=-0.1, vmax=1.25, zorder=2,
            edgecolors="#555555", linewidths=0.8,
        )
        self._node_labels: list = []
        self._paths = LineCollection([], linestyles="--", linewidths=1.8, zorder=3)
        ax.add_collection(self._paths)
        self._enemies = ax.scatter(
            [], [], s=110, marker="o", edgecolors="black", linewidths=0.8, zorder=4
        )
        (self._bot,) = ax.plot(
            [], [], "o", color=BOT_COLOUR, markersize=13, markeredgecolor="black", zorder=5
        )
        self._map_msg = ax.text(
            0.5, 0.5, "waiting for run.started", transform=ax.transAxes, ha="center",
            va="center", color="#888888",
        )
        self._map_legend_key: tuple | None = None

    def _setup_curves(self) -> None:
        """Empty learning-curve axes."""
        ax = self.ax_curves
        ax.set_xlabel("tick")
        ax.set_ylabel("parameter value")
        ax.grid(True, color="#eeeeee", linewidth=0.6)
        self._curve_lines: dict[tuple[str, str], Line2D] = {}
        self._curves_legend_key: tuple | None = None
        self._curve_legends: list = []
        self._curves_msg = ax.text(
            0.5, 0.5, "waiting for pattern.merged", transform=ax.transAxes, ha="center",
            va="center", color="#888888",
        )

    def _setup_accuracy(self) -> None:
        """Empty accuracy bars."""
        ax = self.ax_accuracy
        ax.set_ylabel("accuracy (hits / shots)")
        ax.set_ylim(0.0, 1.12)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
        ax.grid(True, axis="y", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
        self._bars: BarContainer | None = None
        self._bar_keys: tuple[str, ...] | None = None
        self._bar_labels: list = []
        self._overall = ax.axhline(math.nan, color="#555555", linestyle=":", linewidth=1.2)
        self._acc_msg = ax.text(
            0.5, 0.5, "no shots yet", transform=ax.transAxes, ha="center", va="center",
            color="#888888",
        )

    def _setup_numbers(self) -> None:
        """The monospace text block."""
        ax = self.ax_numbers
        ax.set_axis_off()
        style = {"transform": ax.transAxes, "va": "top", "family": "monospace",
                 "linespacing": 1.45}
        self._numbers = ax.text(0.02, 0.98, "", ha="left", fontsize=10.5, **style)
        self._params_text = ax.text(0.47, 0.98, "", ha="left", fontsize=9.5, **style)

    # ------------------------------------------------------------------ drawing

    def colour(self, state: DashboardState, weapon: str) -> str:
        """The colour of a weapon (and of its pattern): stable by order of first appearance."""
        try:
            index = state.weapons.index(weapon)
        except ValueError:
            index = len(state.weapons)
        return WEAPON_COLOURS[index % len(WEAPON_COLOURS)]

    def draw(self, state: DashboardState) -> None:
        """Update every panel from `state` (the caller renders: savefig or canvas.draw_idle)."""
        self._title.set_text(self._headline(state))
        self._draw_map(state)
        self._draw_curves(state)
        self._draw_accuracy(state)
        self._numbers.set_text(self._numbers_text(state))
        self._params_text.set_text(self._params_table(state))

    def _headline(self, state: DashboardState) -> str:
        """Figure title: tick, run configuration, status."""
        parts = [f"FOM dashboard  -  tick {state.tick if state.tick is not None else '-'}"]
        config = state.config
        for key in ("world", "learner", "planner", "tips", "seed"):
            if key in config and isinstance(config[key], str | int | float):
                parts.append(f"{key} {config[key]}")
        if state.finished:
            parts.append("finished")
        return "  |  ".join(parts)

    def _set_level(self, level: LevelView | None) -> None:
        """Static map artists for a (new) level."""
        self._level = level
        for label in self._node_labels:
            label.remove()
        self._node_labels = []
        if level is None:
            self._edges.set_segments([])
            self._walls.set_segments([])
            self._nodes.set_offsets(_EMPTY2)
            return
        xy = level.positions[:, :2]
        self._walls.set_segments(level.lines.reshape(-1, 2, 2))
        self._edges.set_segments([xy[[a, b]] for a, b in level.edges])
        self._edges.set_linewidth(2.0 if level.n <= BIG_LEVEL else 0.6)
        self._nodes.set_offsets(xy)
        self._nodes.set_array(level.cover)
        self._nodes.set_sizes([260 if level.n <= BIG_LEVEL else 18])
        self._node_labels = [] if level.n > BIG_LEVEL else [
            self.ax_map.annotate(
                str(i), (x, y), xytext=(-9, -9), textcoords="offset points", ha="right",
                va="top", fontsize=7, color="#666666", zorder=2,
            )
            for i, (x, y) in enumerate(xy)
        ]
        ends = np.concatenate([xy, level.lines.reshape(-1, 2)])
        lo, hi = ends.min(axis=0), ends.max(axis=0)
        span = float(max(hi[0] - lo[0], hi[1] - lo[1], 1.0))
        pad = 0.15 * span
        self.ax_map.set_xlim(lo[0] - pad, hi[0] + pad)
        self.ax_map.set_ylim(lo[1] - pad, hi[1] + pad)
        self._map_span = span

    def _draw_map(self, state: DashboardState) -> None:
        """Bot, engaged enemies and planned paths on the level."""
        level = state.level
        if level is not self._level:
            self._set_level(level)
        self._map_msg.set_visible(level is None)
        if level is None:
            self._bot.set_data([], [])
            self._enemies.set_offsets(_EMPTY2)
            self._paths.set_segments([])
            return
        xy = level.positions[:, :2]
        bot = state.self_node
        if level.has_node(bot):
            self._bot.set_data([xy[bot, 0]], [xy[bot, 1]])
        else:
            self._bot.set_data([], [])
        # Enemies on the same node (different floors) or on the bot's node are spread on a ring.
        by_node: dict[int, list[str]] = {}
        for enemy in state.enemies.values():
            if level.has_node(enemy.node):
                by_node.setdefault(enemy.node, []).append(enemy.weapon)
        offsets, colours = [], []
        radius = 0.045 * self._map_span
        for node, weapons in by_node.items():
            crowded = len(weapons) > 1 or node == bot
            for k, weapon in enumerate(weapons):
                dx = dy = 0.0
                if crowded:
                    angle = math.pi / 4 + 2 * math.pi * k / max(len(weapons), 1)
                    dx, dy = radius * math.cos(angle), radius * math.sin(angle)
                offsets.append((xy[node, 0] + dx, xy[node, 1] + dy))
                colours.append(self.colour(state, weapon))
        self._enemies.set_offsets(np.asarray(offsets, dtype=float).reshape(-1, 2))
        self._enemies.set_facecolor(colours if colours else "none")
        # Planned paths: newest opaque, older fading.
        segments, path_colours = [], []
        paths = [p for p in state.paths if all(level.has_node(n) for n in p.nodes)]
        for age, path in enumerate(reversed(paths)):
            if len(path.nodes) < 2:
                continue
            alpha = max(0.25, 0.9 - 0.15 * age)
            segments.append(xy[list(path.nodes)])
            rgba = list(to_rgba(self.colour(state, path.weapon)))
            rgba[3] = alpha
            path_colours.append(tuple(rgba))
        self._paths.set_segments(segments)
        self._paths.set_color(path_colours if path_colours else "none")
        key = tuple(state.weapons)
        if key != self._map_legend_key:
            self._map_legend_key = key
            self._map_legend(state)

    def _map_legend(self, state: DashboardState) -> None:
        """Legend of the map: bot, enemies by weapon, planned path, node shading."""
        handles = [
            Line2D([], [], marker="o", linestyle="", color=BOT_COLOUR, markeredgecolor="black",
                   markersize=9, label="bot"),
        ]
        for weapon in state.weapons:
            handles.append(
                Line2D([], [], marker="o", linestyle="", color=self.colour(state, weapon),
                       markeredgecolor="black", markersize=8, label=f"enemy ({weapon})")
            )
        handles.append(Line2D([], [], linestyle="--", color="#777777", label="planned path"))
        handles.append(
            Line2D([], [], marker="o", linestyle="", color="#7a7a7a", markeredgecolor="#555555",
                   markersize=8, label="node\n(darker = more cover)")
        )
        old = self.ax_map.get_legend()
        if old is not None:
            old.remove()
        self.ax_map.legend(  # right of the map, which is anchored to the left of its cell
            handles=handles, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=8,
            framealpha=0.85, handletextpad=0.4, borderaxespad=0.0,
        )

    def _draw_curves(self, state: DashboardState) -> None:
        """aim_offset (solid) and flank_bias (dashed) per pattern over ticks, as steps (they
        change only when a delta is merged) extended to the current tick."""
        ax = self.ax_curves
        xs: list[np.ndarray] = []
        ys: list[np.ndarray] = []
        for signature, curve in state.curves.items():
            ticks, aim, flank = curve.arrays()
            if state.tick is not None and ticks.size and state.tick > ticks[-1]:
                # parameters hold until the next merge: extend the steps to the current tick
                ticks = np.append(ticks, state.tick)
                aim, flank = np.append(aim, aim[-1]), np.append(flank, flank[-1])
            xs.append(ticks)
            ys += [aim, flank]
            colour = self.colour(state, weapon_of(signature))
            for name, values, style in (("aim_offset", aim, "-"), ("flank_bias", flank, "--")):
                line = self._curve_lines.get((signature, name))
                if line is None:
                    (line,) = ax.plot(
                        [], [], linestyle=style, color=colour, linewidth=1.8,
                        drawstyle="steps-post",
                    )
                    self._curve_lines[(signature, name)] = line
                line.set_data(ticks, values)
                line.set_marker("o" if len(ticks) == 1 else "None")
        self._curves_msg.set_visible(not state.curves)
        if not state.curves:
            return
        x = np.concatenate(xs)
        y = np.concatenate(ys)
        y = y[np.isfinite(y)]
        x_lo, x_hi = float(x.min()), float(max(x.max(), state.tick or 0))
        y_lo, y_hi = (float(y.min()), float(y.max())) if y.size else (0.0, 1.0)
        x_pad = 0.03 * max(x_hi - x_lo, 1.0)
        y_span = max(y_hi - y_lo, 0.1)
        rows = min(len(state.curves), 3)
        ax.set_xlim(x_lo - x_pad, x_hi + x_pad)
        ax.set_ylim(y_lo - 0.06 * y_span, y_hi + (0.15 + 0.1 * rows) * y_span)  # legend room
        key = tuple(state.curves)
        if key != self._curves_legend_key:
            self._curves_legend_key = key
            for legend in self._curve_legends:
                legend.remove()
            handles = [
                Line2D([], [], color=self.colour(state, weapon_of(sig)), linewidth=2.5, label=sig)
                for sig in state.curves
            ]
            styles = [
                Line2D([], [], color="black", linestyle="-", label="aim_offset"),
                Line2D([], [], color="black", linestyle="--", label="flank_bias"),
            ]
            ncol = math.ceil(len(handles) / 3)
            patterns = ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=ncol,
                                 framealpha=0.85)
            ax.add_artist(patterns)
            params = ax.legend(handles=styles, loc="upper right", fontsize=8, framealpha=0.85)
            self._curve_legends = [patterns, params]

    def _draw_accuracy(self, state: DashboardState) -> None:
        """One bar per pattern (hits / shots), labelled with its counts; the overall line."""
        ax = self.ax_accuracy
        keys = tuple(sorted(state.patterns, key=lambda sig: _order(state, sig)))
        if keys != self._bar_keys:
            self._bar_keys = keys
            if self._bars is not None:
                self._bars.remove()
            for label in self._bar_labels:
                label.remove()
            x = np.arange(len(keys))
            colours = [self.colour(state, weapon_of(k)) for k in keys]
            self._bars = ax.bar(x, np.zeros(len(keys)), width=0.6, color=colours,
                                edgecolor="black", linewidth=0.6)
            ax.set_xticks(x, keys)
            ax.set_xlim(-0.6, max(len(keys), 1) - 0.4)
            self._bar_labels = [
                ax.text(i, 0.0, "", ha="center", va="bottom", fontsize=9) for i in range(len(keys))
            ]
        assert self._bars is not None
        for rect, label, key in zip(self._bars.patches, self._bar_labels, keys, strict=True):
            stats = state.patterns[key]
            acc = stats.accuracy
            rect.set_height(acc or 0.0)
            label.set_y((acc or 0.0) + 0.02)
            label.set_text(
                "no shots" if acc is None else f"{acc:.0%} ({stats.hits}/{stats.shots})"
            )
        overall = state.accuracy
        self._overall.set_ydata([overall if overall is not None else math.nan] * 2)
        ax.set_xlabel(
            "" if overall is None
            else f"dotted line: all patterns, {overall:.1%} ({state.hits}/{state.shots})"
        )
        self._acc_msg.set_visible(not keys)

    def _numbers_text(self, state: DashboardState) -> str:
        """The raw numbers, aligned."""
        est = " (est.)" if state.timings_estimated else ""
        rows = [
            ("tick", "-" if state.tick is None else str(state.tick)),
            ("encounters", str(state.encounters)),
            ("kills", str(state.kills)),
            ("shots", str(state.shots)),
            ("hits", str(state.hits)),
            ("accuracy", _fmt(None if state.accuracy is None else 100 * state.accuracy,
                              ".1f", " %")),
            ("active TIPs", f"{state.active_tips}  (max {state.max_active_tips})"),
            ("decisions/s", _fmt(state.decisions_per_s, ",.1f") + est),
            ("latency p50", _fmt(state.latency_p50_ms, ".2f", " ms") + est),
            ("latency p99", _fmt(state.latency_p99_ms, ".2f", " ms") + est),
            ("damage dealt", _fmt(state.damage_dealt, ".1f")),
            ("damage taken", _fmt(state.damage_taken, ".1f")),
        ]
        if state.self_health is not None:
            rows.append(("bot health", _fmt(state.self_health, ".1f")))
        for label, value in (
            ("actor failures", state.failures),
            ("rejected deltas", state.rejected_deltas),
            ("dead letters", state.dead_letters),
            ("lost events", state.lost_events),
        ):
            if value:
                rows.append((label, str(value)))
        return "\n".join(f"{label:<16}{value}" for label, value in rows)

    def _params_table(self, state: DashboardState) -> str:
        """Per-pattern encounters and current parameters, aligned."""
        keys = sorted(state.patterns, key=lambda sig: _order(state, sig))
        if not keys:
            return ""
        lines = [f"{'pattern':<15}{'enc':>4}{'aim_off':>9}{'flank':>7}"]
        for sig in keys[:12]:
            stats = state.patterns[sig]
            lines.append(
                f"{sig[:14]:<15}{stats.encounters:>4}"
                f"{_fmt(stats.params.get('aim_offset'), '+.3f'):>9}"
                f"{_fmt(stats.params.get('flank_bias'), '.2f'):>7}"
            )
        if len(keys) > 12:
            lines.append(f"... {len(keys) - 12} more")
        return "\n".join(lines)


def _order(state: DashboardState, signature: str) -> int:
    """Display order of a pattern: by its weapon's first appearance."""
    weapon = weapon_of(signature)
    return state.weapons.index(weapon) if weapon in state.weapons else len(state.weapons)


def save_png(state: DashboardState, path: str | os.PathLike[str], *, dpi: float = 100) -> Figure:
    """Render `state` headless (Agg) to a PNG file and return the figure drawn."""
    dashboard = Dashboard()
    dashboard.draw(state)
    try:
        dashboard.figure.savefig(os.fspath(path), format="png", dpi=dpi)
    except OSError as exc:
        raise DashboardError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from exc
    return dashboard.figure
