"""A worker's worlds: the engine of a run whose world lives on this worker (``--world-on-worker``).

The driver's World actor keeps the clock and the lockstep; each of its calls on the engine
becomes one request here (:class:`actors.remote_engine.RemoteEngine`), answered with the
engine's view and projections, so a tick costs one round trip: ``resolve`` runs
:func:`fom.match.resolve_tick` on this worker, the same function as in one process.
"""

from __future__ import annotations

from actors.channels.world_host import (
    WorldClose,
    WorldOpen,
    WorldReset,
    WorldResolve,
    WorldSnapshot,
)
from actors.encounter_host import KEEP_RUNS
from fom.engines import make_engine
from fom.engines.base import Engine
from fom.errors import EngineError
from fom.events.records import LevelInfo
from fom.match import ActResult, resolve_tick

__all__ = ["WorldHost"]


Request = WorldOpen | WorldReset | WorldResolve | WorldClose


class WorldHost:
    """The engines a worker hosts, one per run."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._answered: dict[str, tuple[int, WorldSnapshot]] = {}
        """Per run, the number of its last numbered request and the answer it got."""

    def handle(self, request: Request) -> WorldSnapshot:
        """Carry out one request on its run's engine; EngineError for a run never opened. A
        numbered request sent again (the driver could not know it arrived) is answered as it
        was the first time, not carried out twice."""
        seq = 0 if isinstance(request, WorldOpen) else request.seq
        if seq:
            last = self._answered.get(request.run)
            if last is not None and last[0] == seq:
                return last[1]
        snapshot = self._carry_out(request)
        if seq:
            self._answered[request.run] = (seq, snapshot)
        return snapshot

    def _carry_out(self, request: Request) -> WorldSnapshot:
        match request:
            case WorldOpen(run=run, world=world, seed=seed, tips=tips, options=options):
                self.forget(run)
                engine = self._engines[run] = make_engine(world, seed, tips, **options)
                while len(self._engines) > KEEP_RUNS:
                    self.forget(next(iter(self._engines)))
                return self._snapshot(engine, level=LevelInfo.of(engine.level))
            case WorldReset(run=run, seed=seed):
                engine = self._engine(run)
                engine.reset(seed)
                return self._snapshot(engine)
            case WorldResolve(run=run, tick=tick, acts=acts):
                engine = self._engine(run)
                resolution = resolve_tick(engine, tick, acts)
                results = sorted(resolution.results.items(), key=lambda item: item[0])
                failed = [(e, str(r)) for e, r in results if not isinstance(r, ActResult)]
                return self._snapshot(
                    engine,
                    results=tuple(r for _, r in results if isinstance(r, ActResult)),
                    failed=tuple(e for e, _ in failed),
                    errors=tuple(why for _, why in failed),
                    reports=resolution.reports,
                )
            case WorldClose(run=run, encounter=encounter):
                engine = self._engine(run)
                engine.close(encounter)
                return self._snapshot(engine)
        raise TypeError(f"a world host cannot handle {type(request).__name__}")

    def _engine(self, run: str) -> Engine:
        engine = self._engines.get(run)
        if engine is None:
            raise EngineError(f"no world is open for run {run}")
        return engine

    @staticmethod
    def _snapshot(engine: Engine, **parts: object) -> WorldSnapshot:
        view = engine.observe()
        projections = tuple(engine.projection(o.id) for o in view.opponents)
        return WorldSnapshot(view, projections, **parts)  # type: ignore[arg-type]

    def forget(self, run: str) -> None:
        """Shut a run's engine down."""
        engine = self._engines.pop(run, None)
        self._answered.pop(run, None)
        shutdown = getattr(engine, "shutdown", None)
        if shutdown is not None:
            shutdown()

    def close(self) -> None:
        """Shut every engine down."""
        for run in list(self._engines):
            self.forget(run)
