"""Shared fixtures: a real ``nats-server`` for the NATS tests (skipped only without one)."""

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
