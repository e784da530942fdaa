"""Composition: builds the bus and the actors for a RunConfig, runs the match, returns a summary.

    summary = fom.app.run(RunConfig(ticks=300, tips=4, seed=1))

Actors start in this order (and stop in reverse): EventLog, Dashboard, ULP, CoreAgent,
Perception, WalkerPool, World. The World starts the clock, so everything else is subscribed by
then; it stops first, and the EventLog last, after it has written every event.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actors import Actor, GcPolicy, Runtime
from actors import run as run_loop
from actors.channels import LevelInfo, RunFinished, RunStarted, RunSummary, SummaryRequest
from actors.core_agent import CoreAgent
from actors.event_log import EventLog
from actors.perception import Perception
from actors.propagator import Propagator
from actors.tip import Tip, TipSettings
from actors.world import WorldActor
from bus import Bus, Envelope
from fom.config import RunConfig
from fom.engines import make_engine
from fom.engines.base import Engine
from fom.errors import StateFileError
from fom.events import EventWriter, open_event_writer
from fom.learners.monolithic import MonolithicQ
from fom.level import CanonicalLevel
from fom.patterns import PatternStore, load_patterns

__all__ = ["RunResult", "run", "run_async"]

EventListener = Callable[[dict[str, Any]], None]

MONOLITHIC_STREAM = 2
"""Spawn-key word of the monolithic baseline's network: SeedSequence(seed, (2,))."""


@dataclass(slots=True)
class RunResult:
    """What a run produced: the summary, whether it was interrupted, and its event count."""

    summary: RunSummary
    interrupted: bool
    events: int
    failures: int = 0
    save_error: str | None = None
    """Why ``--save`` failed at the end (the run itself completed), or None."""


def _level_info(level: CanonicalLevel) -> LevelInfo:
    return LevelInfo(
        positions=tuple(tuple(p) for p in level.positions.tolist()),
        cover=tuple(level.cover.tolist()),
        edges=tuple((int(a), int(b)) for a, b in level.edges),
        floor_height=float(level.floor_height),
    )


def _initial_store(config: RunConfig) -> PatternStore:
    if config.load is None:
        return PatternStore(alpha=config.merge_rate)
    loaded = load_patterns(config.load)
    state = loaded.to_state()
    state["alpha"] = config.merge_rate
    return PatternStore.from_state(state)


def _check_save_target(path: str) -> None:
    """StateFileError now, not after the run, if the patterns could not be saved at ``path``."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise StateFileError(f"cannot save patterns to {target}: it is a directory")
    if not directory.is_dir():
        raise StateFileError(f"cannot save patterns to {target}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StateFileError(f"cannot save patterns to {target}: {directory} is not writable")


def _tip_settings(config: RunConfig, level: CanonicalLevel) -> TipSettings:
    """What every TIP of the run shares (the monolithic baseline's one network included)."""
    shared = None
    if config.learner == "monolithic":
        seed = np.random.SeedSequence(config.seed, spawn_key=(MONOLITHIC_STREAM,))
        shared = MonolithicQ(np.random.default_rng(seed))
    return TipSettings(
        learner=config.learner,
        planner=config.planner,
        level=level,
        request_timeout=config.request_timeout,
        shared_learner=shared,
    )


def _spawn_agent(
    rt: Runtime,
    config: RunConfig,
    store: PatternStore,
    level: CanonicalLevel,
    tip_factory: Callable[[TipSettings], Tip],
) -> Propagator:
    """Spawn the learning and deciding actors (in start order); return the ULP."""
    settings = _tip_settings(config, level)
    ulp = Propagator(store, config.save)
    rt.spawn(ulp, name="ulp")
    core = CoreAgent(
        max_tips=config.tips,
        run_seed=config.seed,
        defaults=store,
        tip_factory=lambda: tip_factory(settings),
    )
    rt.spawn(core, name="core")
    rt.spawn(Perception(config.request_timeout), name="perception")
    if config.planner in ("fmc", "mc"):
        from actors.walker_pool import WalkerPool

        pool = WalkerPool(
            level,
            walkers=config.walkers,
            horizon=config.horizon,
            seed=config.seed,
            planner=config.planner,
        )
        rt.spawn(pool, name="walker-pool")
    return ulp


def _spawn_observers(rt: Runtime, config: RunConfig, log: EventLog, with_log: bool) -> None:
    """Spawn the consumers of telemetry: event log, dashboard, progress line."""
    if with_log:
        rt.spawn(log, name="event-log")
    if config.dashboard or config.live:
        from actors.dashboard import DashboardActor

        rt.spawn(DashboardActor(png=config.dashboard, live=config.live), name="dashboard")
    if not config.quiet:
        from actors.progress import Progress

        progress = Progress.for_stderr(config.ticks)
        if progress is not None:
            rt.spawn(progress, name="progress")


async def run_async(
    config: RunConfig,
    *,
    engine: Engine | None = None,
    tip_factory: Callable[[TipSettings], Tip] = Tip,
    listeners: tuple[EventListener, ...] = (),
    handle_signals: bool = False,
) -> RunResult:
    """Play one match as ``config`` says; inputs are checked before any actor starts."""
    config.validate()
    store = _initial_store(config)
    if config.save:
        _check_save_target(config.save)
    if config.dashboard or config.live:
        import fom.dashboard  # noqa: F401 - matplotlib loads before the clock starts
    writer: EventWriter | None = (
        open_event_writer(config.events, config.events_format) if config.events else None
    )
    engine = engine or make_engine(config.world, config.seed, config.tips)
    log = EventLog(writer, listeners=listeners)
    gc_policy = GcPolicy() if config.gc_tuning else None
    started = time.perf_counter()
    try:
        async with Runtime(Bus(), stop_timeout=10.0, gc=gc_policy) as rt:
            if handle_signals:
                rt.install_signal_handlers()
            watcher = _EndWatcher()
            rt.spawn(watcher, name="end-watcher")
            _spawn_observers(rt, config, log, with_log=writer is not None or bool(listeners))
            ulp = _spawn_agent(rt, config, store, engine.level, tip_factory)
            await rt.bus.publish(
                "event.run.started",
                RunStarted(
                    tick=0,
                    config=config.public(),
                    level=_level_info(engine.level),
                    patterns={sig: p.as_dict() for sig, p in store.all().items()},
                ),
            )
            world = WorldActor(engine, config.ticks, config.seed, config.pace_s)
            rt.spawn(world, name="world")  # last: it starts the clock
            await rt.shutdown_requested.wait()
            interrupted = not watcher.finished
            if handle_signals:
                rt.remove_signal_handlers()
            if interrupted:
                world.halt()  # no new tick, so run.finished is the stream's last event
            await rt.settle()  # let the last tick's TIPs report before the summary
            summary: RunSummary = await rt.bus.request(
                "core.summary",
                SummaryRequest(time.perf_counter() - started),
                timeout=config.request_timeout,
            )
            await rt.bus.publish(
                "event.run.finished",
                RunFinished(tick=summary.ticks, interrupted=interrupted, summary=summary),
            )
            failures = rt.failures
    finally:
        if writer is not None:
            writer.close()  # idempotent: the EventLog closes it when it stops
    return RunResult(
        summary=summary,
        interrupted=interrupted,
        events=log.seq,
        failures=failures,
        save_error=ulp.save_error,
    )


class _EndWatcher(Actor):
    """Turns the world's last tick into the runtime's shutdown request."""

    topics = ("world.finished",)

    def __init__(self) -> None:
        self.finished = False

    async def receive(self, envelope: Envelope) -> None:
        self.finished = True
        self.runtime.request_shutdown()


def run(config: RunConfig, **options: Any) -> RunResult:
    """``run_async`` on a fresh event loop (uvloop unless ``config.uvloop`` is False)."""
    return run_loop(run_async(config, **options), use_uvloop=config.uvloop)
