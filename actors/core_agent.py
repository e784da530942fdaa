"""CoreAgent: spawns one TIP per new encounter, keeps the match statistics and fresh parameters."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from actors.actor import Actor
from actors.channels import (
    CloseEncounter,
    LatencySummary,
    PatternSummary,
    PatternUpdated,
    Percept,
    RunSummary,
    SummaryRequest,
    TickReady,
    TipReport,
    TipStart,
)
from actors.channels.model import KnowledgeSnapshot, PatternParams
from actors.messages import ActorFailed
from actors.runtime import FAILURE_TOPIC
from actors.tip import Tip
from bus import Envelope
from fom.patterns import PatternStore, signature_for

__all__ = ["CoreAgent"]


@dataclass(slots=True)
class _PatternStats:
    encounters: int = 0
    shots: int = 0
    hits: int = 0


@dataclass(slots=True)
class _Stats:
    encounters: int = 0
    shots: int = 0
    hits: int = 0
    ticks: int = 0
    damage_taken: float = 0.0
    exposure_sum: float = 0.0
    encounter_ticks: int = 0
    deaths: int = 0
    failed: int = 0
    max_active: int = 0
    compute_flops: int = 0
    latencies: list[np.ndarray] = field(default_factory=list)
    patterns: dict[str, _PatternStats] = field(default_factory=dict)


class CoreAgent(Actor):
    """The coach: decides which encounters get a TIP and keeps score."""

    topics = ("percept", "pattern.updated", "tip.report", FAILURE_TOPIC, "core.summary")
    capacity = 1 << 16

    def __init__(
        self,
        *,
        max_tips: int,
        run_seed: int,
        defaults: PatternStore,
        tip_factory: Callable[[], Tip],
    ) -> None:
        self.max_tips = max_tips
        self.run_seed = run_seed
        self.defaults = defaults
        self.params: dict[str, PatternParams] = dict(defaults.all())
        self.tip_factory = tip_factory
        self.active: dict[str, int] = {}
        self.stats = _Stats()
        self._started = time.perf_counter()

    async def receive(self, envelope: Envelope) -> None:
        match envelope.message:
            case Percept() as percept:
                await self._on_percept(percept)
            case PatternUpdated(params=params):
                self.params[params.signature] = params
            case TipReport() as report:
                self._on_report(report)
            case ActorFailed(actor=name) if name in self.active:
                encounter = self.active.pop(name)
                self.stats.failed += 1
                await self.publish("world.close", CloseEncounter(encounter, "tip failed"))
            case ActorFailed():
                pass
            case SummaryRequest(wall_s=wall_s):
                self.reply(envelope, self.summary(wall_s))
            case other:
                raise TypeError(f"CoreAgent cannot handle {type(other).__name__}")

    async def _on_percept(self, percept: Percept) -> None:
        self.stats.ticks = percept.tick + 1
        engage: list[int] = []
        busy = set(self.active.values())
        for opponent, projection in zip(percept.opponents, percept.projections, strict=True):
            if len(self.active) >= self.max_tips:
                break
            if opponent.id in busy:
                continue
            signature = signature_for(opponent.weapon)
            params = self.params.get(signature)
            if params is None:
                params = self.params[signature] = self.defaults.get(signature)
            name = f"tip-{opponent.id}"
            self.runtime.spawn(self.tip_factory(), name=name)
            self.active[name] = opponent.id
            engage.append(opponent.id)
            await self.tell(
                name,
                TipStart(
                    encounter=opponent.id,
                    tick=percept.tick,
                    run_seed=self.run_seed,
                    weapon=opponent.weapon,
                    signature=signature,
                    knowledge=KnowledgeSnapshot(percept.tick, projection, (opponent,)),
                    projection=projection,
                    params=params,
                ),
            )
        self.stats.max_active = max(self.stats.max_active, len(self.active))
        await self.publish("world.ready", TickReady(percept.tick, tuple(engage)))

    def _on_report(self, r: TipReport) -> None:
        self.active.pop(r.tip, None)
        s = self.stats
        s.encounters += 1
        s.shots += r.shots
        s.hits += r.hits
        s.damage_taken += r.damage_taken
        s.exposure_sum += r.exposure_sum
        s.encounter_ticks += r.ticks
        s.deaths += r.reason == "died"
        s.compute_flops += r.compute_flops
        s.latencies.append(r.latencies_ns)
        p = s.patterns.setdefault(r.signature, _PatternStats())
        p.encounters += 1
        p.shots += r.shots
        p.hits += r.hits

    def summary(self, wall_s: float) -> RunSummary:
        """The run's statistics so far."""
        s = self.stats
        lat = np.concatenate(s.latencies) if s.latencies else np.zeros(0, dtype=np.int64)
        p50, p99 = (np.percentile(lat, [50, 99]) / 1e6).tolist() if lat.size else (0.0, 0.0)
        patterns = {
            sig: PatternSummary(
                encounters=p.encounters,
                shots=p.shots,
                hits=p.hits,
                accuracy=p.hits / p.shots if p.shots else 0.0,
                params=self.params[sig].as_dict() if sig in self.params else {},
            )
            for sig, p in sorted(s.patterns.items())
        }
        return RunSummary(
            ticks=s.ticks,
            encounters=s.encounters,
            unfinished=len(self.active),
            failed_tips=s.failed,
            shots=s.shots,
            hits=s.hits,
            accuracy=s.hits / s.shots if s.shots else 0.0,
            damage_taken=s.damage_taken,
            exposure=s.exposure_sum / s.encounter_ticks if s.encounter_ticks else 0.0,
            deaths=s.deaths,
            max_active_tips=s.max_active,
            decisions=int(lat.size),
            decisions_per_s=lat.size / wall_s if wall_s > 0 else 0.0,
            latency_ms=LatencySummary(p50, p99),
            compute_flops=s.compute_flops,
            wall_s=wall_s,
            patterns=patterns,
        )
