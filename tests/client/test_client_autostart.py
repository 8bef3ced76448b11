"""``AsyncClient.local()``: find the local server, or start one detached, and wait for it."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from currenttools import CURRENT
from workloadlab.client import AsyncClient
from workloadlab.client.local import ensure_server
from workloadlab.connection import ServerConnection, read_connection, write_connection
from workloadlab.errors import ConfigError

from harness import LocalServer, free_port, kill_marked


def _stop(pid: int, sig: int = signal.SIGTERM) -> None:
    """End a server this test started (by its pid) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child, or already reaped
            done = pid if not _alive(pid) else 0
        if done:
            return
        time.sleep(0.02)
    raise AssertionError(f"server {pid} did not exit")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def local_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir whose running server is stopped after the test."""
    path = tmp_path / "local"
    yield path
    connection = read_connection(path)
    if connection is not None and connection.pid != os.getpid():
        _stop(connection.pid)
    kill_marked(path)


async def test_local_starts_a_detached_server_and_reuses_it(local_dir: Path) -> None:
    client = await AsyncClient.local(local_dir)
    async with client:
        assert client.endpoint.startswith("http://127.0.0.1:")
        assert client.config_source == f"local server ({local_dir})"
        assert (await client.workloads.list()).data == []
    connection = read_connection(local_dir)
    assert connection is not None
    assert connection.pid_alive()
    assert os.getsid(connection.pid) != os.getsid(0), "the server has its own session"
    assert (local_dir / "server.log").exists()

    # It outlives the client; the next local() finds it instead of starting another.
    async with AsyncClient.local(local_dir) as again:
        assert again.endpoint == client.endpoint
        await again.workloads.list()
    assert read_connection(local_dir) == connection


async def test_local_replaces_a_stale_connection_file(local_dir: Path) -> None:
    async with AsyncClient.local(local_dir):
        pass
    crashed = read_connection(local_dir)
    assert crashed is not None
    _stop(crashed.pid, signal.SIGKILL)  # a crash: the connection file stays behind
    assert read_connection(local_dir) == crashed

    async with AsyncClient.local(local_dir) as second:
        await second.workloads.list()
    restarted = read_connection(local_dir)
    assert restarted is not None
    assert restarted.pid != crashed.pid


async def test_a_live_pid_that_does_not_answer_is_stale(local_dir: Path) -> None:
    # A reused pid (ours) and a port nothing listens on: not a server.
    stale = ServerConnection(f"http://127.0.0.1:{free_port()}/api/v2", "old", os.getpid())
    write_connection(local_dir, stale)
    async with AsyncClient.local(local_dir) as client:
        await client.workloads.list()
    connection = read_connection(local_dir)
    assert connection is not None
    assert connection.pid != os.getpid()


async def test_plain_client_discovers_the_running_local_server(
    local_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncClient.local(local_dir) as started:
        pass
    monkeypatch.setenv("WORKLOADLAB_DATA_DIR", str(local_dir))
    async with AsyncClient() as client:
        assert client.endpoint == started.endpoint
        assert client.config_source.startswith("local server")
        await client.workloads.list()
    # The environment still beats it.
    monkeypatch.setenv("DATAROBOT_ENDPOINT", "https://app.datarobot.com")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "dr-token")
    assert AsyncClient().endpoint == "https://app.datarobot.com/api/v2"


async def test_a_server_that_cannot_start_says_why(local_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"exited with code 2(.|\n)*unrecognized arguments"):
        await ensure_server(local_dir, extra_args=("--no-such-flag",))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"cannot use .* as the local server's data dir"):
        await AsyncClient.local(blocker / "data")


async def test_local_finds_a_running_server_of_the_current_generation(local_dir: Path) -> None:
    """A server started as ``serve --api current`` is found and used, not a second one started
    beside it (which would refuse the data dir in use)."""
    started = LocalServer(local_dir, CURRENT).start()
    try:
        async with AsyncClient.local(local_dir) as client:
            assert client.endpoint == started.endpoint
            assert await client.generation() == "current"
    finally:
        started.stop()
