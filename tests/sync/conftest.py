"""Fixtures of the live-sync tests: a client of the module's real local server (``server``
comes from ``tests/conftest.py``) and the syncs of the test, all stopped at its end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workloadlab.client import AsyncClient
from workloadlab.sync import Syncs

from harness import LocalServer
from synctools import sync_threads


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncClient]:
    """A client of the module's local server."""
    async with AsyncClient(server.endpoint, server.token) as client:
        yield client


@pytest.fixture
async def syncs() -> AsyncIterator[Syncs]:
    """The test's live syncs; none may leave a watcher thread behind."""
    syncs = Syncs()
    yield syncs
    await syncs.end_all()
    assert not sync_threads(), "a stopped sync leaves no watcher thread"
