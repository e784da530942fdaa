"""The dashboard actor: folds the event stream into a DashboardState and draws it.

It subscribes with a drop-oldest mailbox, so a slow draw sheds telemetry instead of holding
the simulation back (the bus counts what was dropped). It shares the simulation's event loop,
so folding must be cheap: each wake-up takes every envelope already waiting and folds the
decoded records straight into the state's typed updates (no event dict, no per-field checks:
the codec has checked the types); only rare records (`run.started`, `run.finished`, anything
unknown) go through the event-dict path. Drawing happens at most every ``refresh_s`` (live)
and once at the end (PNG).
"""

from __future__ import annotations

import time
from typing import Any

from actors.actor import Actor
from actors.channels.events import (
    PatternMerged,
    PatternRejected,
    PlanDone,
    TickEvent,
    TipFinished,
    TipShot,
    TipStarted,
)
from actors.event_log import event_fields
from actors.messages import ActorFailed
from bus import DEAD_LETTER_TOPIC, Envelope, Overflow
from bus.messages import DeadLetter
from fom.dashboard import DashboardState, LiveWindow, save_png

__all__ = ["DashboardActor"]


class DashboardActor(Actor):
    """Draws the final frame to ``png`` and/or refreshes a live window every ``refresh_s``."""

    topics = ("event.>", DEAD_LETTER_TOPIC)
    capacity = 1 << 15
    overflow = Overflow.DROP_OLDEST
    drain_on_stop = True

    def __init__(self, *, png: str | None, live: bool, refresh_s: float = 0.5) -> None:
        self.png = png
        self.live = live
        self.refresh_s = refresh_s
        self.state = DashboardState()
        self.window: LiveWindow | None = None
        self._tags: dict[type, str] = {}
        self._last_draw = 0.0
        self._t0 = time.perf_counter()

    async def on_start(self) -> None:
        if self.live and self.window is None:
            self.window = LiveWindow("FOM dashboard")

    async def receive(self, envelope: Envelope) -> None:
        """Fold this envelope and every one already waiting, then maybe refresh the window."""
        waiting = self.take_waiting() if self.name else []
        self._fold(envelope.message)
        for other in waiting:
            self._fold(other.message)
        now = time.perf_counter()
        self.state.received(1 + len(waiting), now - self._t0)
        if self.window is not None and now - self._last_draw >= self.refresh_s:
            self._last_draw = now
            if not self.window.refresh(self.state):
                self.window = None  # closed by hand: the run goes on headless

    def _fold(self, msg: Any) -> None:
        """Fold one decoded record's fields (not its envelope) into the state, by record type."""
        state = self.state
        match msg:  # the most frequent first
            case TipShot():
                state.at_tick(msg.tick)
                state.fold_tip_shot(
                    msg.tip, msg.encounter, msg.signature, msg.hit, msg.damage_taken,
                    msg.self_node, msg.enemy_node, msg.path,
                )
            case TipStarted():
                state.at_tick(msg.tick)
                state.fold_tip_started(
                    msg.tip, msg.encounter, msg.signature, msg.weapon, msg.self_node,
                    msg.enemy_node, msg.floor,
                )
            case TipFinished():
                state.at_tick(msg.tick)
                state.fold_tip_finished(msg.tip, msg.encounter, msg.signature)
            case PatternMerged():
                state.at_tick(msg.tick)
                state.fold_pattern(msg.signature, msg.params, msg.version)
            case TickEvent():
                state.at_tick(msg.tick)
                state.fold_world_tick(
                    msg.self_node, msg.self_health, msg.opponents, msg.active_tips
                )
            case PlanDone():
                state.at_tick(msg.tick)
                state.fold_plan_done(msg.requests, msg.elapsed_ms)
            case PatternRejected():
                state.at_tick(msg.tick)
                state.fold_pattern_rejected()
            case ActorFailed():
                state.fold_actor_failed()
            case DeadLetter():
                state.fold_dead_letter()
            case _:  # run.started, run.finished, anything else: the event-dict path
                cls = type(msg)
                tag = self._tags.get(cls)
                if tag is None:
                    tag = self._tags[cls] = self.bus.registry.tag_of(cls)
                tick = getattr(msg, "tick", None)
                if isinstance(tick, int):
                    state.at_tick(tick)
                fields = event_fields(msg)
                state.fold_fields(tag, fields if isinstance(fields, dict) else {})

    async def on_stop(self) -> None:
        if self.png:
            save_png(self.state, self.png)
        if self.window is not None:
            self.window.refresh(self.state)
            self.window.close()
