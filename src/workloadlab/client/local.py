"""Finding the local server, and starting one in the background when none answers.

The server writes ``<data-dir>/server.json`` (endpoint, token, pid) once it listens. A file
whose process is gone, or whose server does not answer an authenticated request, is stale (a
crash, a reboot, a reused pid): a new server is started. It is detached (its own session,
output in ``<data-dir>/server.log``) so that it outlives the kernel that started it; a lock
file keeps two kernels from starting two servers on the same data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from workloadlab.client.config import normalize_endpoint
from workloadlab.connection import (
    CONNECTION_FILE,
    SERVER_LOG,
    START_LOCK,
    ServerConnection,
    make_private_dir,
    open_private,
    read_connection,
)
from workloadlab.errors import ConfigError

LIVENESS_PATHS = ("console/workloads/", "workloads/")
"""The workloads list of each generation (``serve --api v2.41|current``): one answers ``200``."""
PROBE_TIMEOUT = 2.0
START_TIMEOUT = 20.0


async def answers(connection: ServerConnection, http: httpx.AsyncClient | None = None) -> bool:
    """Whether the server of ``connection`` answers an authenticated request."""
    if not connection.pid_alive():
        return False
    if http is None:
        async with _probe_client() as http:
            return await answers(connection, http)
    headers = {"Authorization": f"Bearer {connection.token}"}
    for path in LIVENESS_PATHS:
        url = normalize_endpoint(connection.endpoint) + "/" + path
        try:
            response = await http.get(url, params={"limit": 1}, headers=headers)
        except httpx.HTTPError:
            return False
        if response.status_code != 404:  # the other generation's path: try the next
            return response.status_code == 200
    return False


def _probe_client() -> httpx.AsyncClient:
    """A short-timeout client for loopback probes (no proxies from the environment)."""
    return httpx.AsyncClient(timeout=PROBE_TIMEOUT, trust_env=False)


async def running_server(data_dir: Path) -> ServerConnection | None:
    """The connection of a live local server using ``data_dir``, if there is one."""
    connection = read_connection(data_dir)
    if connection is not None and await answers(connection):
        return connection
    return None


async def ensure_server(
    data_dir: Path,
    *,
    timeout: float = START_TIMEOUT,  # noqa: ASYNC109
    extra_args: tuple[str, ...] = (),
) -> ServerConnection:
    """A live local server for ``data_dir``: the one running, or a new one started detached."""
    connection = await running_server(data_dir)
    if connection is not None:
        return connection
    try:
        make_private_dir(data_dir)
    except OSError as exc:
        raise ConfigError(f"cannot use {data_dir} as the local server's data dir: {exc}") from None
    async with _start_lock(data_dir, timeout):
        connection = await running_server(data_dir)  # started by someone else meanwhile?
        if connection is not None:
            return connection
        process = _spawn(data_dir, extra_args)
        return await _wait_for(process, data_dir, timeout)


def server_command(data_dir: Path, extra_args: tuple[str, ...] = ()) -> list[str]:
    """The command line that starts a local server on a free loopback port."""
    return [
        sys.executable, "-m", "workloadlab", "serve",
        "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir), *extra_args,
    ]  # fmt: skip


def _spawn(data_dir: Path, extra_args: tuple[str, ...]) -> subprocess.Popen[bytes]:
    with os.fdopen(open_private(data_dir / SERVER_LOG), "ab") as log:
        return subprocess.Popen(
            server_command(data_dir, extra_args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )


async def _wait_for(
    process: subprocess.Popen[bytes],
    data_dir: Path,
    timeout: float,  # noqa: ASYNC109
) -> ServerConnection:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    gap = 0.02
    async with _probe_client() as http:
        while loop.time() < deadline:
            code = process.poll()
            if code is not None:
                raise ConfigError(
                    f"the local server exited with code {code} while starting "
                    f"(data dir {data_dir}); the end of {data_dir / SERVER_LOG}:\n"
                    f"{_log_tail(data_dir)}"
                )
            connection = read_connection(data_dir)
            # Whoever wrote it, a connection file whose server answers is a live server.
            if connection is not None and await answers(connection, http):
                return connection
            await asyncio.sleep(gap)
            gap = min(gap * 1.5, 0.25)
    raise ConfigError(
        f"the local server (pid {process.pid}) did not answer within {timeout:g} s; it is left "
        f"running. Its connection file is {data_dir / CONNECTION_FILE}; the end of "
        f"{data_dir / SERVER_LOG}:\n{_log_tail(data_dir)}"
    )


def _log_tail(data_dir: Path, lines: int = 15) -> str:
    try:
        text = (data_dir / SERVER_LOG).read_text(errors="replace")
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {line}" for line in text.splitlines()[-lines:]) or "  (empty)"


@contextlib.asynccontextmanager
async def _start_lock(data_dir: Path, timeout: float) -> AsyncIterator[None]:  # noqa: ASYNC109
    """An exclusive lock on ``<data-dir>/.start.lock`` (POSIX); polled, never blocking the loop."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    fd = open_private(data_dir / START_LOCK, os.O_RDWR)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    raise ConfigError(
                        f"another process has been starting the local server in {data_dir} "
                        f"for more than {timeout:g} s"
                    ) from None
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock
