"""Errors and warnings of the dashboard: one exception for the CLI; the warnings for damaged
streams are the event reader's (``fom.events``)."""

from __future__ import annotations

from fom.errors import FomError
from fom.events.reader import (
    EventStreamWarning,
    MalformedEventWarning,
    TruncatedStreamWarning,
)

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
