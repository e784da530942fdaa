"""The actor runtime (Actor, Runtime, supervision) and FOM's actors, one module each."""

from actors.actor import Actor, address_of
from actors.errors import (
    ActorError,
    ActorEscalation,
    ActorNotFound,
    RuntimeStopped,
    SpawnError,
)
from actors.gc_policy import GcPolicy
from actors.loop import loop_factory, run
from actors.messages import ActorFailed
from actors.runtime import FAILURE_TOPIC, ActorRef, Runtime
from actors.supervision import NEVER_RESTART, Exhausted, RestartPolicy, RestartWindow

__all__ = [
    "FAILURE_TOPIC",
    "NEVER_RESTART",
    "Actor",
    "ActorError",
    "ActorEscalation",
    "ActorFailed",
    "ActorNotFound",
    "ActorRef",
    "Exhausted",
    "GcPolicy",
    "RestartPolicy",
    "RestartWindow",
    "Runtime",
    "RuntimeStopped",
    "SpawnError",
    "address_of",
    "loop_factory",
    "run",
]
