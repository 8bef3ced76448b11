"""Where the local server keeps its data, and the connection file that tells others how to reach it.

The server writes ``<data-dir>/server.json`` (mode 0600) with its ``endpoint``, ``token`` and
``pid``; the client and the notebook layer read it to find a running local server. It sits
below both the client and the server layers, so neither imports the other.
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


def write_connection(data_dir: Path, connection: ServerConnection) -> Path:
    """Atomically write the connection file, readable by the owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
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
