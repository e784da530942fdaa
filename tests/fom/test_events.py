"""The event records: every type survives writing and reading (JSONL and msgpack); unknown and
malformed events are kept raw and ignored, never raised."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from fom.events import (
    EVENT_TYPES,
    RECORD_TYPES,
    ActorFailed,
    DeadLetterEvent,
    EpisodeFinished,
    EventWriter,
    Header,
    LatencySummary,
    LevelInfo,
    MatchStats,
    PatternMerged,
    PatternRejected,
    PatternSummary,
    PlanDone,
    RawEvent,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
    decode_event,
    event_dict,
    open_event_writer,
    read_records,
    strip_wallclock,
)

SUMMARY = RunSummary(
    ticks=9, encounters=3, unfinished=1, failed_tips=1, shots=7, hits=4, accuracy=4 / 7,
    damage_taken=12.5, exposure=0.25, deaths=1, max_active_tips=2, decisions=8,
    decisions_per_s=123.5, latency_ms=LatencySummary(0.5, 2.25), compute_flops=1234, wall_s=0.1,
    patterns={"combat/rocket": PatternSummary(3, 7, 4, 4 / 7, {"aim_offset": -0.125}, 2, 1,
                                              75.0, 12.5)},
    kills=2, damage_dealt=75.0, timeouts=0,
)
SAMPLES: dict[str, Any] = {
    "run.started": RunStarted(
        0, {"ticks": 9, "planner": "graph", "rate": 0.5, "quiet": True, "load": None},
        LevelInfo(((0.0, 0.0, 0.0), (1.5, 2.0, 6.0)), (0.25, 1.0), ((0, 1),), 6.0),
        {"combat/rocket": {"aim_offset": 0.0, "flank_bias": 0.5}},
    ),
    "world.tick": TickEvent(3, 4, 87.5, 2, 1),
    "world.episode": EpisodeFinished(9, 0, 2, 741.25, 5, True, ("combat/imp", "combat/zombieman")),
    "tip.started": TipStarted(3, "tip-7", 7, "combat/rocket", "rocket", 4, 5, 1,
                              {"aim_offset": 0.0}),
    "tip.shot": TipShot(4, "tip-7", 7, "combat/rocket", True, False, -0.375, 0.0, 0.125, 0.5,
                        4, 5, (4, 2, 5), 0.75, 3.5, latency_ms=0.0625),
    "tip.finished": TipFinished(5, "tip-7", 7, "combat/rocket", "killed", 2, 1, 3.5, 0.75, 2,
                                {"aim_offset": 0.25}, compute_flops=99),
    "pattern.merged": PatternMerged(5, "combat/rocket", 2, 2, {"aim_offset": 0.25},
                                    {"aim_offset": 0.25}),
    "pattern.rejected": PatternRejected(6, "combat/rocket", "tip-8", "not finite"),
    "plan.done": PlanDone(6, "fmc", 3, 64, 640, 9.5, 1.25),
    "actor.failed": ActorFailed("tip-8", "RuntimeError", "boom", "Traceback ...", 0, "stop"),
    "bus.dead_letter": DeadLetterEvent("event.tip.shot", "dashboard", "bad frame", 12, "00ff"),
    "run.finished": RunFinished(9, False, SUMMARY),
}


def test_every_event_type_has_a_sample_and_a_unique_tag() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    assert all(type(r) is EVENT_TYPES[tag] for tag, r in SAMPLES.items())
    assert len(set(RECORD_TYPES)) == len({cls.TYPE for cls in RECORD_TYPES.values()})
    for cls in RECORD_TYPES.values():  # frozen and slotted, as the bus needs them
        assert cls.__dataclass_params__.frozen and "__slots__" in cls.__dict__


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_a_record_decodes_back_from_its_event_dict(tag: str) -> None:
    record = SAMPLES[tag]
    tick = getattr(record, "tick", 9)  # the EventLog's header tick: its own, else the latest
    event = json.loads(json.dumps(event_dict(record, tag, 12, tick, 0.5)))
    assert event["type"] == tag and event["seq"] == 12
    decoded, header = decode_event(event)
    assert decoded == record and type(decoded) is type(record)
    assert header == Header(12, tick, 0.5)


@pytest.mark.parametrize("fmt", ["jsonl", "msgpack"])
def test_a_recording_reads_back_as_the_records_written(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"run.{fmt}"
    writer = open_event_writer(str(path), fmt)
    records = list(SAMPLES.values())
    for seq, record in enumerate(records):
        writer.write(event_dict(record, record.TYPE, seq, getattr(record, "tick", 0), 0.0))
    writer.close()
    got = list(read_records(path))
    assert [r for r, _ in got] == records
    assert [h.seq for _, h in got] == list(range(len(records)))


def test_non_finite_floats_come_back_as_written() -> None:
    shot = dataclasses.replace(SAMPLES["tip.shot"], error=math.nan, damage=math.inf,
                               aim_offset=-math.inf)
    path_event = event_dict(shot, shot.TYPE, 0, 4, 0.0)
    text = json.dumps(path_event)  # what the writer does for JSON: null and +-1e308
    text = text.replace("NaN", "null").replace("-Infinity", "-1e308").replace("Infinity", "1e308")
    decoded, _ = decode_event(json.loads(text))
    assert isinstance(decoded, TipShot) and math.isnan(decoded.error)
    assert decoded.damage == math.inf and decoded.aim_offset == -math.inf


def test_an_older_recording_without_the_newer_fields_still_decodes() -> None:
    event = event_dict(SAMPLES["tip.shot"], "tip.shot", 0, 4, 0.0)
    del event["latency_ms"]
    summary_event = event_dict(SAMPLES["run.finished"], "run.finished", 1, 9, 0.0)
    for name in ("kills", "damage_dealt", "timeouts"):
        del summary_event["summary"][name]
    shot, _ = decode_event(event)
    finished, _ = decode_event(summary_event)
    assert isinstance(shot, TipShot) and shot.latency_ms == 0.0
    assert isinstance(finished, RunFinished) and finished.summary.kills == 0


def _broken(tag: str, **changes: Any) -> dict[str, Any]:
    event = event_dict(SAMPLES[tag], tag, 0, 1, 0.0)
    for key, value in changes.items():
        if value is ...:
            del event[key]
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    "event",
    [
        {"seq": 0, "tick": 1, "time": 0.0, "type": "alien.thing", "x": 1},
        {"seq": 0, "tick": 1, "time": 0.0},
        {"type": 7},
        _broken("tip.shot", fired=...),
        _broken("tip.shot", encounter=True),  # a bool is not an int
        _broken("tip.shot", damage="lots"),
        _broken("tip.shot", path=[1, "a"]),
        _broken("tip.finished", delta=[0.25]),
        _broken("run.started", level={"positions": "nope"}),
        _broken("run.finished", summary={"shots": 3}),
        _broken("world.tick", tick="one"),
        _broken("actor.failed", actor=None),
    ],
)
def test_unknown_and_malformed_events_are_kept_raw_and_ignored(event: dict[str, Any]) -> None:
    record, _ = decode_event(event)
    assert isinstance(record, RawEvent) and record.fields == event and record.reason
    stats = MatchStats()
    stats.fold(record)
    assert stats.raw_events == 1
    assert stats.summary(1.0) == MatchStats().summary(1.0)


def test_extra_fields_and_bad_header_values_do_not_spoil_an_event() -> None:
    event = {**event_dict(SAMPLES["world.tick"], "world.tick", 3, 3, 0.5), "new_field": [1]}
    record, header = decode_event({**event, "seq": "x", "time": "now"})
    assert record == SAMPLES["world.tick"] and header == Header(None, 3, None)
    raw, header = decode_event("not a map")  # type: ignore[arg-type]
    assert isinstance(raw, RawEvent) and header == Header(None, None, None)


def test_strip_wallclock_drops_the_latencies_at_any_depth() -> None:
    shot = event_dict(SAMPLES["tip.shot"], "tip.shot", 0, 4, 0.5)
    finished = event_dict(SAMPLES["run.finished"], "run.finished", 1, 9, 0.5)
    assert "latency_ms" not in strip_wallclock(shot) and "time" not in strip_wallclock(shot)
    summary = strip_wallclock(finished)["summary"]
    assert not {"latency_ms", "wall_s", "decisions_per_s"} & summary.keys()
    assert summary["kills"] == 2 and summary["damage_dealt"] == 75.0


@pytest.mark.parametrize(("flush_after_s", "on_disk"), [(0.0, ["a", "b"]), (3600.0, [])])
def test_a_write_pushes_the_buffer_once_the_last_push_is_old_enough(
    tmp_path: Path, flush_after_s: float, on_disk: list[str]
) -> None:
    """A reader following the file sees a slow run's events as they come; a fast run's stay
    buffered (no push per event)."""
    path = tmp_path / "run.jsonl"
    stream = open(path, "wb", buffering=1 << 16)  # noqa: SIM115 - closed by the writer
    writer = EventWriter(stream, "jsonl", owns=True, flush_after_s=flush_after_s)
    writer.write({"type": "a", "seq": 0})
    writer.write({"type": "b", "seq": 1})
    assert [json.loads(line)["type"] for line in path.read_text().splitlines()] == on_disk
    writer.close()
    assert len(path.read_text().splitlines()) == 2
