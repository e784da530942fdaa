"""A TIP that crashes mid-encounter: reported, its encounter closed, its learning dropped."""

from __future__ import annotations

from typing import Any

from actors.tip import Tip, TipSettings
from fom.app import run_async
from fom.config import RunConfig
from fom.engines.dummy import EnhancedDummyGame

CRASH_ENCOUNTER = 3
CRASH_AT = 2  # the TIP's 2nd tick
TICKS = 80


class CrashingTip(Tip):
    """Raises after the result of its CRASH_AT-th tick when it fights CRASH_ENCOUNTER."""

    crashes: list[tuple[str, int]] = []

    def __init__(self, settings: TipSettings) -> None:
        super().__init__(settings)
        self.seen = 0

    async def request(self, topic: str, message: Any, *, timeout: float) -> Any:
        reply = await super().request(topic, message, timeout=timeout)
        if topic == "world.act":  # the result of one of its ticks
            self.seen += 1
            if self.name == f"tip-{CRASH_ENCOUNTER}" and self.seen == CRASH_AT:
                CrashingTip.crashes.append((self.name, reply.tick))
                raise RuntimeError(f"injected crash at tick {reply.tick}")
        return reply


class RecordingGame(EnhancedDummyGame):
    """The default world, recording what it is told to close and the end reasons it reports."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed: list[int] = []
        self.ends: dict[int, str] = {}

    def close(self, encounter: int) -> None:
        self.closed.append(encounter)
        super().close(encounter)

    def advance(self) -> Any:
        reports = super().advance()
        for r in reports:
            if r.done:
                self.ends[r.encounter] = r.reason
        return reports


async def test_a_crashing_tip_is_reported_closed_and_not_merged() -> None:
    CrashingTip.crashes = []
    config = RunConfig(ticks=TICKS, tips=4, seed=0, planner="graph", quiet=True)
    game = RecordingGame(config.seed, concurrency=config.tips)
    events: list[dict[str, Any]] = []
    result = await run_async(
        config, engine=game, tip_factory=CrashingTip, listeners=(events.append,)
    )
    assert CrashingTip.crashes and CrashingTip.crashes[0][0] == "tip-3"
    crash_tick = CrashingTip.crashes[0][1]

    # Reported: one actor.failed event naming the TIP and the error.
    failed = [e for e in events if e["type"] == "actor.failed"]
    assert len(failed) == 1
    (f,) = failed
    assert f["actor"] == f"tip-{CRASH_ENCOUNTER}"
    assert f["error_type"] == "RuntimeError"
    assert f["error"] == f"injected crash at tick {crash_tick}"
    assert result.failures == 1 and result.summary.failed_tips == 1

    # Its encounter is closed: the engine was told, and reported it "closed".
    assert game.closed == [CRASH_ENCOUNTER]
    assert game.ends[CRASH_ENCOUNTER] == "closed"
    started = [e for e in events if e["type"] == "tip.started"]
    assert any(e["encounter"] == CRASH_ENCOUNTER for e in started)
    shots3 = [e for e in events if e["type"] == "tip.shot" and e["encounter"] == CRASH_ENCOUNTER]
    assert len(shots3) == CRASH_AT - 1  # it crashed before reporting its 2nd shot

    # Its partial delta was never merged: one merge per finished encounter, none for tip-3.
    finished = [e for e in events if e["type"] == "tip.finished"]
    assert all(e["encounter"] != CRASH_ENCOUNTER for e in finished)
    merged = [e for e in events if e["type"] == "pattern.merged"]
    assert len(merged) == len(finished) > 0
    assert sum(p.encounters for p in result.summary.patterns.values()) == len(finished)

    # The run went on to its last tick and closed the stream properly.
    ticks = [e["tick"] for e in events if e["type"] == "world.tick"]
    assert ticks == list(range(TICKS))
    assert any(e["tick"] > crash_tick for e in finished)
    assert events[-1]["type"] == "run.finished" and events[-1]["interrupted"] is False
    assert not result.interrupted and result.summary.ticks == TICKS
    assert [e["seq"] for e in events] == list(range(len(events)))


async def test_tip_failure_run_is_deterministic() -> None:
    """A crash does not make the run depend on timing: two runs give the same stream."""
    from fom.events import strip_wallclock

    streams = []
    for _ in range(2):
        CrashingTip.crashes = []
        events: list[dict[str, Any]] = []
        config = RunConfig(ticks=40, tips=4, seed=0, planner="graph", quiet=True)
        await run_async(config, tip_factory=CrashingTip, listeners=(events.append,))
        assert CrashingTip.crashes
        streams.append([strip_wallclock(e) for e in events])
    assert streams[0] == streams[1]
