"""The one statistics fold of a match: records in (live from the bus, or read from a recording),
counters and the run summary out.

CoreAgent's summary, the dashboard (live and on replay) and the experiments all fold the same
records with ``MatchStats.fold``, so the summary is a function of the stream alone:

- decisions: ``tip.shot`` records; shots: those that fired; hits; damage dealt (``damage``)
  and taken (``damage_taken``), summed over every decision, finished encounter or not;
- encounters: ``tip.finished``; kills, deaths, timeouts: those that ended ``killed``,
  ``died``, ``timeout``; compute_flops: summed over ``tip.finished``;
- failed TIPs: ``actor.failed`` of an actor named ``tip-...``; unfinished: TIPs started,
  neither finished nor failed; max active TIPs: the most that acted in one ``world.tick``;
- exposure: the mean over decisions; latency percentiles: of ``tip.shot.latency_ms``;
- ticks: ``world.tick`` records; planned requests: the ``requests`` of ``plan.done`` records;
- episodes (real games): ``world.episode`` records, those the bot died in, the mean of their
  ``reward``; per pattern, the episodes it was fought in and their mean reward.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fom.events.records import (
    ActorFailed,
    DeadLetterEvent,
    EpisodeFinished,
    LatencySummary,
    PatternMerged,
    PatternRejected,
    PatternSummary,
    PlanDone,
    RawEvent,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
)

__all__ = ["MatchStats", "PatternStats"]

TIP_PREFIX = "tip-"
"""Actor names of TIPs start with this (``tip-<encounter>``)."""

_CHUNK = 4096


@dataclass(slots=True)
class PatternStats:
    """One pattern's statistics (same definitions as the run's) and its latest parameters."""

    started: int = 0
    encounters: int = 0
    decisions: int = 0
    shots: int = 0
    hits: int = 0
    kills: int = 0
    deaths: int = 0
    damage_dealt: float = 0.0
    damage_taken: float = 0.0
    version: int = 0
    params: dict[str, float] = field(default_factory=dict)
    episodes: int = 0
    episode_reward: float = 0.0
    """Summed over ``episodes``."""

    @property
    def accuracy(self) -> float | None:
        """hits / shots, or None before the first shot."""
        return self.hits / self.shots if self.shots else None

    @property
    def engaged(self) -> bool:
        """Whether any encounter of this pattern was played (not only its parameters seen)."""
        return bool(self.started or self.decisions or self.encounters)


class _Samples:
    """A growing float64 sample, appended one value at a time in chunks of a numpy array."""

    __slots__ = ("_chunk", "_chunks", "_n")

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._chunk = np.empty(_CHUNK)
        self._n = 0

    def append(self, value: float) -> None:
        n = self._n
        if n == _CHUNK:
            self._chunks.append(self._chunk)
            self._chunk = np.empty(_CHUNK)
            n = 0
        self._chunk[n] = value
        self._n = n + 1

    def __len__(self) -> int:
        return len(self._chunks) * _CHUNK + self._n

    def values(self, last: int | None = None) -> np.ndarray:
        """Every sample in order (or the ``last`` ones), as one array."""
        head = self._chunk[: self._n]
        if last is not None and last <= self._n:
            return head[self._n - last :].copy()
        every = np.concatenate([*self._chunks, head]) if self._chunks else head.copy()
        return every if last is None else every[len(every) - last :]


class MatchStats:
    """Counters and per-pattern statistics folded from records, one record at a time."""

    def __init__(self) -> None:
        self.ticks = 0
        self.decisions = 0
        self.shots = 0
        self.hits = 0
        self.damage_dealt = 0.0
        self.damage_taken = 0.0
        self.exposure_sum = 0.0
        self.started = 0
        self.encounters = 0
        self.kills = 0
        self.deaths = 0
        self.timeouts = 0
        self.compute_flops = 0
        self.failed_tips = 0
        self.failures = 0
        self.max_active_tips = 0
        self.rejected_deltas = 0
        self.planned_requests = 0
        self.dead_letters = 0
        self.raw_events = 0
        self.episodes = 0
        self.episode_deaths = 0
        self.episode_reward = 0.0
        self.patterns: dict[str, PatternStats] = {}
        self.latencies_ms = _Samples()

    def pattern(self, signature: str) -> PatternStats:
        """The statistics of a pattern, created on first mention."""
        stats = self.patterns.get(signature)
        if stats is None:
            stats = self.patterns[signature] = PatternStats()
        return stats

    def fold(self, record: Any) -> None:
        """Fold one record; records that are not statistics (and RawEvents) change no total."""
        match record:  # the most frequent first
            case TipShot():
                p = self.patterns.get(record.signature) or self.pattern(record.signature)
                self.decisions += 1
                p.decisions += 1
                if record.fired:
                    self.shots += 1
                    p.shots += 1
                if record.hit:
                    self.hits += 1
                    p.hits += 1
                self.damage_dealt += record.damage
                p.damage_dealt += record.damage
                self.damage_taken += record.damage_taken
                p.damage_taken += record.damage_taken
                self.exposure_sum += record.exposure
                self.latencies_ms.append(record.latency_ms)
            case TickEvent(active_tips=active):
                self.ticks += 1
                if active > self.max_active_tips:
                    self.max_active_tips = active
            case PlanDone(requests=requests):
                self.planned_requests += requests
            case TipStarted():
                self.started += 1
                self.pattern(record.signature).started += 1
            case TipFinished(reason=reason):
                p = self.pattern(record.signature)
                self.encounters += 1
                p.encounters += 1
                self.compute_flops += record.compute_flops
                if reason == "killed":
                    self.kills += 1
                    p.kills += 1
                elif reason == "died":
                    self.deaths += 1
                    p.deaths += 1
                elif reason == "timeout":
                    self.timeouts += 1
            case PatternMerged():
                p = self.pattern(record.signature)
                p.version = record.version
                p.params.update(record.params)
            case RunStarted(patterns=patterns):
                for signature, params in patterns.items():
                    self.pattern(signature).params.update(params)
            case EpisodeFinished(reward=reward, died=died, patterns=fought):
                self.episodes += 1
                self.episode_deaths += died
                self.episode_reward += reward
                for signature in fought:
                    p = self.pattern(signature)
                    p.episodes += 1
                    p.episode_reward += reward
            case ActorFailed(actor=actor):
                self.failures += 1
                if actor.startswith(TIP_PREFIX):
                    self.failed_tips += 1
            case PatternRejected():
                self.rejected_deltas += 1
            case DeadLetterEvent():
                self.dead_letters += 1
            case RawEvent():
                self.raw_events += 1
            case _:  # run.finished, and records of other kinds: nothing to count
                pass

    # ------------------------------------------------------------------ derived

    @property
    def unfinished(self) -> int:
        """TIPs started that neither finished nor failed."""
        return max(0, self.started - self.encounters - self.failed_tips)

    @property
    def accuracy(self) -> float | None:
        """hits / shots, or None before the first shot."""
        return self.hits / self.shots if self.shots else None

    @property
    def exposure(self) -> float:
        """Mean exposure over decisions (0 before the first)."""
        return self.exposure_sum / self.decisions if self.decisions else 0.0

    def latency_ms(self, last: int | None = None) -> LatencySummary:
        """p50 and p99 of the decision latencies (of the ``last`` ones, when given), in ms."""
        sample = self.latencies_ms.values(last)
        if not sample.size:
            return LatencySummary(0.0, 0.0)
        p50, p99 = np.percentile(sample, [50, 99]).tolist()
        return LatencySummary(p50, p99)

    def summary(
        self, wall_s: float, params: Mapping[str, Mapping[str, float]] | None = None
    ) -> RunSummary:
        """The run summary so far; a pattern's ``params`` are taken from ``params`` when given
        (the caller's current ones), else the last ones seen in the stream."""
        patterns = {}
        for sig, p in sorted(self.patterns.items()):
            if not p.engaged:
                continue
            chosen = params.get(sig) if params is not None else None
            patterns[sig] = PatternSummary(
                encounters=p.encounters,
                shots=p.shots,
                hits=p.hits,
                accuracy=p.accuracy or 0.0,
                params=dict(chosen if chosen is not None else p.params),
                kills=p.kills,
                deaths=p.deaths,
                damage_dealt=p.damage_dealt,
                damage_taken=p.damage_taken,
                episodes=p.episodes,
                episode_reward=p.episode_reward / p.episodes if p.episodes else 0.0,
            )
        return RunSummary(
            ticks=self.ticks,
            encounters=self.encounters,
            unfinished=self.unfinished,
            failed_tips=self.failed_tips,
            shots=self.shots,
            hits=self.hits,
            accuracy=self.accuracy or 0.0,
            damage_taken=self.damage_taken,
            exposure=self.exposure,
            deaths=self.deaths,
            max_active_tips=self.max_active_tips,
            decisions=self.decisions,
            decisions_per_s=self.decisions / wall_s if wall_s > 0 else 0.0,
            latency_ms=self.latency_ms(),
            compute_flops=self.compute_flops,
            wall_s=wall_s,
            patterns=patterns,
            kills=self.kills,
            damage_dealt=self.damage_dealt,
            timeouts=self.timeouts,
            episodes=self.episodes,
            episode_deaths=self.episode_deaths,
            episode_reward=self.episode_reward / self.episodes if self.episodes else 0.0,
        )
