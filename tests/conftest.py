"""Shared fixtures: a real ``nats-server`` for the NATS tests (skipped only without one); the
slow tests first, so that pytest-xdist's workers start the long ones while the short fill in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.server import INSTALL_HINT, NatsServer, nats_server_binary


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A fresh ``nats-server`` on a free loopback port, stopped after the test."""
    if nats_server_binary() is None:
        pytest.skip(f"no nats-server binary: {INSTALL_HINT}")
    with NatsServer() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests marked ``slow`` first (a stable sort: the rest keep their order)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
