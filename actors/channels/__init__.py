"""FOM's messages, one module per channel; importing this registers them all with the bus."""

from actors.channels.agent import Percept, SummaryRequest, TipStart
from actors.channels.atari import AtariPlanReply, AtariPlanRequest, GameFinished, GameStep
from actors.channels.events import (
    LatencySummary,
    LevelInfo,
    PatternMerged,
    PatternRejected,
    PatternSummary,
    PlanDone,
    RunFinished,
    RunStarted,
    RunSummary,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
)
from actors.channels.pattern import PatternDelta, PatternUpdated
from actors.channels.plan import PlanChoice, PlanProblem
from actors.channels.workers import (
    DriverAlive,
    PlanBatch,
    PlanBatchReply,
    WorkerAlive,
)
from actors.channels.world import (
    Act,
    ActResult,
    CloseEncounter,
    Observe,
    Sighting,
    TickReady,
    WorldFinished,
    WorldStalled,
    WorldTick,
)

__all__ = [
    "Act",
    "ActResult",
    "AtariPlanReply",
    "AtariPlanRequest",
    "CloseEncounter",
    "DriverAlive",
    "GameFinished",
    "GameStep",
    "LatencySummary",
    "LevelInfo",
    "Observe",
    "PatternDelta",
    "PatternMerged",
    "PatternRejected",
    "PatternSummary",
    "PatternUpdated",
    "Percept",
    "PlanBatch",
    "PlanBatchReply",
    "PlanChoice",
    "PlanDone",
    "PlanProblem",
    "RunFinished",
    "RunStarted",
    "RunSummary",
    "Sighting",
    "SummaryRequest",
    "TickEvent",
    "TickReady",
    "TipFinished",
    "TipShot",
    "TipStart",
    "TipStarted",
    "WorkerAlive",
    "WorldFinished",
    "WorldStalled",
    "WorldTick",
]
