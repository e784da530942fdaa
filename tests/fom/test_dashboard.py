"""Tests of the pure dashboard: state folding, rendering, replay of JSONL/msgpack streams."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
from PIL import Image

from fom.dashboard import (
    AXIS_TITLES,
    Dashboard,
    DashboardError,
    DashboardState,
    LiveWindow,
    MalformedEventWarning,
    TruncatedStreamWarning,
    detect_format,
    has_display,
    read_events,
    render_file,
    save_png,
)
from fom.dashboard import live as live_module
from fom.events import (
    LatencySummary,
    LevelInfo,
    PatternMerged,
    PatternSummary,
    PlanDone,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
    event_dict,
)

GRID = [(x, y) for y in (0.0, 10.0, 20.0) for x in (0.0, 10.0, 20.0)]
EDGES = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4), (4, 7), (2, 5),
         (5, 8)]
COVER = [0.8, 0.3, 0.7, 0.6, 0.05, 0.2, 0.9, 0.4, 0.75]
WEAPONS = ("shotgun", "rocket", "railgun")
DRIFT = {"shotgun": 0.3, "rocket": -0.2, "railgun": 0.1}


def _bfs(src: int, dst: int) -> list[int]:
    """Shortest path on the synthetic grid."""
    adj: dict[int, list[int]] = {i: [] for i in range(9)}
    for a, b in EDGES:
        adj[a].append(b)
        adj[b].append(a)
    prev = {src: src}
    queue = deque([src])
    while queue:
        node = queue.popleft()
        for nxt in adj[node]:
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    path = [dst]
    while path[-1] != src:
        path.append(prev[path[-1]])
    return path[::-1]


def make_events(ticks: int = 30, tips: int = 3, seed: int = 0) -> list[dict[str, Any]]:
    """A plausible FOM event stream: TIPs alternate weapons, shoot, learn, merge deltas."""
    rng = np.random.default_rng(seed)
    events: list[dict[str, Any]] = []

    def emit(tick: int, record: Any) -> None:
        time = round(tick * 0.05 + 0.001 * len(events), 4)
        events.append(event_dict(record, record.TYPE, len(events), tick, time))

    params = {f"combat/{w}": {"aim_offset": 0.0, "flank_bias": 0.5} for w in WEAPONS}
    level = LevelInfo(
        positions=tuple((x, y, 0.5 * (i % 3)) for i, (x, y) in enumerate(GRID)),
        cover=tuple(COVER), edges=tuple(EDGES), floor_height=6.0,
    )
    config = {"ticks": ticks, "tips": tips, "seed": seed, "world": "enhanced", "learner": "fom",
              "planner": "fmc"}
    emit(0, RunStarted(0, config, level, {k: dict(v) for k, v in params.items()}))
    active: dict[int, dict[str, Any]] = {}
    encounter = 0
    self_node = 4
    totals = {w: {"encounters": 0, "shots": 0, "hits": 0} for w in WEAPONS}
    for tick in range(1, ticks + 1):
        if tick % 7 == 0:
            self_node = int(rng.integers(9))
        emit(tick, TickEvent(tick, self_node, 100.0 - tick, len(active) + 1, len(active)))
        if tick % 2 == 1 and len(active) < tips:
            weapon = WEAPONS[encounter % len(WEAPONS)]
            sig = f"combat/{weapon}"
            enemy = int(rng.integers(9))
            active[encounter] = {"weapon": weapon, "sig": sig, "enemy": enemy, "shots": 0,
                                 "hits": 0, "err": 0.0}
            emit(tick, TipStarted(tick, f"tip-{encounter}", encounter, sig, weapon, self_node,
                                  enemy, encounter % 4, dict(params[sig])))
            encounter += 1
        for _ in active:  # one plan.done per planned request
            emit(tick, PlanDone(tick, "fmc", 1, 64, 640, 10.0, 1.0 + 0.1 * tick))
        for enc, tip in list(active.items()):
            weapon, sig = tip["weapon"], tip["sig"]
            aim = params[sig]["aim_offset"]
            error = DRIFT[weapon] - aim + float(rng.normal(0, 0.05))
            hit = abs(error) < 0.15
            tip["shots"] += 1
            tip["hits"] += int(hit)
            tip["err"] += error
            tip["enemy"] = int((tip["enemy"] + 1) % 9)
            emit(tick, TipShot(tick, f"tip-{enc}", enc, sig, True, hit, error,
                               25.0 if hit else 0.0, aim, params[sig]["flank_bias"], self_node,
                               tip["enemy"], tuple(_bfs(self_node, tip["enemy"])), 0.4, 2.0))
            if tip["shots"] >= 4:
                del active[enc]
                delta = {"aim_offset": 0.5 * tip["err"] / tip["shots"], "flank_bias": 0.05}
                totals[weapon]["encounters"] += 1
                totals[weapon]["shots"] += tip["shots"]
                totals[weapon]["hits"] += tip["hits"]
                emit(tick, TipFinished(tick, f"tip-{enc}", enc, sig, "killed", tip["shots"],
                                       tip["hits"], 8.0, 0.4, 4, delta))
                for name, value in delta.items():
                    params[sig][name] += value
                version = totals[weapon]["encounters"]
                emit(tick, PatternMerged(tick, sig, version, version, dict(params[sig]), delta))
    shots = sum(t["shots"] for t in totals.values()) + sum(t["shots"] for t in active.values())
    hits = sum(t["hits"] for t in totals.values()) + sum(t["hits"] for t in active.values())
    encounters = sum(t["encounters"] for t in totals.values())
    summary = RunSummary(
        ticks=ticks, encounters=encounters, unfinished=len(active), failed_tips=0, shots=shots,
        hits=hits, accuracy=hits / max(shots, 1), damage_taken=2.0 * shots, exposure=0.4,
        deaths=0, max_active_tips=tips, decisions=shots, decisions_per_s=850.0,
        latency_ms=LatencySummary(1.25, 3.5), compute_flops=0, wall_s=1.0,
        patterns={f"combat/{w}": PatternSummary(**totals[w], accuracy=0.5,
                                                params=params[f"combat/{w}"]) for w in WEAPONS},
    )
    emit(ticks, RunFinished(ticks, False, summary))
    return events


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    """Write events as JSONL."""
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def write_msgpack(path: Path, events: list[dict[str, Any]]) -> Path:
    """Write events as back-to-back msgpack maps."""
    path.write_bytes(b"".join(msgpack.packb(e) for e in events))
    return path


def image_format(path: Path) -> str | None:
    """The format of an image file, decoded by Pillow (the file is closed again)."""
    with Image.open(path) as image:
        image.load()
        return image.format


def numbers_text(figure: Any) -> str:
    """The text of the Numbers panel."""
    ax = next(a for a in figure.axes if a.get_title() == "Numbers")
    return "\n".join(t.get_text() for t in ax.texts)


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    """The synthetic stream, built once."""
    return make_events()


# ---------------------------------------------------------------------------- state


def test_state_folds_the_synthetic_stream(events: list[dict[str, Any]]) -> None:
    state = DashboardState.from_events(events)
    assert state.level is not None and state.level.n == 9 and len(state.level.edges) == 12
    assert state.finished and state.events == len(events) and state.lost_events == 0
    assert state.shots == sum(e["type"] == "tip.shot" for e in events)
    assert state.hits == sum(bool(e.get("hit")) for e in events if e["type"] == "tip.shot")
    assert set(state.patterns) == {f"combat/{w}" for w in WEAPONS}
    assert state.weapons == list(WEAPONS)
    assert state.decisions_per_s == 850.0 and state.latency_p50_ms == 1.25
    assert not state.timings_estimated
    merged = [e for e in events if e["type"] == "pattern.merged"]
    last = merged[-1]
    ticks, aim, _ = state.curves[last["signature"]].arrays()
    assert aim[-1] == pytest.approx(last["params"]["aim_offset"]) and ticks[-1] == last["tick"]
    assert state.enemies == {} and state.active_tips == 0  # all cleared by run.finished


def test_state_mid_run_tracks_bot_enemies_paths_and_estimates_timings(
    events: list[dict[str, Any]],
) -> None:
    state = DashboardState.from_events(events, at_tick=10)
    assert state.tick == 10 and not state.finished
    assert state.enemies and all(e.weapon in WEAPONS for e in state.enemies.values())
    assert state.active_tips == len(state.enemies)
    assert state.self_node is not None and 0 < len(state.paths) <= 6
    assert state.timings_estimated
    assert state.decisions_per_s is not None and state.decisions_per_s > 0
    plan_ms = [e["elapsed_ms"] for e in events if e["type"] == "plan.done" and e["tick"] <= 10]
    assert state.latency_p50_ms == pytest.approx(float(np.median(plan_ms)))


def test_state_ignores_unknown_and_malformed_events(events: list[dict[str, Any]]) -> None:
    state = DashboardState()
    garbage: list[Any] = [
        {}, {"type": None}, {"type": "alien.event", "x": 1},
        {"type": "run.started", "level": {"positions": "nope"}, "patterns": [1, 2]},
        {"type": "world.tick", "self_node": "three", "self_health": float("nan")},
        {"type": "tip.started"}, {"type": "tip.shot", "path": [1, "a", None, 2.0]},
        {"type": "tip.finished", "tip": 5}, {"type": "pattern.merged", "signature": "s",
                                             "params": {"aim_offset": "bad"}},
        {"type": "plan.done", "elapsed_ms": -1}, {"type": "run.finished", "summary": 3},
        {"type": "actor.failed"}, {"type": "bus.dead_letter"}, {"type": "pattern.rejected"},
        {**events[-1], "summary": {"shots": "many", "patterns": {"a": 1}}},
        {**events[0], "tick": "zero"},
    ]
    for event in (None, 42, "tip.shot", *garbage):
        state.apply(event)  # type: ignore[arg-type]
    assert state.events == state.unknown_events == len(garbage)  # not-maps are not events
    assert state.level is None and state.config == {} and not state.finished
    assert state.shots == state.decisions == state.failures == state.dead_letters == 0
    assert state.patterns == {} and state.paths == () and state.enemies == {}
    save_png(state, Path("/dev/null"))  # and it still draws
    for event in events:  # a well-formed stream folds the same after the garbage
        state.apply({**event, "from_the_future": [1, 2]})
    clean = DashboardState.from_events(events)
    assert (state.shots, state.hits, state.encounters) == (
        clean.shots, clean.hits, clean.encounters
    )
    assert state.unknown_events == len(garbage) and state.finished


def test_state_memory_is_bounded() -> None:
    state = DashboardState(max_curve_points=50, keep_paths=3)
    for i in range(5000):
        merged = PatternMerged(i, "combat/a", i, i, {"aim_offset": i / 5000, "flank_bias": 1.0}, {})
        shot = TipShot(i, f"tip-{i}", i, "combat/a", True, True, 0.0, 1.0, 0.0, 0.0, 0, 1, (0, 1),
                       0.5, 0.0)
        state.apply(event_dict(merged, merged.TYPE, 2 * i, i, 0.0))
        state.apply(event_dict(shot, shot.TYPE, 2 * i + 1, i, 0.0))
    curve = state.curves["combat/a"]
    assert len(curve) <= 50
    ticks, aim, _ = curve.arrays()
    assert ticks[0] == 0 and ticks[-1] == 4999 and aim[-1] == pytest.approx(4999 / 5000)
    assert np.all(np.diff(ticks) > 0)
    assert len(state.paths) == 3 and len(state.enemies) <= 256
    assert state.lost_events == 0 and state.shots == 5000


def test_seq_gaps_are_counted() -> None:
    state = DashboardState.from_events(
        [{"seq": s, "tick": 0, "type": "world.tick"} for s in (0, 1, 4, 5, 3)]
    )
    assert state.lost_events == 2 and state.reordered_events == 1


# ------------------------------------------------------------------------ rendering


def test_png_renders_with_four_titled_axes(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    out = tmp_path / "dash.png"
    result = render_file(write_jsonl(tmp_path / "run.jsonl", events), out)
    with Image.open(out) as image:
        image.verify()
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1200, 800)
    assert [ax.get_title() for ax in result.figure.axes] == list(AXIS_TITLES)
    text = numbers_text(result.figure)
    assert "decisions/s" in text and "850.0" in text and "1.25 ms" in text
    assert f"shots           {result.state.shots}" in text
    assert result.frames == 1 and result.tick == 30


def test_dashboard_reuses_artists(events: list[dict[str, Any]]) -> None:
    dashboard = Dashboard()
    state = DashboardState()
    counts = []
    for event in events:
        state.apply(event)
        if event["tick"] in (12, 20) or event["type"] == "run.finished":
            dashboard.draw(state)
            counts.append([len(ax.get_children()) for ax in dashboard.axes])
    assert counts[0] == counts[-1]


def test_unknown_event_types_still_render(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    noisy = []
    for event in events:
        noisy.append({**event, "extra_field": {"nested": [1, 2]}})
        noisy.append({"seq": -1, "tick": event["tick"], "type": "future.thing", "x": "y"})
    out = tmp_path / "noisy.png"
    result = render_file(write_jsonl(tmp_path / "noisy.jsonl", noisy), out)
    with Image.open(out) as image:
        assert image.size == (1200, 800)
    assert result.state.unknown_events == len(events)
    assert result.state.shots == DashboardState.from_events(events).shots


def test_truncated_jsonl_renders_what_it_has(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    data = "".join(json.dumps(e) + "\n" for e in events)
    cut = data.index("\n", len(data) // 2) + 25  # mid-line in the second half
    path = tmp_path / "cut.jsonl"
    path.write_text(data[:cut])
    complete = data[:cut].count("\n")
    with pytest.warns(TruncatedStreamWarning, match="incomplete"):
        result = render_file(path, tmp_path / "cut.png")
    assert result.state.events == complete and not result.state.finished
    assert image_format(tmp_path / "cut.png") == "PNG"


def test_truncated_msgpack_renders_what_it_has(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    blobs = [msgpack.packb(e) for e in events]
    keep = len(blobs) // 2
    path = tmp_path / "cut.msgpack"
    path.write_bytes(b"".join(blobs[:keep]) + blobs[keep][: len(blobs[keep]) // 2])
    with pytest.warns(TruncatedStreamWarning, match="incomplete object"):
        result = render_file(path, tmp_path / "cut.png")
    assert result.state.events == keep
    assert image_format(tmp_path / "cut.png") == "PNG"


def test_msgpack_and_jsonl_give_the_same_state(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    a = list(read_events(write_jsonl(tmp_path / "a.jsonl", events)))
    b = list(read_events(write_msgpack(tmp_path / "b.mp", events)))
    c = list(read_events(write_msgpack(tmp_path / "c.events", events)))  # sniffed
    d = list(read_events(write_jsonl(tmp_path / "d.log", events)))  # sniffed
    assert a == b == c == d == json.loads(json.dumps(events))


def test_malformed_middle_line_is_skipped_with_a_warning(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    lines = [json.dumps(e) for e in events[:5]]
    lines.insert(2, "{not json")
    lines.insert(4, "[1, 2]")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(MalformedEventWarning):
        got = list(read_events(path))
    assert got == events[:5]


def test_at_tick_shows_the_state_at_that_tick(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    path = write_jsonl(tmp_path / "run.jsonl", events)
    final = render_file(path, tmp_path / "final.png")
    early = render_file(path, tmp_path / "early.png", at_tick=8)
    assert early.tick == 8 and not early.state.finished
    assert early.state.shots < final.state.shots
    shots_at_8 = sum(e["type"] == "tip.shot" and e["tick"] <= 8 for e in events)
    assert early.state.shots == shots_at_8
    assert numbers_text(early.figure) != numbers_text(final.figure)
    assert f"shots           {shots_at_8}\n" in numbers_text(early.figure)
    assert (tmp_path / "early.png").read_bytes() != (tmp_path / "final.png").read_bytes()


def test_gif_is_a_multi_frame_animation(tmp_path: Path, events: list[dict[str, Any]]) -> None:
    out = tmp_path / "run.gif"
    result = render_file(write_msgpack(tmp_path / "run.msgpack", events), out, max_frames=4)
    assert result.frames == 4 and result.state.finished
    with Image.open(out) as image:
        assert image.format == "GIF" and image.n_frames > 1


def test_mp4_without_ffmpeg_suggests_gif(
    tmp_path: Path, events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.animation import FFMpegWriter

    monkeypatch.setattr(FFMpegWriter, "isAvailable", classmethod(lambda cls: False))
    with pytest.raises(DashboardError, match=r"ffmpeg.*\.gif"):
        render_file(write_jsonl(tmp_path / "run.jsonl", events), tmp_path / "run.mp4")


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: p / "missing.jsonl", "not found"),
        (lambda p: p, "directory"),
        (lambda p: (p / "x.jsonl").write_text("hello world\n") and p / "x.jsonl",
         "not an FOM event stream"),
        (lambda p: (p / "x.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)) and p / "x.bin",
         "not an FOM event stream"),
        (lambda p: (p / "empty.jsonl").write_text("") == 0 and p / "empty.jsonl", "no events"),
    ],
)
def test_bad_events_files_raise_one_clear_error(tmp_path: Path, setup: Any, match: str) -> None:
    path = setup(tmp_path)
    with pytest.raises(DashboardError, match=match) as info:
        render_file(path, tmp_path / "out.png")
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_bad_output_and_tick_raise_clear_errors(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    path = write_jsonl(tmp_path / "run.jsonl", events)
    with pytest.raises(DashboardError, match="unsupported format"):
        render_file(path, tmp_path / "out.bmp")
    with pytest.raises(DashboardError, match="does not exist"):
        render_file(path, tmp_path / "nope" / "out.png")
    with pytest.raises(DashboardError, match=">= 0"):
        render_file(path, tmp_path / "out.png", at_tick=-1)


def test_detect_format() -> None:
    assert detect_format("a.JSONL") == detect_format("a.json") == "jsonl"
    assert detect_format("a.msgpack") == detect_format("a.mp") == "msgpack"
    assert detect_format("a.log", b'  {"seq": 0}') == "jsonl"
    assert detect_format("a.log", b"\x84\xa3seq") == "msgpack"


# ----------------------------------------------------------------------------- live


def test_has_display_needs_a_display_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert has_display() is False
    with pytest.raises(DashboardError, match="no display"):
        LiveWindow()
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(live_module, "interactive_backend", lambda: "TkAgg")
    assert has_display() is True
    monkeypatch.setattr(live_module, "interactive_backend", lambda: None)
    assert has_display() is False


def test_headless_rendering_never_imports_pyplot_and_live_window_refreshes(tmp_path: Path) -> None:
    code = (
        "import sys, warnings\n"
        "from fom.dashboard import DashboardState, save_png\n"
        "save_png(DashboardState(), sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
        "from fom.dashboard import LiveWindow\n"  # the live path, on a non-GUI backend
        "warnings.simplefilter('ignore')\n"
        "with LiveWindow(backend='agg') as window:\n"
        "    assert window.refresh(DashboardState()) and window.is_open\n"
        "assert not window.is_open and not window.refresh(DashboardState())\n"
    )
    with warnings.catch_warnings():
        proc = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / "empty.png")],
            capture_output=True, text=True, timeout=60, check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert image_format(tmp_path / "empty.png") == "PNG"
