"""The transport seam: one call gives the bus for a URL (none: the in-process bus)."""

from __future__ import annotations

from typing import Any

from bus.bus import Bus

__all__ = ["open_bus"]


async def open_bus(url: str | None = None, **options: Any) -> Bus:
    """The in-process :class:`Bus` without ``url``; a connected ``NatsBus`` for
    ``nats://HOST:PORT`` (``BusUnavailable`` in one line when no server answers there)."""
    if not url:
        return Bus(**options)
    from bus.nats import NatsBus  # nats-py loads only for a networked run

    return await NatsBus.connect(url, **options)
