"""Same seed and config -> the same event stream (apart from wall-clock fields), in both formats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fom.app import run_async
from fom.config import RunConfig
from fom.dashboard.replay import read_events
from fom.events import WALLCLOCK_FIELDS, strip_wallclock

# The only run.started config fields allowed to differ between two runs compared here.
_OUTPUT_FIELDS = ("events", "events_format")


def _normalise(event: dict[str, Any]) -> dict[str, Any]:
    out = strip_wallclock(event)
    if out["type"] == "run.started":
        out["config"] = {k: v for k, v in out["config"].items() if k not in _OUTPUT_FIELDS}
    return out


async def _stream(path: Path, fmt: str, **fields: Any) -> list[dict[str, Any]]:
    config = RunConfig(quiet=True, events=str(path), events_format=fmt, **fields)
    result = await run_async(config)
    events = [_normalise(e) for e in read_events(path)]
    assert result.events == len(events)
    assert events[-1]["type"] == "run.finished"
    return events


CASES = [
    pytest.param(dict(planner="graph", tips=1, ticks=150), id="graph-tips1"),
    pytest.param(dict(planner="graph", tips=8, ticks=100), id="graph-tips8"),
    pytest.param(dict(planner="fmc", tips=1, ticks=80, walkers=8, horizon=3), id="fmc-tips1"),
    pytest.param(dict(planner="fmc", tips=8, ticks=60, walkers=8, horizon=3), id="fmc-tips8"),
]


@pytest.mark.parametrize("fields", CASES)
async def test_same_seed_same_stream_other_seed_other_stream(
    tmp_path: Path, fields: dict[str, Any]
) -> None:
    a = await _stream(tmp_path / "a.jsonl", "jsonl", seed=5, **fields)
    b = await _stream(tmp_path / "b.jsonl", "jsonl", seed=5, **fields)
    c = await _stream(tmp_path / "c.msgpack", "msgpack", seed=5, **fields)
    d = await _stream(tmp_path / "d.msgpack", "msgpack", seed=5, **fields)
    other = await _stream(tmp_path / "e.msgpack", "msgpack", seed=6, **fields)

    # The runs did something worth comparing: encounters finished and patterns were merged.
    types = {e["type"] for e in a}
    assert {"tip.started", "tip.shot", "tip.finished", "pattern.merged"} <= types
    if fields["planner"] == "fmc":
        assert "plan.done" in types
    assert a == b, "two JSONL runs with the same seed differ"
    assert c == d, "two msgpack runs with the same seed differ"
    assert a == c, "the msgpack stream differs from the JSONL stream of the same run"
    assert other != a, "another seed gave the same stream"


async def test_wallclock_fields_are_the_only_difference(tmp_path: Path) -> None:
    """The raw streams do differ in wall-clock fields, and only there (so the strip is needed
    and not hiding anything)."""
    raw = []
    for name in ("x.jsonl", "y.jsonl"):
        path = tmp_path / name
        await run_async(RunConfig(quiet=True, planner="graph", ticks=60, seed=1, events=str(path)))
        raw.append(list(read_events(path)))
    x, y = raw
    assert len(x) == len(y)
    assert {k for e in x for k in e} & WALLCLOCK_FIELDS  # e.g. "time" is in every event

    def diff_keys(p: Any, q: Any, key: str = "") -> set[str]:
        if key in WALLCLOCK_FIELDS or not (isinstance(p, dict) and isinstance(q, dict)):
            return set() if p == q else {key}
        return set().union(*(diff_keys(p.get(k), q.get(k), k) for k in p.keys() | q.keys()))

    differing = set().union(*(diff_keys(e, f) for e, f in zip(x, y, strict=True)))
    assert "time" in differing  # wall clock really differs between runs
    assert differing <= WALLCLOCK_FIELDS | {"events"}  # ... and nothing else does
