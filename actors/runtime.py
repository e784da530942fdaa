"""The Runtime: owns every actor task in one TaskGroup, supervises crashes, stops in order."""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from actors.actor import Actor, address_of
from actors.errors import ActorEscalation, ActorNotFound, RuntimeStopped, SpawnError
from actors.gc_policy import GcPolicy, GcTuner
from actors.messages import ActorFailed
from actors.supervision import Exhausted, RestartPolicy, RestartWindow
from bus import ActorStopped, Bus, DecodeError, Envelope, Subscription
from fom.signals import StopSignals

__all__ = ["FAILURE_TOPIC", "ActorRef", "Runtime"]

log = logging.getLogger("actors")

FAILURE_TOPIC = "event.actor.failed"

ActorFactory = Callable[[], Actor]


class ActorRef:
    """A handle on a spawned actor: its name, address and a way to wait for its end."""

    __slots__ = ("_done", "address", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.address = address_of(name)
        self._done = asyncio.Event()

    @property
    def stopped(self) -> bool:
        """Whether the actor has finished stopping."""
        return self._done.is_set()

    async def wait(self) -> None:
        """Wait until the actor has stopped."""
        await self._done.wait()

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r}, stopped={self.stopped})"


class _Cell:
    __slots__ = (
        "actor",
        "current",
        "factory",
        "ref",
        "started",
        "stopping",
        "sub",
        "task",
        "window",
    )

    def __init__(
        self,
        actor: Actor,
        factory: ActorFactory | None,
        ref: ActorRef,
        sub: Subscription,
        policy: RestartPolicy,
    ) -> None:
        self.actor = actor
        self.factory = factory
        self.ref = ref
        self.sub = sub
        self.window = RestartWindow(policy)
        self.stopping = False
        self.started = False
        self.current: Envelope | None = None
        self.task: asyncio.Task[None] | None = None


FAIR_RUN = 64
FAIR_SLICE_S = 0.001
"""An actor handling a backlog lets the others run once it has worked FAIR_SLICE_S seconds
in a row (looked at every FAIR_RUN messages)."""


class Runtime:
    """Spawns, supervises and stops actors; use as ``async with Runtime(bus) as rt``.

    With ``gc`` the runtime tunes the garbage collector to the number of live actors while it
    runs (see GcPolicy) and restores it on exit; without, the collector is left alone.
    """

    def __init__(
        self, bus: Bus | None = None, *, stop_timeout: float = 5.0, gc: GcPolicy | None = None
    ) -> None:
        self.bus = bus or Bus()
        self.stop_timeout = stop_timeout
        self._gc = GcTuner(gc) if gc is not None else None
        self._hosted = 0
        self._cells: dict[str, _Cell] = {}
        self._tg: asyncio.TaskGroup | None = None
        self._closing = False
        self._names = 0
        self.shutdown_requested = asyncio.Event()
        self._stop_signals: StopSignals | None = None
        self._previous_handlers: dict[int, Any] = {}
        self.failures = 0

    # -------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Runtime:
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        if self._gc is not None:
            self._gc.apply()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        try:
            await self.shutdown()
        finally:
            assert self._tg is not None
            try:
                result = await self._tg.__aexit__(*exc_info)
            finally:
                self._tg = None
                if self._gc is not None:
                    self._gc.restore()
        return result

    def install_signal_handlers(self, signals: StopSignals | None = None) -> StopSignals:
        """Make Ctrl-C and SIGTERM request the same graceful stop as ``request_shutdown``.

        While that stop runs (flushing events, saving), a second signal does not cut it short:
        it is said on stderr; a third aborts at once with status 128 + the signal (see
        ``fom.signals``). ``signals`` carries the count over from before the run (a signal
        already received stops the run at once); returns the StopSignals in use.
        """
        loop = asyncio.get_running_loop()
        self._stop_signals = signals if signals is not None else StopSignals()
        self._previous_handlers = self._stop_signals.install()

        def stop() -> None:  # in the signal handler: only schedule it
            with suppress(RuntimeError):  # the loop has closed: nothing left to stop
                loop.call_soon_threadsafe(self.request_shutdown)

        self._stop_signals.attach(stop)
        return self._stop_signals

    @property
    def signals(self) -> list[int]:
        """The stop signals received (SIGINT, SIGTERM), in order."""
        return self._stop_signals.received if self._stop_signals is not None else []

    def remove_signal_handlers(self) -> None:
        """Undo ``install_signal_handlers``: the handlers from before it are back."""
        if self._stop_signals is not None:
            self._stop_signals.detach()
        StopSignals.restore(self._previous_handlers)
        self._previous_handlers = {}

    def request_shutdown(self) -> None:
        """Ask whoever owns the runtime to stop (sets ``shutdown_requested``)."""
        self.shutdown_requested.set()

    @property
    def actors(self) -> tuple[str, ...]:
        """Names of the live actors, in start order."""
        return tuple(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    async def settle(self, rounds: int = 3, limit: int = 100_000) -> bool:
        """Yield to the loop until every mailbox stayed empty for ``rounds`` yields in a row.

        After the source of work stops (the world's last tick), this lets the messages already
        in flight be handled before a final summary is taken. False if ``limit`` yields passed.
        """
        quiet = 0
        for _ in range(limit):
            await asyncio.sleep(0)
            if any(len(cell.sub.mailbox) for cell in self._cells.values()):
                quiet = 0
            else:
                quiet += 1
                if quiet >= rounds:
                    return True
        return False

    # -------------------------------------------------------------- spawning

    def spawn(
        self,
        actor: Actor | ActorFactory,
        *,
        name: str | None = None,
        topics: tuple[str, ...] = (),
        policy: RestartPolicy | None = None,
    ) -> ActorRef:
        """Start an actor (an instance, or a factory called again on each restart).

        Its subscriptions exist when this returns, so nothing published afterwards is missed.
        """
        if self._tg is None or self._closing:
            raise RuntimeStopped("the runtime is not running")
        factory = None if isinstance(actor, Actor) else actor
        instance = actor if isinstance(actor, Actor) else actor()
        if not isinstance(instance, Actor):
            raise SpawnError(f"{instance!r} is not an Actor")
        if name is None:
            self._names += 1
            name = f"{type(instance).__name__.lower()}-{self._names}"
        if name in self._cells:
            raise SpawnError(f"an actor named {name!r} is already running")
        if "." in name or " " in name or not name:
            raise SpawnError(f"actor names are single topic tokens, got {name!r}")
        sub = self.bus.subscribe(
            address_of(name),
            *type(instance).topics,
            *topics,
            name=name,
            capacity=instance.capacity,
            overflow=instance.overflow,
        )
        ref = ActorRef(name)
        cell = _Cell(instance, factory, ref, sub, policy or instance.restart)
        self._bind(cell)
        self._cells[name] = cell
        cell.task = self._tg.create_task(self._run(cell), name=f"actor:{name}")
        if self._gc is not None:
            self._gc.resize(len(self._cells) + self._hosted)
        return ref

    def hosted(self, count: int) -> None:
        """``count`` actors live elsewhere (TIPs on worker processes) whose messages pass
        through this runtime: the collector is tuned for them as for its own actors."""
        self._hosted = count
        if self._gc is not None:
            self._gc.resize(len(self._cells) + count)

    def _bind(self, cell: _Cell) -> None:
        cell.actor.name = cell.ref.name
        cell.actor.bus = self.bus
        cell.actor.runtime = self
        cell.actor.mailbox = cell.sub
        cell.actor.taken = []

    # -------------------------------------------------------------- stopping

    def stop_nowait(self, name: str) -> None:
        """Ask an actor to stop: after its current message if it asks itself, at once otherwise."""
        cell = self._cells.get(name)
        if cell is None or cell.stopping:
            return
        cell.stopping = True
        task = cell.task
        # A task cancelled before its first step never enters _run, so it would skip the
        # cleanup (on_stop, unsubscribe, failing requests); one not started yet sees `stopping`.
        if (
            task is not None
            and cell.started
            and task is not asyncio.current_task()
            and not task.done()
        ):
            task.cancel()

    async def stop(self, name: str | ActorRef, timeout: float | None = None) -> None:
        """Stop one actor and wait (at most ``timeout``) until it has finished stopping."""
        key = name.name if isinstance(name, ActorRef) else name
        cell = self._cells.get(key)
        if cell is None:
            raise ActorNotFound(f"no actor named {key!r}")
        await self._stop_cell(cell, self.stop_timeout if timeout is None else timeout)

    async def shutdown(self, timeout: float | None = None) -> None:
        """Stop every actor in reverse start order, within ``timeout`` seconds in all."""
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.stop_timeout if timeout is None else timeout)
        for cell in reversed(list(self._cells.values())):
            await self._stop_cell(cell, max(deadline - loop.time(), 0.0))

    async def _stop_cell(self, cell: _Cell, timeout: float) -> None:
        self.stop_nowait(cell.ref.name)
        task = cell.task
        if task is None or task is asyncio.current_task():
            return
        _, pending = await asyncio.wait({task}, timeout=timeout)
        if pending:
            log.error("actor %s did not stop within %.2fs; cancelling it", cell.ref.name, timeout)
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)

    # -------------------------------------------------------------- the actor task

    async def _run(self, cell: _Cell) -> None:
        cell.started = True
        try:
            while True:
                try:
                    await cell.actor.on_start()
                    await self._loop(cell)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not await self._supervise(cell, exc):
                        return
        finally:
            await self._cleanup(cell)

    @staticmethod
    async def _loop(cell: _Cell) -> None:
        """Take frames from the mailbox, decode and hand them to ``receive``, one at a time."""
        sub = cell.sub
        mailbox = sub.mailbox
        decode = sub._bus.codec.decode
        dead_letter = sub._bus._dead_letter
        actor = cell.actor
        receive = actor.receive
        # This is every actor's hot loop: frames already waiting are popped straight off the
        # mailbox's deque, all of them before the next wait, rather than through a
        # Mailbox.get_nowait call per message. A publisher blocked on the full mailbox is
        # woken as get_nowait would; only an empty mailbox goes through `await mailbox.get()`.
        items = mailbox._items
        putters = mailbox._putters
        clock = time.perf_counter
        run, since = 0, clock()
        while not cell.stopping:
            if items:
                frame = items.popleft()
                if putters:
                    mailbox._wake_putter()
                run += 1
                if run >= FAIR_RUN:  # a long backlog must not starve the other actors
                    run = 0
                    if clock() - since > FAIR_SLICE_S:
                        await asyncio.sleep(0)
                        since = clock()
            else:
                frame = await mailbox.get()
                run, since = 0, clock()
            try:
                envelope = decode(frame)
            except DecodeError as exc:
                dead_letter(sub, frame, exc)
                continue
            cell.current = envelope
            await receive(envelope)
            cell.current = None
            if actor.taken:  # a batch handled in full: nothing left to fail if we crash later
                actor.taken = []

    async def _supervise(self, cell: _Cell, exc: Exception) -> bool:
        """Report a crash and apply the restart policy; True to run the actor again."""
        self.failures += 1
        name = cell.ref.name
        loop = asyncio.get_running_loop()
        if cell.stopping:
            action = "stop"
        elif cell.window.allow(loop.time()):
            action = "restart"
        elif cell.window.policy.on_exhausted is Exhausted.ESCALATE:
            action = "escalate"
        else:
            action = "stop"
        log.error("actor %s failed (%s): %r", name, action, exc, exc_info=exc)
        current, cell.current = cell.current, None
        taken, cell.actor.taken = cell.actor.taken, []
        for envelope in (current, *taken):
            if envelope is not None and envelope.corr:
                self.bus.fail_envelope(envelope, ActorStopped(f"actor {name!r} crashed: {exc!r}"))
        failure = ActorFailed(
            actor=name,
            error_type=type(exc).__name__,
            error=str(exc),
            traceback="".join(traceback.format_exception(exc, limit=8)),
            restarts=cell.window.restarts,
            action=action,
        )
        with suppress(Exception):
            self.bus.publish_nowait(FAILURE_TOPIC, failure, sender="runtime")
        if action == "escalate":
            raise ActorEscalation(f"actor {name!r} exhausted its restarts: {exc!r}") from exc
        if action == "stop":
            return False
        await self._call_on_stop(cell)
        if cell.factory is not None:
            cell.actor = cell.factory()
            self._bind(cell)
        return True

    async def _call_on_stop(self, cell: _Cell) -> None:
        try:
            async with asyncio.timeout(self.stop_timeout):
                await cell.actor.on_stop()
        except TimeoutError:
            log.error("on_stop of %s timed out", cell.ref.name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("on_stop of %s raised", cell.ref.name)

    async def _cleanup(self, cell: _Cell) -> None:
        name = cell.ref.name
        try:
            for envelope in (cell.current, *cell.actor.taken):
                if envelope is not None and envelope.corr:
                    self.bus.fail_envelope(
                        envelope, ActorStopped(f"actor {name!r} stopped before replying")
                    )
            if cell.actor.drain_on_stop:
                await self._drain(cell)
            await self._call_on_stop(cell)
        finally:
            for frame in self.bus.unsubscribe(cell.sub):
                self._fail_frame(name, frame)
            self._cells.pop(name, None)
            if self._gc is not None:
                self._gc.resize(len(self._cells) + self._hosted)
            cell.ref._done.set()

    async def _drain(self, cell: _Cell) -> None:
        try:
            async with asyncio.timeout(self.stop_timeout):
                while (envelope := cell.sub.get_nowait()) is not None:
                    await cell.actor.receive(envelope)
        except TimeoutError:
            log.error("%s could not drain its mailbox within the stop timeout", cell.ref.name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s raised while draining its mailbox", cell.ref.name)

    def _fail_frame(self, name: str, frame: bytes) -> None:
        self.bus.fail_frame(frame, ActorStopped(f"actor {name!r} stopped before replying"))
