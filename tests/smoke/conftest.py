"""Fixtures of the smoke checks' tests: a client of the module's real local server (``server``
comes from ``tests/conftest.py``) and a smoke file in the test's own directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workloadlab.client import AsyncClient

from harness import LocalServer


@pytest.fixture
async def wl(server: LocalServer) -> AsyncIterator[AsyncClient]:
    """A client of the module's local server."""
    async with AsyncClient(server.endpoint, server.token) as client:
        yield client


@pytest.fixture
def smoke_path(tmp_path: Path) -> Path:
    """Where the test's smoke file goes."""
    return tmp_path / "workloadlab-smoke.yaml"
