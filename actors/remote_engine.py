"""An Engine whose game runs on a worker (``fom-run --workers N --world-on-worker``).

The driver's World actor keeps the clock and the lockstep, and calls this engine as it calls a
local one; each call is one request to the worker's world service
(:class:`actors.world_host.WorldHost`) over a connection of its own, whose event loop runs in
a thread, and the caller waits for the answer as it waits for a local engine's computation. A
tick is one round trip: :meth:`resolve` (which :func:`fom.match.resolve_tick` hands the whole
tick to), answered with the tick's results and the engine's new view and projections.

A world whose worker does not answer (it was killed, or NATS is gone for longer than the
request timeout) raises EngineError: the World stops and the run ends with its error. A request
that NATS may have lost as it reconnected is sent again at once; its number (``seq``) makes the
worker carry it out once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from actors.channels.world_host import (
    WORLD_HOST,
    WorldClose,
    WorldOpen,
    WorldReset,
    WorldResolve,
    WorldSnapshot,
)
from bus import BusError, Reconnected
from bus.nats import NatsBus
from fom.engines.base import ShotOutcome, StepReport, WorldView
from fom.errors import EngineError
from fom.match import Act, ActResult, TickResolution
from fom.state import SelfState

__all__ = ["RemoteEngine"]

_CONNECT_S = 5.0


class RemoteEngine:
    """The run's engine on worker ``worker`` (see the module docstring); ``shutdown`` closes it."""

    weapons: tuple[str, ...] = ()

    def __init__(
        self,
        url: str,
        worker: str,
        *,
        run: str,
        world: str,
        seed: int,
        tips: int,
        options: dict[str, int],
        timeout: float,
    ) -> None:
        self.worker = worker
        self.run = run
        self.timeout = timeout
        self.subject = f"{WORLD_HOST}.{worker}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"fom-world-{worker}", daemon=True
        )
        self._thread.start()
        self._bus: NatsBus | None = None
        self._seq = 0
        self.tick = 0
        try:
            self._bus = self._wait(NatsBus.connect(url, name="fom-world"), _CONNECT_S)
            snap = self._call(WorldOpen(run, world, seed, tips, options))
        except BaseException:
            self.shutdown()
            raise
        if snap.level is None:
            self.shutdown()
            raise EngineError(f"the world on worker {worker} sent no level")
        self.level = snap.level.to_level()
        self._take(snap)

    # ------------------------------------------------------------------ transport

    def _wait(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            why = f"the world on worker {self.worker} gave no answer in {timeout:g} s"
            raise EngineError(why) from None

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    async def _ask(self, request: object) -> object:
        """The worker's reply, the request sent again as often as NATS reconnects while it
        waits, within one request timeout in all."""
        assert self._bus is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            try:
                return await self._bus.request(
                    self.subject, request, timeout=max(deadline - loop.time(), 0.001),
                    sender="driver", resend_on_reconnect=True,
                )  # fmt: skip
            except Reconnected:
                if loop.time() >= deadline:
                    raise

    def _call(self, request: object) -> WorldSnapshot:
        try:
            reply = self._wait(self._ask(request), self.timeout + 1.0)
        except BusError as exc:  # no responder, timed out, or the worker's own error
            raise EngineError(f"the world on worker {self.worker}: {exc}") from None
        if not isinstance(reply, WorldSnapshot):
            raise EngineError(f"the world on worker {self.worker} answered {type(reply).__name__}")
        return reply

    def _take(self, snap: WorldSnapshot) -> None:
        self._view = snap.view
        self.tick = snap.view.tick
        self._projections = dict(
            zip((o.id for o in snap.view.opponents), snap.projections, strict=True)
        )

    def shutdown(self) -> None:
        """Close the connection and stop its thread (idempotent)."""
        if self._bus is not None:
            bus, self._bus = self._bus, None
            with contextlib.suppress(EngineError):
                self._wait(bus.aclose(), _CONNECT_S)
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=_CONNECT_S)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.close()

    # ------------------------------------------------------------------ the Engine

    def reset(self, seed: int | None = None) -> WorldView:
        request = WorldReset(self.run, 0 if seed is None else int(seed), self._next_seq())
        self._take(self._call(request))
        return self._view

    def observe(self) -> WorldView:
        return self._view

    def projection(self, encounter: int) -> SelfState:
        try:
            return self._projections[encounter]
        except KeyError:
            raise EngineError(f"encounter {encounter} is not in the world's view") from None

    def close(self, encounter: int) -> None:
        self._take(self._call(WorldClose(self.run, int(encounter), self._next_seq())))

    def resolve(self, tick: int, acts: Sequence[Act]) -> TickResolution:
        """One tick, resolved on the worker by ``fom.match.resolve_tick``."""
        snap = self._call(WorldResolve(self.run, tick, tuple(acts), self._next_seq()))
        self._take(snap)
        results: dict[int, ActResult | EngineError] = {
            r.report.encounter: r for r in snap.results
        }
        failed = zip(snap.failed, snap.errors, strict=True)
        results.update((e, EngineError(why)) for e, why in failed)
        return TickResolution(dict(sorted(results.items())), snap.reports)

    def _whole_ticks(self, *_: object) -> Any:
        raise EngineError("a world on a worker plays whole ticks (resolve), not single calls")

    move = look_at = _whole_ticks

    def shoot(self, encounter: int) -> ShotOutcome:
        return self._whole_ticks()

    def advance(self) -> tuple[StepReport, ...]:
        return self._whole_ticks()

    def save_state(self) -> object:
        return self._whole_ticks()

    def restore_state(self, state: object) -> None:
        self._whole_ticks()
