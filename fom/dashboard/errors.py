"""Errors and warnings of the dashboard: one exception for the CLI, warnings for damaged streams."""

from __future__ import annotations

from fom.errors import FomError

__all__ = [
    "DashboardError",
    "EventStreamWarning",
    "MalformedEventWarning",
    "TruncatedStreamWarning",
]


class DashboardError(FomError):
    """Raised when an event stream cannot be read or a dashboard cannot be rendered or shown.

    The message is one clear line (what failed, on which path, what to do instead), so the CLI
    can print it as is and exit with status 2.
    """


class EventStreamWarning(UserWarning):
    """Base of the warnings issued while reading a damaged, but still usable, event stream."""


class TruncatedStreamWarning(EventStreamWarning):
    """Warned when the last line/object of a stream is incomplete; the events before it are used."""


class MalformedEventWarning(EventStreamWarning):
    """Warned when a record in the middle of a stream does not decode to an event and is skipped."""
