"""Fixtures for the client's tests: an isolated configuration, DataRobot's cloud mocked with
respx, and a client of the real local server (``server`` comes from ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import respx

from workloadlab.client import AsyncClient

from clienttools import CLOUD, CLOUD_TOKEN, FAST_POLLING, Sleeps
from harness import LocalServer

CONFIG_VARIABLES = (
    "DATAROBOT_ENDPOINT",
    "DATAROBOT_API_ENDPOINT",
    "DATAROBOT_API_TOKEN",
    "DATAROBOT_CONFIG_FILE",
    "DATAROBOT_CLI_CONFIG",
    "DATAROBOT_SSL_VERIFY",
    "DATAROBOT_WORKLOAD_API",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)
"""What the client reads from the environment (proxies in either case, as urllib reads them)."""


@pytest.fixture(autouse=True)
def isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DataRobot settings, drconfig.yaml or local server from the machine leak into a test."""
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WORKLOADLAB_DATA_DIR", str(tmp_path / "no-local-server"))
    return home


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def cloud_mock() -> Iterator[respx.MockRouter]:
    """DataRobot's cloud API, mocked; unmatched requests fail the test. It speaks v2.41: the
    current generation's ``/workloads/?limit=1`` (the client's detection) answers ``404`` until
    a test changes the route named ``detect``."""
    with respx.mock(base_url=CLOUD, assert_all_called=False) as router:
        router.get("/workloads/", params={"limit": "1"}, name="detect").respond(
            404, json={"detail": "Not Found"}
        )
        yield router


@pytest.fixture
async def cloud(cloud_mock: respx.MockRouter, sleeps: Sleeps) -> AsyncIterator[AsyncClient]:
    """A client of the mocked cloud whose retries and polls sleep in fake time."""
    async with AsyncClient(CLOUD, CLOUD_TOKEN, polling=FAST_POLLING) as client:
        client._requester.sleep = sleeps
        yield client


@pytest.fixture
async def wl(server: LocalServer) -> AsyncIterator[AsyncClient]:
    """A client of the module's real local server."""
    async with AsyncClient(server.endpoint, server.token, polling=FAST_POLLING) as client:
        yield client
