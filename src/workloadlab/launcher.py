"""The one place that finds, starts and stops the local server of a data dir.

The client (``AsyncClient.local()``), the Jupyter extension and the shell's ``workloadlab
server`` all come here, so there is one way to do each:

- **Find**: ``<data-dir>/server.json`` (endpoint, token, pid; the server writes it once it
  listens) whose server answers an authenticated request. A file whose process is gone or does
  not answer is stale (a crash, a reboot, a reused pid).
- **Start**: spawn ``python -m workloadlab serve --port 0`` detached (its own session, output
  in ``server.log``) so it outlives whoever started it, and wait until it answers;
  ``starter.json`` records who started it (for ``workloadlab server status``, and for
  JupyterLab's decision to stop it, see :mod:`workloadlab.jupyter.app`).
- **Stop**: SIGTERM. The server stops its workloads gracefully and keeps what should run in its
  database, so they come back when a server next starts on the data dir; the stop is over when
  the server lets go of ``server.lock`` (held for its whole life, released even by ``kill -9``).

All three hold ``<data-dir>/.start.lock`` (an ``flock``), so two starters (JupyterLab and a
kernel, two kernels, the CLI) make one server, and no one finds a server that is being
stopped. This module imports neither the client nor the server (the Jupyter extension loads
neither): the liveness probe is one HTTP/1.1 request over asyncio streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from workloadlab.connection import (
    CONNECTION_FILE,
    SERVER_LOCK,
    SERVER_LOG,
    START_LOCK,
    ServerConnection,
    lock_held,
    make_private_dir,
    open_private,
    read_connection,
)
from workloadlab.errors import ConfigError

LIVENESS_PATHS = ("console/workloads/", "workloads/")
"""The workloads list of each generation (``serve --api v2.41|current``): one answers ``200``."""
PROBE_TIMEOUT = 2.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 40.0
"""How long a stop waits for the server to stop its workloads (their grace is 30 s)."""
LOCK_TIMEOUT = STOP_TIMEOUT + 20.0
"""How long a start waits for someone else's start or stop to end."""
STARTER_FILE = "starter.json"
JUPYTERLAB_PID_ENV = "WORKLOADLAB_JUPYTERLAB_PID"
"""Set by the Jupyter extension for its kernels: a server they start is JupyterLab's too."""


@dataclass(frozen=True)
class Starter:
    """Who started the server of ``server_pid``: ``by`` (``jupyterlab``, ``client``, ``cli``)
    in process ``pid``, for JupyterLab ``jupyterlab`` (its own pid, or that of the JupyterLab
    whose kernel it is), at ``at`` (epoch seconds)."""

    by: str
    pid: int
    server_pid: int
    jupyterlab: int | None
    at: float

    def describe(self) -> str:
        """``JupyterLab (pid 12)``, ``a client (pid 34) under JupyterLab (pid 12)``..."""
        if self.by == "jupyterlab":
            return f"JupyterLab (pid {self.pid})"
        who = "workloadlab CLI" if self.by == "cli" else "a client (kernel or script)"
        under = f" under JupyterLab (pid {self.jupyterlab})" if self.jupyterlab else ""
        return f"{who} (pid {self.pid}){under}"


def read_starter(data_dir: Path, server_pid: int) -> Starter | None:
    """Who started the server of ``server_pid`` (``None``: not started here, e.g. by hand
    with ``workloadlab serve``)."""
    try:
        starter = Starter(**json.loads((data_dir / STARTER_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return starter if starter.server_pid == server_pid else None


def _record_starter(data_dir: Path, starter: Starter) -> None:
    with os.fdopen(open_private(data_dir / STARTER_FILE, os.O_WRONLY | os.O_TRUNC), "w") as f:
        json.dump(asdict(starter), f)


async def answers(connection: ServerConnection, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109
    """Whether the server of ``connection`` answers an authenticated request."""
    if not connection.pid_alive():
        return False
    for path in LIVENESS_PATHS:
        status = await _status_of(connection, path, timeout)
        if status != 404:  # the other generation's path: try the next
            return status == 200
    return False


async def _status_of(connection: ServerConnection, path: str, timeout: float) -> int | None:  # noqa: ASYNC109
    """The status code of ``GET <endpoint>/<path>?limit=1`` (``None``: no answer)."""
    url = urlsplit(connection.endpoint)
    if url.scheme != "http" or url.hostname is None or url.port is None:
        return None
    target = f"{url.path.rstrip('/')}/{path}?limit=1"
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {connection.token}\r\nConnection: close\r\n\r\n"
    )
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(url.hostname, url.port)
            try:
                writer.write(request.encode())
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except (OSError, TimeoutError):
        return None
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


async def running_server(data_dir: Path) -> ServerConnection | None:
    """The connection of a live local server using ``data_dir``, if there is one."""
    connection = read_connection(data_dir)
    if connection is not None and await answers(connection):
        return connection
    return None


@dataclass
class Found:
    """A live local server; ``process`` when this call started it (the caller's child)."""

    connection: ServerConnection
    process: subprocess.Popen[bytes] | None = None


async def ensure_server(
    data_dir: Path,
    *,
    by: str = "client",
    timeout: float = START_TIMEOUT,  # noqa: ASYNC109
    extra_args: tuple[str, ...] = (),
) -> Found:
    """A live local server for ``data_dir``: the one running, or a new one started detached
    (``by`` says who starts it: ``jupyterlab``, ``client``, ``cli``)."""
    async with start_lock(data_dir):
        connection = await running_server(data_dir)
        if connection is not None:
            return Found(connection)
        hung = silent_server(data_dir)
        if hung is not None:  # a second server would only be refused the data dir
            raise ConfigError(silent_message(hung, data_dir))
        process = _spawn(data_dir, extra_args)
        lab = os.getpid() if by == "jupyterlab" else _jupyterlab_pid()
        _record_starter(data_dir, Starter(by, os.getpid(), process.pid, lab, time.time()))
        connection = await _wait_for(process, data_dir, timeout)
        return Found(connection, process if connection.pid == process.pid else None)


def silent_server(data_dir: Path) -> ServerConnection | None:
    """The server that wrote ``server.json`` when it is alive and holds the data dir but did
    not answer (stopped with SIGSTOP, hung, swamped); ``None`` otherwise."""
    connection = read_connection(data_dir)
    if connection is None or not connection.pid_alive() or not server_lock_held(data_dir):
        return None
    return connection


def silent_message(connection: ServerConnection, data_dir: Path) -> str:
    """What to say of a :func:`silent_server`."""
    return (
        f"the local server (pid {connection.pid}) holds {data_dir} but does not answer within "
        f"{PROBE_TIMEOUT:g} s (stopped, hung or swamped); `workloadlab server stop` stops it"
    )


def unusable_data_dir(data_dir: Path, error: OSError) -> ConfigError:
    """The one-line error of a data dir that cannot be made or written."""
    return ConfigError(f"cannot use {data_dir} as the local server's data dir: {error}")


def _jupyterlab_pid() -> int | None:
    try:
        return int(os.environ[JUPYTERLAB_PID_ENV])
    except (KeyError, ValueError):
        return None


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
            start_new_session=True,  # Ctrl-C in a terminal is not for it; it outlives its starter
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
    while loop.time() < deadline:
        code = process.poll()
        if code is not None:
            raise ConfigError(
                f"the local server exited with code {code} while starting "
                f"(data dir {data_dir}); the end of {data_dir / SERVER_LOG}:\n"
                f"{log_tail(data_dir)}"
            )
        connection = read_connection(data_dir)
        # Whoever wrote it (a `workloadlab serve` by hand, which takes no start lock), a
        # connection file whose server answers is a live server.
        if connection is not None and await answers(connection):
            return connection
        await asyncio.sleep(gap)
        gap = min(gap * 1.5, 0.25)
    raise ConfigError(
        f"the local server (pid {process.pid}) did not answer within {timeout:g} s; it is left "
        f"running. Its connection file is {data_dir / CONNECTION_FILE}; the end of "
        f"{data_dir / SERVER_LOG}:\n{log_tail(data_dir)}"
    )


def log_tail(data_dir: Path, lines: int = 15) -> str:
    """The last lines of ``server.log``, indented."""
    try:
        text = (data_dir / SERVER_LOG).read_text(errors="replace")
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {line}" for line in text.splitlines()[-lines:]) or "  (empty)"


async def stop_server(
    data_dir: Path,
    *,
    only_if: Callable[[ServerConnection], bool] = lambda _: True,
    timeout: float = STOP_TIMEOUT,  # noqa: ASYNC109
) -> ServerConnection | None:
    """Stop the live server of ``data_dir`` gracefully if ``only_if`` says so (it is asked
    under the start lock); the connection of the server stopped, else ``None``. Past
    ``timeout`` its process group is killed (workloads still come back next start)."""
    async with start_lock(data_dir):
        # Alive is enough (a server too busy to answer is stopped too): its pid, and its lock.
        connection = read_connection(data_dir)
        if connection is None or not connection.pid_alive() or not server_lock_held(data_dir):
            return None
        if not only_if(connection):
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(connection.pid, signal.SIGTERM)
        if not await _released(data_dir, timeout):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(connection.pid, signal.SIGKILL)
            await _released(data_dir, 5.0)
        return connection


def server_lock_held(data_dir: Path) -> bool:
    """Whether a server holds ``<data-dir>/server.lock`` (it does for its whole life)."""
    return lock_held(data_dir / SERVER_LOCK)


async def _released(data_dir: Path, timeout: float) -> bool:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while server_lock_held(data_dir):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@contextlib.asynccontextmanager
async def start_lock(data_dir: Path, timeout: float = LOCK_TIMEOUT) -> AsyncIterator[None]:  # noqa: ASYNC109
    """An exclusive lock on ``<data-dir>/.start.lock``; polled, never blocking the loop."""
    try:
        make_private_dir(data_dir)
        fd = open_private(data_dir / START_LOCK, os.O_RDWR)
    except OSError as exc:
        raise unusable_data_dir(data_dir, exc) from None
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
                        f"another process has been starting or stopping the local server in "
                        f"{data_dir} for more than {timeout:g} s"
                    ) from None
                await asyncio.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock
