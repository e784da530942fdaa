"""Composition: builds the bus and the actors for a RunConfig, runs the match, returns a summary.

    summary = fom.app.run(RunConfig(ticks=300, tips=4, seed=1))

Actors start in this order (and stop in reverse): EventLog, Dashboard, ULP, CoreAgent,
Perception, WalkerPool, World. The World starts the clock, so everything else is subscribed by
then; it stops first, and the EventLog last, after it has written every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors import Actor, GcPolicy, Runtime
from actors import run as run_loop
from actors.channels import (
    EncounterSetup,
    LevelInfo,
    PlanBatch,
    RunFinished,
    RunStarted,
    RunSummary,
    SummaryRequest,
    WorldFinished,
    WorldStalled,
)
from actors.core_agent import CoreAgent
from actors.event_log import EventLog
from actors.messages import ActorFailed
from actors.perception import Perception
from actors.propagator import Propagator
from actors.remote_engine import RemoteEngine
from actors.remote_pool import LinkStats, RemoteWalkerPool
from actors.remote_tips import HOST_NAME, RemoteTips
from actors.runtime import FAILURE_TOPIC
from actors.tip import Tip, TipSettings
from actors.walker_pool import WalkerPool
from actors.world import WorldActor
from bus import DEAD_LETTER_TOPIC, Bus, Envelope, NoResponders, RequestFailed, RequestTimeout
from bus.bridge import Bridge
from fom.app.cluster import Cluster, open_cluster
from fom.config import RunConfig
from fom.engines import make_engine
from fom.engines.base import Engine
from fom.errors import ConfigError, FomError, RunFailed, StateFileError
from fom.events import EventWriter, open_event_writer
from fom.learners.base import check_layout
from fom.level import CanonicalLevel
from fom.match import initial_store
from fom.patterns import PatternStore
from fom.planners import make_planner
from fom.signals import StopSignals

__all__ = ["RunResult", "run", "run_async"]

EventListener = Callable[[dict[str, Any]], None]

@dataclass(slots=True)
class RunResult:
    """What a run produced: the summary, whether it was interrupted, and its event count."""

    summary: RunSummary
    interrupted: bool
    events: int
    failures: int = 0
    save_error: str | None = None
    """Why ``--save`` failed at the end (the run itself completed), or None."""
    error: str | None = None
    """Why the run stopped before its last tick (a lockstep actor crashed), or None."""
    events_error: OSError | None = None
    """Why the event stream could not be written (the run then stopped), or None."""
    events_lost: int = 0
    """Events not written because of ``events_error``, from ``first_lost_event`` on."""
    first_lost_event: int | None = None
    """The ``seq`` of the first event not written (events buffered before it may be lost too)."""
    signal: int | None = None
    """The signal that stopped the run (SIGINT, SIGTERM), or None."""
    workers: LinkStats | None = None
    """What the workers did (a run over NATS), what was lost and sent again; else None."""
    events_bridged: int = 0
    """Events published on NATS for live consumers (a run over NATS)."""
    events_not_bridged: int = 0
    """Events NATS refused (counted, never silent)."""


def hosts_encounters(
    config: RunConfig, tip_factory: Callable[..., Any], pool_factory: Callable[..., Any]
) -> bool:
    """Whether a run over workers hosts its encounters on them: yes, unless the caller injects
    its own TIPs or pool (tests), or the planner needs the driver's game (``bind``)."""
    planner = make_planner(config.planner, walkers=config.walkers, horizon=config.horizon)
    return tip_factory is Tip and pool_factory is WalkerPool and not hasattr(planner, "bind")


def plan_template(config: RunConfig) -> PlanBatch:
    """What a worker needs to build this run's planner and level (its problems left empty)."""
    return PlanBatch(
        config.world, config.seed, config.tips, config.planner, config.walkers, config.horizon, ()
    )


def encounter_setup(config: RunConfig, run: str) -> EncounterSetup:
    """What a worker needs to host this run's encounters."""
    return EncounterSetup(
        run, config.world, config.seed, config.tips, config.planner, config.walkers,
        config.horizon, config.learner, config.ticks,
    )  # fmt: skip


def _level_info(level: CanonicalLevel, engine: Engine | None = None) -> LevelInfo:
    geometry = getattr(engine, "geometry", None)  # a real map (doom): its lines are drawn
    return LevelInfo.of(level, geometry.drawn_lines().tolist() if geometry is not None else ())


def _check_writable(path: str, what: str, error: type[FomError]) -> None:
    """``error`` now, not after the run, if ``what`` could not be written at ``path``."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise error(f"cannot write {what} to {target}: it is a directory")
    if not directory.is_dir():
        raise error(f"cannot write {what} to {target}: no directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise error(f"cannot write {what} to {target}: {directory} is not writable")


def _spawn_agent(
    rt: Runtime,
    config: RunConfig,
    store: PatternStore,
    level: CanonicalLevel,
    tip_factory: Callable[[TipSettings], Tip],
    pool_factory: Callable[..., WalkerPool],
    engine: Engine | None = None,
    host: RemoteTips | None = None,
) -> tuple[Propagator, CoreAgent]:
    """Spawn the learning and deciding actors (in start order); return the ULP and CoreAgent.
    With ``host``, the encounters live on the workers (no TIP nor walker pool here)."""
    planner = make_planner(config.planner, walkers=config.walkers, horizon=config.horizon)
    bind = getattr(planner, "bind", None)  # a planner over the real game (fmc-engine)
    if bind is not None and engine is not None:
        bind(engine)
    settings = TipSettings(
        learner=config.learner,
        planner=planner,
        level=level,
        request_timeout=config.request_timeout,
        ticks=config.ticks,
    )
    ulp = Propagator(store, config.save, config.save_every, ordered=True)
    rt.spawn(ulp, name="ulp", topics=("world.tick",) if config.save_every else ())
    core = CoreAgent(
        max_tips=config.tips,
        run_seed=config.seed,
        learner=config.learner,
        defaults=PatternStore(names=store.names, initial=store.initial),  # CoreAgent's own
        tip_factory=lambda: tip_factory(settings),
        host=HOST_NAME if host is not None else None,
    )
    rt.spawn(core, name="core")
    rt.spawn(Perception(), name="perception")
    if host is not None:
        rt.spawn(host, name=HOST_NAME)
    elif planner.pooled:
        pool = pool_factory(
            planner, level, seed=config.seed, name=config.planner, walkers=config.walkers
        )
        rt.spawn(pool, name="walker-pool")
    return ulp, core


def _spawn_observers(
    rt: Runtime, config: RunConfig, log: EventLog, with_log: bool, window: Any
) -> None:
    """Spawn the consumers of telemetry: event log, dashboard, progress line."""
    if with_log:
        rt.spawn(log, name="event-log")
    if config.dashboard or window is not None:
        from actors.dashboard import DashboardActor

        rt.spawn(
            DashboardActor(png=config.dashboard, window=window, ordered=True), name="dashboard"
        )
    if not config.quiet:
        from actors.progress import Progress

        progress = Progress.for_stderr(config.ticks, "tick")
        if progress is not None:
            rt.spawn(progress, name="progress", topics=("event.world.tick",))


async def run_async(
    config: RunConfig,
    *,
    engine: Engine | None = None,
    tip_factory: Callable[[TipSettings], Tip] = Tip,
    pool_factory: Callable[..., WalkerPool] = WalkerPool,
    listeners: tuple[EventListener, ...] = (),
    store: PatternStore | None = None,
    handle_signals: bool | StopSignals = False,
) -> RunResult:
    """Play one match as ``config`` says; inputs are checked before any actor starts.

    ``store`` starts the ULP from these patterns instead of ``config.load`` (or empty ones);
    ``tip_factory`` and ``pool_factory`` build the TIPs and the walker pool (tests inject
    faults through them); ``listeners`` get every event as its dict. ``handle_signals``:
    SIGINT and SIGTERM stop the run gracefully (a StopSignals the caller installed for the
    whole command also counts the signals that come before the run starts or after it stops).
    """
    config.validate()
    if store is None:
        store = initial_store(config.learner, config.merge_rate, config.load)
    else:  # the caller's patterns (the ULP owns them from now on)
        check_layout(config.learner, store.names, "the store passed to run_async")
    if config.save:
        _check_writable(config.save, "the patterns", StateFileError)
    if config.dashboard:
        if Path(config.dashboard).suffix.lower() != ".png":
            raise ConfigError(f"--dashboard draws a PNG: {config.dashboard} is not a .png")
        _check_writable(config.dashboard, "the dashboard", ConfigError)
    window = None
    if config.dashboard or config.live:
        from fom.dashboard import LiveWindow  # matplotlib loads before the clock starts

        window = LiveWindow("FOM dashboard") if config.live else None  # DashboardError now
    writer: EventWriter | None = (
        open_event_writer(config.events, config.events_format) if config.events else None
    )
    owned: Engine | None = None  # made here, so shut down here (a game process, a connection)
    if engine is None and not config.world_on_worker:
        engine = owned = make_engine(
            config.world, config.seed, config.tips, **config.world_options()
        )
    log = EventLog(writer, listeners=listeners, ordered=True)
    gc_policy = GcPolicy() if config.gc_tuning else None
    started = time.perf_counter()
    runtime = Runtime(Bus(), stop_timeout=10.0, gc=gc_policy)
    stack = contextlib.AsyncExitStack()  # the NATS side of a multi-process run, if any
    bridge: Bridge | None = None
    try:
        cluster = await stack.enter_async_context(open_cluster(config))
        if engine is None:  # --world-on-worker: the first worker hosts it
            engine = owned = await _remote_engine(config, cluster)
        started = time.perf_counter()  # the match's wall time, not the workers' start
        host = None
        if cluster is not None and hosts_encounters(config, tip_factory, pool_factory):
            setup = encounter_setup(config, cluster.link.run)
            host = RemoteTips(cluster.link, setup, config.request_timeout)
        elif cluster is not None and pool_factory is WalkerPool:
            pool_factory = functools.partial(
                RemoteWalkerPool, link=cluster.link, template=plan_template(config)
            )
        async with runtime as rt:
            if handle_signals is not False:
                rt.install_signal_handlers(
                    handle_signals if isinstance(handle_signals, StopSignals) else None
                )
            watcher = _EndWatcher()
            rt.spawn(watcher, name="end-watcher")
            _spawn_observers(
                rt, config, log, with_log=writer is not None or bool(listeners), window=window
            )
            if cluster is not None:  # every event also on NATS, live, on its own subject
                bridge = Bridge(rt.bus, cluster.bus, "event.>", DEAD_LETTER_TOPIC)
            ulp, core = _spawn_agent(
                rt, config, store, engine.level, tip_factory, pool_factory, engine, host
            )
            await rt.bus.publish(
                "event.run.started",
                RunStarted(
                    tick=0,
                    config=config.public(),
                    level=_level_info(engine.level, engine),
                    patterns={sig: p.as_dict() for sig, p in store.all().items()},
                ),
            )
            world = WorldActor(
                engine, config.ticks, config.seed, config.pace_s,
                stall_s=STALL_FACTOR * config.request_timeout + config.pace_s,
            )  # fmt: skip
            rt.spawn(world, name="world")  # last: it starts the clock
            await rt.shutdown_requested.wait()
            interrupted = not watcher.finished  # stopped early: a signal, or the world crashed
            if interrupted:
                world.halt()  # no new tick, so run.finished is the stream's last event
            await rt.settle()  # let the last tick's TIPs report before the summary
            wall_s = time.perf_counter() - started
            try:
                summary: RunSummary = await rt.bus.request(
                    "core.summary", SummaryRequest(wall_s), timeout=config.request_timeout
                )
            except (NoResponders, RequestFailed, RequestTimeout):  # CoreAgent crashed or
                # never settled the last tick's ends: its statistics as they are
                summary = core.summary(wall_s)
            await rt.bus.publish(
                "event.run.finished",
                RunFinished(tick=summary.ticks, interrupted=interrupted, summary=summary),
            )
            failures = rt.failures
            error = watcher.error
            signals = rt.signals
    finally:
        if handle_signals is not False:  # only now: a signal during the stop must not cut it short
            runtime.remove_signal_handlers()
        shutdown = getattr(owned, "shutdown", None)  # a real game's process: never left behind
        if shutdown is not None:
            shutdown()
        if writer is not None:
            with contextlib.suppress(OSError):  # the EventLog reported it when it stopped
                writer.close()  # idempotent: the EventLog closes it when it stops
        if bridge is not None:
            bridge.close()
        await stack.aclose()  # stops the workers this run started, and its private server
    return RunResult(
        summary=summary,
        interrupted=interrupted,
        events=log.seq,
        failures=failures,
        save_error=ulp.save_error,
        error=error,
        events_error=log.error,
        events_lost=log.lost,
        first_lost_event=log.first_lost,
        signal=signals[0] if signals else None,
        workers=cluster.link.stats if cluster is not None else None,
        events_bridged=bridge.sent + _worker_records(cluster) if bridge is not None else 0,
        events_not_bridged=bridge.lost + _worker_refused(cluster) if bridge is not None else 0,
    )


async def _remote_engine(config: RunConfig, cluster: Cluster | None) -> RemoteEngine:
    """The run's engine on the first live worker (by name)."""
    live = cluster.link.live() if cluster is not None else []
    if cluster is None or not live:
        raise RunFailed("--world-on-worker: no worker is alive to host the world")
    return await asyncio.to_thread(
        RemoteEngine, cluster.bus.url, live[0], run=cluster.link.run, world=config.world,
        seed=config.seed, tips=config.tips, options=config.world_options(),
        timeout=config.request_timeout,
    )  # fmt: skip


def _worker_records(cluster: Cluster | None) -> int:
    """Event records the workers published on NATS themselves (those NATS took)."""
    return 0 if cluster is None else sum(cluster.link.stats.sent.values())


def _worker_refused(cluster: Cluster | None) -> int:
    return 0 if cluster is None else sum(cluster.link.stats.refused.values())


STALL_FACTOR = 2.0
"""A tick that waits longer than this many request timeouts has stalled (the watchdog)."""

LOCKSTEP = {"world": "the world", "perception": "perception", "core": "the core agent"}
"""The actors every tick goes through. None is restarted: the World owns the match's engine
(a fresh one would start another match in the middle of this one), and a tick's percept that a
crash lost would leave the World waiting for ever. A crash of one ends the run with its error."""


class _EndWatcher(Actor):
    """Turns the world's last tick, or a lockstep actor's crash, into the shutdown request."""

    topics = ("world.finished", "world.stalled", FAILURE_TOPIC)

    def __init__(self) -> None:
        self.finished = False
        self.error: str | None = None

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case WorldFinished():
                self.finished = True
                self.runtime.request_shutdown()
            case WorldStalled(tick=tick, waiting_for=what, waited_s=waited):
                self.error = f"tick {tick} waited {waited:g} s for {what}: the match stopped"
                self.runtime.request_shutdown()
            case ActorFailed(actor=name, error_type=kind, error=text) if name in LOCKSTEP:
                self.error = f"{LOCKSTEP[name]} crashed: {kind}: {text}"
                self.runtime.request_shutdown()
            case _:
                pass


def run(config: RunConfig, **options: Any) -> RunResult:
    """``run_async`` on a fresh event loop (uvloop unless ``config.uvloop`` is False).

    Inside a running event loop (a notebook, an async program) use ``await run_async(config)``.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop running: start one below, outside this handler (inside
        pass  # it, every error logged during the run was chained to "no running event loop")
    else:
        raise RuntimeError(
            "fom.app.run() starts its own event loop and cannot run inside one: "
            "use `await fom.app.run_async(config)` there"
        )
    return run_loop(run_async(config, **options), use_uvloop=config.uvloop)
