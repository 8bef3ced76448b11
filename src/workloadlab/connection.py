"""Where the local server keeps its data, and the connection file that tells others how to reach it.

The server writes ``<data-dir>/server.json`` (mode 0600) with its ``endpoint``, ``token`` and
``pid``; the client and the notebook layer read it to find a running local server. It sits
below both the client and the server layers, so neither imports the other.

The data dir holds the API token and the workloads' secrets (environment values in the
database, their output in ``logs/``): it is ``0700`` and every file in it ``0600``, set
explicitly (``fchmod``/``chmod``) rather than left to the umask. Whoever creates something in
it (server, client, Jupyter extension) does so through :func:`make_private_dir` and
:func:`open_private`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

CONNECTION_FILE = "server.json"
DATA_DIR_ENV = "WORKLOADLAB_DATA_DIR"
SERVER_LOG = "server.log"
"""The output of a server started in the background (by the client or the Jupyter extension)."""
START_LOCK = ".start.lock"
"""Held by whoever is starting a server for the data dir."""
SERVER_LOCK = "server.lock"
"""Held by the server using the data dir, for its whole life."""
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create the directory ``path`` (and its parents) if needed; make it ``0700``."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """A descriptor of ``path``, created if needed, with mode ``0600`` whatever the umask."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def default_data_dir() -> Path:
    """``$WORKLOADLAB_DATA_DIR``, else the user data dir (``~/.local/share/workloadlab``)."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_data_dir("workloadlab", appauthor=False))


@dataclass(frozen=True)
class ServerConnection:
    """How to reach a local server: its API endpoint (ending in ``/api/v2``), token and pid."""

    endpoint: str
    token: str
    pid: int

    def __repr__(self) -> str:
        return f"ServerConnection(endpoint={self.endpoint!r}, token='***', pid={self.pid})"

    def pid_alive(self) -> bool:
        """Whether the process that wrote the file still exists."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def lock_held(path: Path, *, remove_if_free: bool = False) -> bool:
    """Whether a live process holds an ``flock`` on ``path`` (the system releases it when its
    holder dies, however it dies). A file no one holds is removed if ``remove_if_free``."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        if remove_if_free:
            path.unlink(missing_ok=True)
        return False
    finally:
        os.close(fd)  # closing releases the lock


def write_connection(data_dir: Path, connection: ServerConnection) -> Path:
    """Atomically write the connection file, readable by the owner only."""
    make_private_dir(data_dir)
    target = data_dir / CONNECTION_FILE
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".server.", suffix=".json")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {"endpoint": connection.endpoint, "token": connection.token, "pid": connection.pid},
                handle,
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_connection(data_dir: Path | None = None) -> ServerConnection | None:
    """The connection file of the server using ``data_dir``, or ``None`` when there is none."""
    path = (data_dir or default_data_dir()) / CONNECTION_FILE
    try:
        raw = json.loads(path.read_text())
        return ServerConnection(
            endpoint=str(raw["endpoint"]), token=str(raw["token"]), pid=int(raw["pid"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_connection(data_dir: Path, pid: int) -> None:
    """Remove the connection file if it is still the one the process ``pid`` wrote."""
    current = read_connection(data_dir)
    if current is not None and current.pid == pid:
        (data_dir / CONNECTION_FILE).unlink(missing_ok=True)
