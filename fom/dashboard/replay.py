"""Render recorded event streams (JSONL or msgpack) to a still image or an animation."""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from matplotlib.figure import Figure

from fom.dashboard.errors import DashboardError
from fom.dashboard.render import Dashboard
from fom.dashboard.state import DashboardState
from fom.events import EventStreamError, detect_format
from fom.events import read_events as _read_events
from fom.progress import progress_bar

__all__ = [
    "ANIMATION_SUFFIXES",
    "STILL_SUFFIXES",
    "RenderResult",
    "detect_format",
    "read_events",
    "render_file",
]

STILL_SUFFIXES = frozenset({".png", ".svg", ".pdf"})
ANIMATION_SUFFIXES = frozenset({".gif", ".mp4"})
DEFAULT_MAX_FRAMES = 60
ANIMATION_DPI = 72.0


def read_events(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """``fom.events.read_events`` with its errors raised as DashboardError (what fom-dash
    reports): the events of a JSONL or msgpack stream as dicts ('-' reads stdin)."""
    try:
        events = _read_events(path)
    except EventStreamError as exc:
        raise DashboardError(str(exc)) from None
    return _as_dashboard_errors(events)


def _as_dashboard_errors(events: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Iterate ``events``, an EventStreamError becoming a DashboardError."""
    try:
        yield from events
    except EventStreamError as exc:
        raise DashboardError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class RenderResult:
    """What `render_file` produced: output path, frames written, the state and figure drawn."""

    path: Path
    frames: int
    tick: int | None
    state: DashboardState
    figure: Figure


def _event_ticks(events: Iterable[Mapping[str, Any]], at_tick: int | None) -> list[int]:
    """Sorted distinct ticks of the events that `DashboardState.apply_all` would apply."""
    ticks: set[int] = set()
    for event in events:
        tick = event.get("tick")
        if type(tick) is int and (at_tick is None or tick <= at_tick):
            ticks.add(tick)
    return sorted(ticks)


def _frame_ticks(ticks: list[int], max_frames: int) -> list[int]:
    """Up to `max_frames` ticks evenly spaced from the first to the last tick."""
    if not ticks:
        return []
    lo, hi = ticks[0], ticks[-1]
    count = max(1, min(max_frames, hi - lo + 1))
    return sorted({int(t) for t in np.rint(np.linspace(lo, hi, count))})


class _GifWriter:
    """Collect frames as palette images (small in memory) and write an animated GIF with Pillow."""

    def __init__(self, path: Path, fps: float) -> None:
        """Prepare to write `path` at `fps` frames per second."""
        self.path = path
        self.duration = max(20, round(1000.0 / fps))
        self.frames: list = []

    def grab(self, figure: Figure) -> None:
        """Render the figure and keep it as a quantised frame."""
        from PIL import Image

        figure.canvas.draw()
        rgba = np.asarray(figure.canvas.buffer_rgba())
        image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
        self.frames.append(image.quantize(colors=255, dither=Image.Dither.NONE))

    def finish(self) -> None:
        """Write the GIF; the last frame is held longer so the final state can be read."""
        durations = [self.duration] * len(self.frames)
        durations[-1] = max(self.duration, 2000)
        self.frames[0].save(
            self.path, format="GIF", save_all=True, append_images=self.frames[1:],
            duration=durations, loop=0, disposal=1,
        )


class _Mp4Writer:
    """Stream frames to ffmpeg through matplotlib's FFMpegWriter."""

    def __init__(self, path: Path, fps: float, figure: Figure, dpi: float) -> None:
        """Start ffmpeg writing `path`."""
        from matplotlib.animation import FFMpegWriter

        self.writer = FFMpegWriter(fps=fps)
        self.writer.setup(figure, os.fspath(path), dpi=dpi)

    def grab(self, figure: Figure) -> None:
        """Send one frame to ffmpeg."""
        self.writer.grab_frame()

    def finish(self) -> None:
        """Close ffmpeg and the file."""
        self.writer.finish()


def _check_output(out: Path) -> str:
    """Validate the output suffix (and ffmpeg for .mp4); return the suffix."""
    suffix = out.suffix.lower()
    if suffix not in STILL_SUFFIXES | ANIMATION_SUFFIXES:
        supported = ", ".join(sorted(STILL_SUFFIXES | ANIMATION_SUFFIXES))
        raise DashboardError(
            f"cannot render to {out}: unsupported format {suffix or '(none)'!r}; use {supported}"
        )
    if suffix == ".mp4":
        from matplotlib.animation import FFMpegWriter

        if not FFMpegWriter.isAvailable():
            raise DashboardError(
                f"cannot write {out}: .mp4 output needs ffmpeg, which was not found on PATH; "
                "install ffmpeg or render a .gif instead"
            )
    if not out.parent.is_dir():
        raise DashboardError(f"cannot write {out}: directory {out.parent} does not exist")
    return suffix


def render_file(
    events_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    at_tick: int | None = None,
    *,
    max_frames: int = DEFAULT_MAX_FRAMES,
    fps: float = 5.0,
    dpi: float | None = None,
    progress: TextIO | None = None,
) -> RenderResult:
    """Render a recorded run: a still (.png/.svg/.pdf) of the last frame or of tick `at_tick`,
    or an animation (.gif with Pillow, .mp4 with ffmpeg) of up to `max_frames` frames sampled
    evenly over the ticks (up to `at_tick`, when given).

    Raises DashboardError for a missing/unreadable/empty events file, a negative tick, an
    unsupported output format, missing ffmpeg for .mp4, or an unwritable output. An animation
    that takes more than two seconds shows a progress bar on ``progress`` when given.
    """
    out = Path(out_path)
    suffix = _check_output(out)
    if at_tick is not None and at_tick < 0:
        raise DashboardError(f"--at tick must be >= 0, got {at_tick}")
    if suffix in STILL_SUFFIXES:
        state = DashboardState()
        state.apply_all(read_events(events_path), at_tick=at_tick)
        _require_events(state, events_path, at_tick)
        dashboard = Dashboard()
        dashboard.draw(state)
        _write(out, lambda: dashboard.figure.savefig(out, format=suffix[1:], dpi=dpi or 100))
        return RenderResult(out, 1, state.tick, state, dashboard.figure)
    return _animate(
        events_path, out, suffix, at_tick, max_frames, fps, dpi or ANIMATION_DPI, progress
    )


def _require_events(state: DashboardState, events_path: object, at_tick: int | None) -> None:
    """Fail clearly when nothing was folded."""
    if state.events == 0:
        where = f" at or before tick {at_tick}" if at_tick is not None else ""
        raise DashboardError(f"no events{where} in {os.fspath(events_path)}")  # type: ignore[arg-type]


def _write(out: Path, action: Any) -> Any:
    """Run a write action, turning I/O failures into DashboardError."""
    try:
        return action()
    except OSError as exc:
        raise DashboardError(f"cannot write {out}: {exc.strerror or exc}") from None


def _animate(
    events_path: str | os.PathLike[str],
    out: Path,
    suffix: str,
    at_tick: int | None,
    max_frames: int,
    fps: float,
    dpi: float,
    progress: TextIO | None,
) -> RenderResult:
    """Fold the stream once, grabbing a frame each time the fold passes a sampled tick."""
    events: Iterable[dict[str, Any]]
    if os.fspath(events_path) == "-":
        events = list(read_events(events_path))  # stdin can be read only once
        ticks = _event_ticks(events, at_tick)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warned once, in the second pass
            ticks = _event_ticks(read_events(events_path), at_tick)
        events = read_events(events_path)
    frame_ticks = _frame_ticks(ticks, max(1, max_frames))
    dashboard = Dashboard()
    dashboard.figure.set_dpi(dpi)
    writer: _GifWriter | _Mp4Writer
    if suffix == ".gif":
        writer = _GifWriter(out, fps)
    else:
        writer = _write(out, lambda: _Mp4Writer(out, fps, dashboard.figure, dpi))
    state = DashboardState()
    frames = 0
    pending = iter(frame_ticks)
    next_frame = next(pending, None)

    bar = progress_bar(len(frame_ticks), "frame", progress)

    def grab() -> None:
        nonlocal frames
        dashboard.draw(state)
        writer.grab(dashboard.figure)
        frames += 1
        bar.update(1)

    current: int | None = None
    try:
        for event in events:
            tick = event.get("tick")
            current = tick if type(tick) is int else current
            if at_tick is not None and current is not None and current > at_tick:
                continue
            while next_frame is not None and current is not None and current > next_frame:
                grab()
                next_frame = next(pending, None)
            state.apply(event)
        _require_events(state, events_path, at_tick)
        while next_frame is not None or frames == 0:
            grab()
            next_frame = next(pending, None)
        _write(out, writer.finish)
    except (RuntimeError, subprocess.SubprocessError, BrokenPipeError) as exc:  # ffmpeg died
        raise DashboardError(f"cannot write {out}: {exc}") from None
    except BaseException:
        if isinstance(writer, _Mp4Writer):
            with contextlib.suppress(Exception):
                writer.finish()
        raise
    finally:
        bar.close()
    return RenderResult(out, frames, state.tick, state, dashboard.figure)
