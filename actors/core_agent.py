"""CoreAgent: starts one TIP per new encounter, keeps fresh parameters and the match statistics.

Lockstep: the percept of tick ``t`` names the encounters that ended at ``t - 1``; CoreAgent
handles it only once each of their TIPs has finished (or failed), it has told the ULP to merge
their deltas in encounter order (``pattern.commit``), and the ULP has answered each
(``pattern.updated``), so the parameters a new TIP starts from never depend on message timing.
The encounters that ended at the last tick are committed the same way (``world.finished``),
and a summary asked for meanwhile waits for them.
Parameters are learned only from ``pattern.updated``; statistics are the one fold of the event
records (:class:`fom.events.stats.MatchStats`), the same as a recording's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from actors.actor import Actor
from actors.channels import (
    CloseEncounter,
    CommitDeltas,
    PatternUpdated,
    Percept,
    RunSummary,
    SummaryRequest,
    TickEvent,
    TickReady,
    TipFinished,
    TipShot,
    TipStart,
    WorldFinished,
)
from actors.channels.model import PatternParams
from actors.messages import ActorFailed
from actors.runtime import FAILURE_TOPIC
from actors.supervision import NEVER_RESTART
from actors.tip import Tip
from bus import Envelope
from fom.events.stats import MatchStats
from fom.learners.base import learning_pattern
from fom.match import pick_engagements, snapshot_for, tip_name
from fom.patterns import PatternStore, signature_for

__all__ = ["CoreAgent"]


def _stream_order(shot: TipShot) -> tuple[int, int]:
    return shot.tick, shot.encounter


class CoreAgent(Actor):
    """The coach: decides which encounters get a TIP and keeps score."""

    restart = NEVER_RESTART  # a lost percept would stall the lockstep: a crash ends the run

    topics = ("percept", "pattern.updated", "event.tip.>", "event.world.tick",
              "event.world.episode", FAILURE_TOPIC, "core.summary",
              "world.finished")  # fmt: skip
    capacity = 1 << 16

    def __init__(
        self,
        *,
        max_tips: int,
        run_seed: int,
        learner: str,
        defaults: PatternStore,
        tip_factory: Callable[[], Tip],
        host: str | None = None,
    ) -> None:
        """``host``: the actor that fights every encounter (a run whose TIPs live on worker
        processes) is told each TipStart; without it, CoreAgent spawns one TIP per encounter."""
        self.host = host
        self.max_tips = max_tips
        self.run_seed = run_seed
        self.learner = learner
        self._defaults = defaults
        """CoreAgent's own store, only for the starting values of patterns never merged yet."""
        self.params: dict[str, PatternParams] = {}
        self.tip_factory = tip_factory
        self.tips: dict[int, str] = {}
        """Encounter -> name of its running TIP."""
        self._encounter_of: dict[str, int] = {}
        self._fought: set[int] = set()
        """Encounters given a TIP whose end the percepts have not consumed yet."""
        self._finished: set[int] = set()
        """Fought encounters whose ``tip.finished`` came (their delta is the ULP's)."""
        self._updated: set[int] = set()
        """Fought encounters the ULP answered (``pattern.updated``)."""
        self._commit: tuple[int, ...] | None = None
        """What was committed for the first waiting percept (None: not yet)."""
        self._head: tuple[list[int], set[int]] | None = None
        """The first waiting percept's fought ends and those whose TIP still runs (None: not
        looked at yet); kept so each message costs O(1), not a pass over the tick's ends."""
        self._unanswered: set[int] = set()
        """Committed encounters the ULP has not answered yet."""
        self._percepts: deque[tuple[tuple[int, ...], Percept | None]] = deque()
        """(ended encounters, percept) in tick order; None for the end of the match."""
        self._ending = False
        self._summaries: list[Envelope] = []
        self._ulp_gone = False
        self.stats = MatchStats()
        self._shots: list[TipShot] = []
        """``tip.shot`` records whose tick is not whole yet (see ``_fold_shots``)."""

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case Percept() as percept:
                self._percepts.append((percept.ended, percept))
                await self._next_percepts()
            case WorldFinished(ended=ended):
                self._ending = True
                self._percepts.append((ended, None))
                await self._next_percepts()
            case PatternUpdated(params=params, encounter=encounter):
                self.params[params.signature] = params
                self._answer(encounter)
                await self._next_percepts()
            case TipFinished(encounter=encounter, tip=name) as record:
                self.stats.fold(record)
                if self.tips.get(encounter) == name:
                    del self.tips[encounter]
                    self._ran(encounter)
                    self._encounter_of.pop(name, None)
                    if encounter in self._fought:
                        self._finished.add(encounter)
                    await self._next_percepts()
            case ActorFailed(actor="ulp", action=action) as failure:
                self.stats.fold(failure)
                if action != "restart":  # no ULP any more: no answer will come
                    self._ulp_gone = True
                    await self._next_percepts()
            case ActorFailed(actor=name) as failure:
                self.stats.fold(failure)
                encounter = self._encounter_of.pop(name, None)
                if encounter is not None:
                    del self.tips[encounter]  # nothing more will come of it: no delta merged
                    self._ran(encounter)
                    await self.publish("world.close", CloseEncounter(encounter, "tip failed"))
                    await self._next_percepts()
            case SummaryRequest(wall_s=wall_s) if self._ending:
                self._summaries.append(envelope)  # once the last tick's ends are merged
            case SummaryRequest(wall_s=wall_s):
                self.reply(envelope, self.summary(wall_s))
            case TipShot() as shot:  # folded in the stream's order once its tick is whole
                self._shots.append(shot)
            case TickEvent(tick=tick) as record:
                self._fold_shots(before=tick)
                self.stats.fold(record)
            case record:
                self.stats.fold(record)

    def _fold_shots(self, before: int | None = None) -> None:
        """Fold the shots held of ticks before ``before`` (all with None) in the event
        stream's order, (tick, encounter): float sums then never depend on arrival order."""
        held = self._shots
        if before is None:
            ready, self._shots = held, []
        else:
            ready = [s for s in held if s.tick < before]
            self._shots = [s for s in held if s.tick >= before] if len(ready) < len(held) else []
        ready.sort(key=_stream_order)
        fold = self.stats.fold
        for shot in ready:
            fold(shot)

    def _answer(self, encounter: int) -> None:
        if encounter in self._fought:  # not -1 (loaded patterns), nor an answer come too late
            self._updated.add(encounter)
            self._unanswered.discard(encounter)

    def _ran(self, encounter: int) -> None:
        if self._head is not None:
            self._head[1].discard(encounter)

    async def _settled(self, ended: tuple[int, ...]) -> bool:
        """Whether the encounters that ended at one tick are settled: each TIP finished or
        failed, then (once) the finished ones committed, then each answered by the ULP."""
        if self._head is None:
            fought = [e for e in ended if e in self._fought]
            self._head = (fought, {e for e in fought if e in self.tips})
        fought, running = self._head
        if running:
            return False
        if self._commit is None:
            self._commit = tuple(sorted(e for e in fought if e in self._finished))
            self._unanswered = {e for e in self._commit if e not in self._updated}
            if self._commit and not self._ulp_gone:
                await self.publish("pattern.commit", CommitDeltas(self._commit))
        return self._ulp_gone or not self._unanswered

    async def _next_percepts(self) -> None:
        """Handle the waiting percepts whose ended encounters are all settled, in order."""
        percepts = self._percepts
        while percepts and await self._settled(percepts[0][0]):
            ended, percept = percepts.popleft()
            self._commit = None
            self._head = None
            for e in ended:
                self._finished.discard(e)
                self._updated.discard(e)
                self._fought.discard(e)
            if percept is not None:
                await self._on_percept(percept)
                continue
            self._ending = False  # the match's last ends are merged: the summary may go
            summaries, self._summaries = self._summaries, []
            for waiting in summaries:
                self.reply(waiting, self.summary(waiting.message.wall_s))

    async def _on_percept(self, percept: Percept) -> None:
        engage: list[int] = []
        room = self.max_tips - len(self.tips)
        picked = pick_engagements(percept.opponents, room)
        for opponent, projection in zip(picked, percept.projections, strict=False):  # a prefix
            signature = signature_for(opponent.weapon)
            pattern = learning_pattern(self.learner, signature)
            params = self.params.get(pattern)
            if params is None:
                params = self.params[pattern] = self._defaults.get(pattern)
            name = tip_name(opponent.id)
            if self.host is None:
                self.runtime.spawn(self.tip_factory(), name=name)
            self.tips[opponent.id] = name
            self._fought.add(opponent.id)
            self._encounter_of[name] = opponent.id
            engage.append(opponent.id)
            await self.tell(
                self.host or name,
                TipStart(
                    encounter=opponent.id,
                    tick=percept.tick,
                    run_seed=self.run_seed,
                    weapon=opponent.weapon,
                    signature=signature,
                    pattern=pattern,
                    knowledge=snapshot_for(percept.tick, projection, opponent),
                    params=params,
                ),
            )
        await self.publish("world.ready", TickReady(percept.tick, tuple(engage)))

    def summary(self, wall_s: float) -> RunSummary:
        """The run's statistics so far (the fold of every event record CoreAgent received)."""
        self._fold_shots()
        return self.stats.summary(wall_s, {s: p.as_dict() for s, p in self.params.items()})
