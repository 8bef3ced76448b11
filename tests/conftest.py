"""Fixtures shared by every test: a real local server over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness import LocalServer, kill_marked, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server per test module (its own data dir), stopped gracefully at the end."""
    data_dir = tmp_path_factory.mktemp("server")
    with running_server(data_dir) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated HTTP client for the module's server."""
    with server.client() as client:
        yield client


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir for a test that starts its own server(s); leaves no process behind."""
    path = tmp_path / "data"
    yield path
    kill_marked(path)
