"""The World actor: owns the engine and the clock, applies TIPs' actions, returns outcomes.

Ticks are resolved in lockstep: tick ``t`` is resolved once CoreAgent has handled its percept
(``TickReady``) and every engaged encounter has sent its ``Act``; then
:func:`fom.match.resolve_tick` applies the actions in encounter order, so the outcome never
depends on the order messages happened to arrive in. A World that crashes is not restarted
with a fresh engine mid-match: the run stops (see ``fom.app``).
"""

from __future__ import annotations

import asyncio
import math

from actors.actor import Actor
from actors.channels import (
    Act,
    ActBatch,
    ActBatchResult,
    ActResult,
    ActResults,
    CloseEncounter,
    EpisodeFinished,
    Observe,
    Sighting,
    TickEvent,
    TickReady,
    WorldFinished,
    WorldStalled,
    WorldTick,
)
from actors.channels.model import WorldView
from actors.messages import ActorFailed
from actors.runtime import FAILURE_TOPIC
from actors.supervision import NEVER_RESTART
from bus import ActorStopped, Envelope
from bus.codec import Codec
from fom.engines.base import Engine
from fom.errors import EngineError
from fom.match import resolve_tick
from fom.patterns import signature_for

__all__ = ["WorldActor"]


class _Batch:
    """The one reply owed to an ActBatch: sent once each of its actions has its answer."""

    __slots__ = ("envelope", "errors", "failed", "group_of", "groups", "left", "results")

    def __init__(self, envelope: Envelope, batch: ActBatch) -> None:
        self.envelope = envelope
        self.left = len(batch.acts)
        self.groups = max(batch.groups, default=-1) + 1
        self.group_of = dict(zip((a.encounter for a in batch.acts), batch.groups, strict=False))
        self.results: list[ActResult] = []
        self.failed: list[int] = []
        self.errors: list[str] = []

    def add(self, encounter: int, answer: ActResult | BaseException) -> bool:
        """Record one action's answer; True when it was the last one owed."""
        if isinstance(answer, BaseException):
            self.failed.append(encounter)
            self.errors.append(str(answer))
        else:
            self.results.append(answer)
        self.left -= 1
        return self.left == 0

    def reply(self, codec: Codec) -> ActBatchResult:
        """The reply, each part in encounter order (with groups, each group's block)."""
        results = sorted(self.results, key=lambda r: r.report.encounter)
        failed = sorted(zip(self.failed, self.errors, strict=True))
        blocks: tuple[bytes, ...] = ()
        if self.groups:
            grouped: list[list[ActResult]] = [[] for _ in range(self.groups)]
            for result in results:
                grouped[self.group_of[result.report.encounter]].append(result)
            blocks = tuple(codec.encode_message(ActResults(tuple(g))) for g in grouped)
            results = []
        return ActBatchResult(
            tuple(results), tuple(e for e, _ in failed), tuple(m for _, m in failed), blocks
        )


Answerer = Envelope | _Batch
"""Who an action's answer goes to: its own request, or the batch it came in."""


class WorldActor(Actor):
    """The only actor that touches the engine."""

    topics = ("world.observe", "world.act", "world.act_batch", "world.ready", "world.close")
    capacity = 1 << 16
    restart = NEVER_RESTART

    def __init__(
        self,
        engine: Engine,
        ticks: int,
        seed: int,
        pace_s: float = 0.0,
        stall_s: float = math.inf,
    ) -> None:
        """``stall_s``: how long one tick may wait for CoreAgent and the TIPs before the World
        reports it stalled (``world.stalled``, naming what it waited for) and starts no more."""
        self.engine = engine
        self.stall_s = stall_s
        self._watchdog: asyncio.TimerHandle | None = None
        self.ticks = ticks
        self.seed = seed
        self.pace_s = pace_s
        self.tick = 0
        self._ready = False
        self._engaged: set[int] = set()
        self._acts: dict[int, tuple[Answerer, Act]] = {}
        self._closed: dict[int, str] = {}
        self._ended: tuple[int, ...] = ()
        self._tick_started = 0.0
        self._seen: WorldView | None = None
        self.finished = False

    def halt(self) -> None:
        """Start no further tick (the run was interrupted); pending actions get no reply."""
        self.finished = True

    async def on_start(self) -> None:
        self._seen = None
        self.engine.reset(self.seed)
        self.tick = 0
        await self._start_tick()

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case Act() as act:
                await self._on_act(envelope, act)
            case ActBatch(acts=acts, groups=groups) as request:
                if groups and len(groups) != len(acts):
                    error = ValueError(f"{len(groups)} groups for {len(acts)} actions")
                    self.bus.reply_error(envelope, error)
                    return
                batch = _Batch(envelope, request)
                if not acts:
                    self.reply(envelope, batch.reply(self.bus.codec))
                for act in acts:
                    await self._on_act(batch, act)
            case Observe(unengaged=unengaged):
                self.reply(envelope, self._sighting(unengaged))
            case TickReady(tick=tick, engage=engage) if tick == self.tick:
                self._engaged.update(engage)
                self._ready = True
                await self._maybe_resolve()
            case CloseEncounter(encounter=encounter, reason=reason):
                pending = self._acts.pop(encounter, None)
                if encounter in self._engaged or pending is not None:
                    # Closed until the engine reports it ended; one that ended already (its
                    # TIP crashed after its last act) is not reported again, so not kept.
                    self._engaged.discard(encounter)
                    self._closed[encounter] = reason
                self._seen = None
                if pending is not None:
                    self._answer(pending[0], encounter, EngineError(f"encounter closed: {reason}"))
                self.engine.close(encounter)
                await self._maybe_resolve()
            case other:
                raise TypeError(f"the world cannot handle {type(other).__name__}")

    async def _on_act(self, answerer: Answerer, act: Act) -> None:
        if self.finished:
            return  # the match is over: the TIP waits until the runtime stops it
        if act.encounter in self._closed:
            error = EngineError(f"encounter {act.encounter} is closed")
            self._answer(answerer, act.encounter, error)
            return
        if act.encounter in self._acts:
            self._answer(answerer, act.encounter, EngineError(f"two actions for {act.encounter}"))
            return
        self._engaged.add(act.encounter)
        self._acts[act.encounter] = (answerer, act)
        await self._maybe_resolve()

    def _answer(self, answerer: Answerer, encounter: int, answer: ActResult | Exception) -> None:
        """Send one action's answer: its own reply, or its batch's once that is complete."""
        if isinstance(answerer, _Batch):
            if answerer.add(encounter, answer):
                self.reply(answerer.envelope, answerer.reply(self.bus.codec))
        elif isinstance(answer, Exception):
            self.bus.reply_error(answerer, answer)
        else:
            self.reply(answerer, answer)

    def _observe(self) -> WorldView:
        """The engine's view, asked once between two changes of the engine (it is a pure read)."""
        if self._seen is None:
            self._seen = self.engine.observe()
        return self._seen

    def _sighting(self, unengaged: bool) -> Sighting:
        """What the bot sees now, and its projection on each opponent's floor."""
        view = self._view(unengaged)
        return Sighting(view, tuple(self.engine.projection(o.id) for o in view.opponents))

    def _view(self, unengaged: bool) -> WorldView:
        view = self._observe()
        if not unengaged or not (self._engaged or self._closed):
            return view
        engaged, closed = self._engaged, self._closed
        return WorldView(
            tick=self.tick,
            self_state=view.self_state,
            opponents=tuple(
                o for o in view.opponents if o.id not in engaged and o.id not in closed
            ),
        )

    async def _maybe_resolve(self) -> None:
        if self.finished or not self._ready or len(self._acts) < len(self._engaged):
            return
        if any(e not in self._acts for e in self._engaged):
            return
        await self._resolve()

    def _stalled(self, tick: int) -> None:
        """The watchdog: tick ``tick`` waited ``stall_s``; say for what, and stop the match."""
        if self.finished or tick != self.tick:
            return
        if not self._ready:
            waiting = "CoreAgent to handle its percept (world.ready)"
        else:
            missing = sorted(e for e in self._engaged if e not in self._acts)
            waiting = f"the actions of encounter(s) {', '.join(map(str, missing))}"
        self.finished = True
        self.bus.publish_nowait(
            "world.stalled", WorldStalled(tick, waiting, self.stall_s), sender=self.name
        )

    async def on_stop(self) -> None:
        """Fail every action still waiting for its tick (a crash, an interrupted run), so its
        TIP fails at once rather than at its request timeout."""
        if self._watchdog is not None:
            self._watchdog.cancel()
        acts, self._acts = self._acts, {}
        failed: set[int] = set()
        for answerer, _ in acts.values():
            envelope = answerer.envelope if isinstance(answerer, _Batch) else answerer
            if id(envelope) not in failed:  # a batch fails once
                failed.add(id(envelope))
                self.bus.fail_envelope(
                    envelope, ActorStopped(f"the world stopped before resolving tick {self.tick}")
                )

    async def _resolve(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        acts = self._acts  # left in place until resolved: a crash here fails them in on_stop
        self._seen = None
        resolution = resolve_tick(self.engine, self.tick, (act for _, act in acts.values()))
        self._acts = {}
        for encounter, result in resolution.results.items():
            if isinstance(result, EngineError):
                self._engaged.discard(encounter)
            self._answer(acts[encounter][0], encounter, result)
        for encounter in resolution.ended:
            self._engaged.discard(encounter)
            self._closed.pop(encounter, None)
        self._ended = resolution.ended
        view = self._observe()  # also the view the next tick's Observe gets
        take_failures = getattr(self.engine, "take_failures", None)  # a floor's game died
        for lost in take_failures() if take_failures is not None else ():
            await self.publish(
                FAILURE_TOPIC,
                ActorFailed(
                    actor=f"doom-floor-{lost.floor}", error_type=lost.error_type,
                    error=lost.error, traceback="", restarts=lost.restarts, action="restart",
                ),
            )
        take_episodes = getattr(self.engine, "take_episodes", None)  # real games' episodes
        for ep in take_episodes() if take_episodes is not None else ():
            await self.publish(
                "event.world.episode",
                EpisodeFinished(
                    tick=ep.tick, floor=ep.floor, episode=ep.episode, reward=ep.reward,
                    kills=ep.kills, died=ep.died,
                    patterns=tuple(signature_for(p) for p in ep.patterns),
                    shots=ep.shots, hits=ep.hits, damage_taken=ep.damage_taken,
                ),
            )
        await self.publish(
            "event.world.tick",
            TickEvent(
                tick=self.tick,
                self_node=view.self_state.node,
                self_health=view.self_state.health,
                opponents=len(view.opponents),
                active_tips=len(acts),  # the TIPs that played this tick
            ),
        )
        self.tick += 1
        if self.tick >= self.ticks:
            self.finished = True
            await self.publish("world.finished", WorldFinished(self.tick, self._ended))
            return
        await self._start_tick()

    async def _start_tick(self) -> None:
        if self.ticks == 0:
            self.finished = True
            await self.publish("world.finished", WorldFinished(0))
            return
        if self.pace_s > 0:
            loop = asyncio.get_running_loop()
            wait = self._tick_started + self.pace_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._tick_started = loop.time()
        if self.finished:
            return  # halted (an interrupted run): start no new tick
        self._ready = False
        await self.publish("world.tick", WorldTick(self.tick, self._ended, self._sighting(True)))
        if math.isfinite(self.stall_s):
            loop = asyncio.get_running_loop()
            self._watchdog = loop.call_later(self.stall_s, self._stalled, self.tick)
