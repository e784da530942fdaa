"""The actor runtime's exceptions."""

from __future__ import annotations

__all__ = ["ActorError", "ActorEscalation", "ActorNotFound", "RuntimeStopped", "SpawnError"]


class ActorError(Exception):
    """Raised when the actor runtime cannot do what was asked; the base of its exceptions."""


class SpawnError(ActorError):
    """Raised when an actor cannot be spawned (duplicate name, runtime not running)."""


class ActorNotFound(ActorError, LookupError):
    """Raised when an actor is addressed by a name the runtime does not know."""


class RuntimeStopped(ActorError):
    """Raised when spawning on a runtime that is stopping or stopped."""


class ActorEscalation(ActorError):
    """Raised out of the runtime when an actor ran out of restarts under ``escalate``."""
