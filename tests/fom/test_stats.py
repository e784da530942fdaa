"""MatchStats, the one statistics fold: each figure of the run summary as the stream defines it,
and the same summary folded live or from a recording."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fom.events import (
    ActorFailed,
    MatchStats,
    PatternMerged,
    PlanDone,
    RunStarted,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
    event_dict,
    open_event_writer,
    read_records,
    strip_wallclock,
    to_plain,
)
from fom.events.records import LevelInfo

ROCKET, RAIL = "combat/rocket", "combat/railgun"
LEVEL = LevelInfo(((0.0, 0.0, 0.0),), (0.5,), (), 6.0)


def _start(tick: int, enc: int, sig: str) -> TipStarted:
    return TipStarted(tick, f"tip-{enc}", enc, sig, sig.split("/")[1], 0, 1, 0, {})


def _shot(tick: int, enc: int, sig: str, *, fired: bool, hit: bool, damage: float,
          taken: float, exposure: float, latency: float) -> TipShot:
    return TipShot(tick, f"tip-{enc}", enc, sig, fired, hit, 0.0, damage, 0.0, 0.5, 0, 1, (0, 1),
                   exposure, taken, latency_ms=latency)


def _end(tick: int, enc: int, sig: str, reason: str, flops: int) -> TipFinished:
    return TipFinished(tick, f"tip-{enc}", enc, sig, reason, 0, 0, 0.0, 0.0, 1, {},
                       compute_flops=flops)


def match_records() -> list[Any]:
    """A small match: four encounters (killed, died, timeout, a failed TIP), one unfinished."""
    return [
        RunStarted(0, {}, LEVEL, {ROCKET: {"aim_offset": 0.0}, "combat/unused": {"a": 1.0}}),
        _start(0, 1, ROCKET), _start(0, 2, RAIL), _start(0, 3, ROCKET),
        *(PlanDone(0, "fmc", 1, 8, 24, 3.0, 0.5) for _ in range(3)),  # one per planned request
        _shot(0, 1, ROCKET, fired=True, hit=True, damage=40.0, taken=1.0, exposure=0.2,
              latency=1.0),
        _shot(0, 2, RAIL, fired=False, hit=False, damage=0.0, taken=2.0, exposure=0.4,
              latency=2.0),
        _shot(0, 3, ROCKET, fired=True, hit=False, damage=0.0, taken=0.5, exposure=0.6,
              latency=3.0),
        TickEvent(0, 0, 100.0, 3, 3),
        _end(0, 1, ROCKET, "killed", 10),
        PatternMerged(0, ROCKET, 1, 1, {"aim_offset": 0.25}, {"aim_offset": 0.25}),
        _start(1, 4, RAIL), _start(1, 5, RAIL),
        _shot(1, 2, RAIL, fired=True, hit=True, damage=60.0, taken=4.0, exposure=0.8,
              latency=4.0),
        _shot(1, 3, ROCKET, fired=True, hit=True, damage=40.0, taken=0.0, exposure=0.0,
              latency=5.0),
        _shot(1, 4, RAIL, fired=True, hit=False, damage=0.0, taken=8.0, exposure=1.0,
              latency=6.0),
        TickEvent(1, 0, 90.0, 2, 3),
        _end(1, 2, RAIL, "died", 20),
        _end(1, 3, ROCKET, "timeout", 30),
        ActorFailed("tip-5", "RuntimeError", "boom", "", 0, "stop"),
        ActorFailed("walker-pool", "RuntimeError", "boom", "", 1, "restart"),
        TickEvent(2, 0, 90.0, 1, 1),
    ]


def folded(records: list[Any]) -> MatchStats:
    stats = MatchStats()
    for record in records:
        stats.fold(record)
    return stats


def test_each_figure_is_defined_by_the_stream() -> None:
    s = folded(match_records()).summary(2.0)
    assert (s.ticks, s.decisions, s.shots, s.hits) == (3, 6, 5, 3)
    assert s.accuracy == pytest.approx(3 / 5)
    assert (s.encounters, s.kills, s.deaths, s.timeouts) == (3, 1, 1, 1)
    assert s.damage_dealt == 140.0
    assert s.damage_taken == 15.5  # every decision's, the unfinished encounter's (tip-4) included
    assert s.failed_tips == 1  # tip-5; the walker pool's crash is no TIP's
    assert s.unfinished == 1  # tip-4: 5 started, 3 finished, 1 failed
    assert s.max_active_tips == 3  # the most that acted in one world.tick
    assert s.exposure == pytest.approx(3.0 / 6)
    assert s.compute_flops == 60
    assert s.decisions_per_s == 3.0 and s.wall_s == 2.0
    assert s.latency_ms.p50 == pytest.approx(3.5)
    assert s.latency_ms.p99 == pytest.approx(np.percentile([1, 2, 3, 4, 5, 6], 99))
    assert folded(match_records()).planned_requests == 3


def test_per_pattern_figures_and_parameters() -> None:
    s = folded(match_records()).summary(1.0)
    assert list(s.patterns) == [RAIL, ROCKET]  # engaged ones only, sorted
    rocket, rail = s.patterns[ROCKET], s.patterns[RAIL]
    assert (rocket.encounters, rocket.shots, rocket.hits, rocket.kills) == (2, 3, 2, 1)
    assert rocket.accuracy == pytest.approx(2 / 3) and rocket.damage_dealt == 80.0
    assert rocket.damage_taken == 1.5 and rocket.deaths == 0
    assert (rail.encounters, rail.shots, rail.hits, rail.deaths) == (1, 2, 1, 1)
    assert rail.damage_taken == 14.0
    assert rocket.params == {"aim_offset": 0.25}  # the last merged, from the stream
    given = folded(match_records()).summary(1.0, {ROCKET: {"aim_offset": 0.5}})
    assert given.patterns[ROCKET].params == {"aim_offset": 0.5}
    assert given.patterns[RAIL].params == {}


def test_an_empty_match_summarises_to_zeros() -> None:
    s = MatchStats().summary(0.0)
    assert s.decisions == s.shots == s.encounters == s.ticks == 0
    assert s.accuracy == s.exposure == s.decisions_per_s == 0.0
    assert (s.latency_ms.p50, s.latency_ms.p99) == (0.0, 0.0) and s.patterns == {}


@pytest.mark.parametrize("fmt", ["jsonl", "msgpack"])
def test_the_recording_folds_to_the_same_summary(tmp_path: Path, fmt: str) -> None:
    records = match_records()
    path = tmp_path / f"run.{fmt}"
    writer = open_event_writer(str(path), fmt)
    tick = 0
    for seq, record in enumerate(records):
        tick = getattr(record, "tick", tick)
        writer.write(event_dict(record, record.TYPE, seq, tick, 0.0))
    writer.close()
    replayed = folded([record for record, _ in read_records(path)])
    live = folded(records)
    assert to_plain(replayed.summary(1.5)) == to_plain(live.summary(1.5))
    assert strip_wallclock(to_plain(replayed.summary(1.5))) == strip_wallclock(
        to_plain(live.summary(9.0))
    )


def test_latencies_over_many_chunks() -> None:
    rng = np.random.default_rng(5)
    values = rng.exponential(2.0, size=10_000)
    stats = MatchStats()
    for i, v in enumerate(values):
        stats.fold(_shot(i, i, ROCKET, fired=True, hit=False, damage=0.0, taken=0.0,
                         exposure=0.0, latency=float(v)))
    np.testing.assert_array_equal(stats.latencies_ms.values(), values)
    np.testing.assert_array_equal(stats.latencies_ms.values(5000), values[-5000:])
    lat = stats.latency_ms()
    assert (lat.p50, lat.p99) == tuple(np.percentile(values, [50, 99]).tolist())


def test_the_console_report_shows_kills_and_damage_dealt() -> None:
    from fom.app.report import format_summary

    text = format_summary(folded(match_records()).summary(2.0))
    assert "kills 1 " in text and "damage dealt 140 " in text and "timeouts 1 " in text
    rocket = next(line for line in text.splitlines() if line.startswith(ROCKET))
    assert rocket.split()[1:3] == ["2", "1"]  # encounters, kills


def test_the_console_report_says_which_patterns_rest_the_trigger_not_their_counts() -> None:
    from fom.app.report import format_summary

    summary = folded(match_records()).summary(2.0)
    counts = {"first_shots": 9.0, "first_hits": 9.0, "refire_shots": 9.0, "refire_hits": 3.0}
    patterns = {sig: dataclasses.replace(p, params={"aim_offset": 0.5} | counts)
                for sig, p in summary.patterns.items()}  # fmt: skip
    text = format_summary(dataclasses.replace(summary, patterns=patterns))
    assert text.splitlines()[0].split()[-2:] == ["aim_offset", "rests"]
    assert "first_shots" not in text and "not shown" not in text
    rows = [line for line in text.splitlines() if line.startswith("combat/")]
    assert rows and all(line.split()[-2:] == ["0.5000", "yes"] for line in rows)
