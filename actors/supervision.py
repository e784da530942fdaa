"""Restart policies: how many crashes an actor may have in a window before it stops or escalates."""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

__all__ = ["NEVER_RESTART", "Exhausted", "RestartPolicy", "RestartWindow"]


class Exhausted(enum.Enum):
    """What happens when an actor crashes more often than its policy allows."""

    STOP = "stop"
    """The actor stops; the rest of the system goes on."""
    ESCALATE = "escalate"
    """The runtime fails: every actor is stopped and the error propagates to its owner."""


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Restart up to ``max_restarts`` times within ``within`` seconds, then ``on_exhausted``."""

    max_restarts: int = 3
    within: float = 5.0
    on_exhausted: Exhausted = Exhausted.STOP

    def __post_init__(self) -> None:
        if self.max_restarts < 0 or self.within <= 0:
            raise ValueError("max_restarts must be >= 0 and within > 0")


NEVER_RESTART = RestartPolicy(max_restarts=0)


class RestartWindow:
    """Crash times of one actor, to decide whether the next restart is allowed."""

    __slots__ = ("_times", "policy", "restarts")

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self.restarts = 0
        self._times: deque[float] = deque()

    def allow(self, now: float) -> bool:
        """Record a crash at ``now``; True if the policy allows a restart."""
        times = self._times
        while times and now - times[0] > self.policy.within:
            times.popleft()
        if len(times) >= self.policy.max_restarts:
            return False
        times.append(now)
        self.restarts += 1
        return True
