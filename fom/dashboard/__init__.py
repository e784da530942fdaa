"""The FOM dashboard: fold event records into a state, draw it (headless or live), replay
recordings.

Pure and synchronous: no asyncio and no bus here. ``fom-dash`` feeds it the event dicts of a
recording, which it decodes to the records of ``fom.events``; the dashboard actor folds the
records the bus decoded. Only `live` imports pyplot.
"""

from fom.dashboard.errors import (
    DashboardError,
    EventStreamWarning,
    MalformedEventWarning,
    TruncatedStreamWarning,
)
from fom.dashboard.live import LiveWindow, has_display, interactive_backend
from fom.dashboard.render import AXIS_TITLES, Dashboard, save_png
from fom.dashboard.replay import RenderResult, detect_format, read_events, render_file
from fom.dashboard.state import DashboardState, LevelView, weapon_of

__all__ = [
    "AXIS_TITLES",
    "Dashboard",
    "DashboardError",
    "DashboardState",
    "EventStreamWarning",
    "LevelView",
    "LiveWindow",
    "MalformedEventWarning",
    "RenderResult",
    "TruncatedStreamWarning",
    "detect_format",
    "has_display",
    "interactive_backend",
    "read_events",
    "render_file",
    "save_png",
    "weapon_of",
]
