"""The local server's settings: where it keeps data, how it authenticates, and its timings.

Every timing is a setting (with Kubernetes' numbers as defaults) so that tests can run a whole
crash loop or draft expiry in seconds.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from workloadlab.connection import (
    CONNECTION_FILE,
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    SERVER_LOCK,
    SERVER_LOG,
    START_LOCK,
    default_data_dir,
    make_private_dir,
    open_private,
)

TOKEN_ENV = "WORKLOADLAB_TOKEN"
TOKEN_FILE = "token"
DATABASE_FILE = "workloadlab.sqlite3"
KEPT_FILES = (
    DATABASE_FILE,
    f"{DATABASE_FILE}-wal",
    f"{DATABASE_FILE}-shm",
    f"{DATABASE_FILE}-journal",
    TOKEN_FILE,
    SERVER_LOCK,
    CONNECTION_FILE,
    SERVER_LOG,
    START_LOCK,
)
"""The files the server and its front-ends keep at the top of the data dir."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtKMGT])(?:i?[bB])?|[bB])?\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``"8h"``, ``"30s"``, ``"250ms"``, ``"1.5m"`` or a bare number of seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (try 30s, 5m, 8h)")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_size(text: str) -> int:
    """Bytes in ``"32MiB"``, ``"512k"``, ``"1G"`` or a bare number of bytes (binary units:
    ``k``/``KiB`` is 1024 bytes, with or without the ``B`` or ``iB``)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (try 32MiB, 512KiB, 1GiB)")
    unit = (match.group(2) or "").lower()[:1]
    return int(float(match.group(1)) * 1024 ** " kmgt".index(unit or " "))


@dataclass
class Timings:
    """Durations in seconds that govern the supervisor and probes."""

    grace_period: float = 30.0
    """SIGTERM to SIGKILL."""
    stop_answer_wait: float = 2.0
    """How long ``POST .../stop`` waits for the workload to be stopped before it answers
    (``202`` either way). Most apps stop well within it, so a ``start`` sent right after the
    answer succeeds instead of meeting ``409``, as with ``docker stop``."""
    backoff_base: float = 10.0
    """First restart delay after a crash or liveness failure; doubles each time."""
    backoff_cap: float = 300.0
    backoff_reset: float = 600.0
    """Healthy this long and the backoff starts again from the base."""
    crash_limit: int = 5
    """Restarts in a row without becoming healthy before the workload is ``errored``."""
    probe_first_gap: float = 0.002
    """Gap of the quick startup/readiness probing right after a start (a try while nothing
    listens yet is a refused connect: microseconds)."""
    probe_flat_window: float = 1.0
    """For this long after a start the quick gap stays at its first value; then it grows."""
    probe_gap_growth: float = 1.5
    """Growth of the quick gap after the flat window, up to the probe's period."""
    draft_ttl: float = 8 * 3600.0
    """A draft workload is removed this long after it was created or last started."""
    ttl_check_interval: float = 30.0
    rollout_timeout: float = 300.0
    """A rolling change is abandoned unless its new instance is ready within this long of its
    start (Kubernetes' ``progressDeadlineSeconds`` is 600)."""
    replacement_linger: float = 5.0
    """A completed replacement stays readable at ``GET /workloads/{id}/replacement`` this
    long (current API generation), so a waiter polling every second sees how it ended."""


@dataclass
class InvokeLimits:
    """How the invoke proxy treats each workload's app (design notes in ``server/proxy.py``)."""

    connect_timeout: float = 5.0
    """To get a connection to the app: a free one of ``max_connections``, then the TCP connect.
    Loopback connects take microseconds; a container engine's port forwarder under load more."""
    read_timeout: float = 300.0
    """The longest silence of the app: before the head of its answer, between two chunks of its
    body, and while it does not take the request body. LLM apps that answer without streaming
    think for minutes; a streaming one restarts the clock with every chunk."""
    max_connections: int = 100
    """Calls at a time to one workload's app, each on a connection of its own (each workload
    has its own limit); more wait up to ``connect_timeout`` for one to end, then ``503``."""


@dataclass
class ServerSettings:
    """What ``workloadlab serve`` was told, with defaults filled in."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    runtime: str = "process"
    api: str = "v2.41"
    """The API generation served: ``v2.41`` or ``current`` (the other's paths are not mounted)."""
    timings: Timings = field(default_factory=Timings)
    invoke: InvokeLimits = field(default_factory=InvokeLimits)
    log_cap: int = 10_000
    """Log records kept per workload; the oldest are dropped."""
    log_cap_bytes: int = 32 * 1024 * 1024
    """What a workload's raw log files (the process runtime's) may take on disk together."""
    log_tail_lines: int = 20
    """Lines of ``statusDetails.logTail``."""
    public_url: str | None = None
    """Base URL (``http://host:port``) written into endpoints; defaults to the bound address."""
    max_body_bytes: int = 1024 * 1024
    """The largest request body of an API route (``413`` past it); the invoke proxy has none."""
    keep_alive_timeout: float = 15.0
    """A connection must send a complete request head within this many seconds of opening or
    of its last answer, or it is closed. Longer than clients keep idle connections (httpx: 5 s),
    so a client never sends a request on a connection the server is closing at that moment."""

    def resolve_token(self) -> str:
        """``--token``, else ``$WORKLOADLAB_TOKEN``, else the one kept (0600) in the data dir."""
        if self.token:
            return self.token
        from_env = os.environ.get(TOKEN_ENV)
        if from_env:
            return from_env
        path = self.data_dir / TOKEN_FILE
        try:
            kept = path.read_text().strip()
            if kept:
                return kept
        except FileNotFoundError:
            pass
        make_private_dir(self.data_dir)
        token = secrets.token_urlsafe(32)
        with os.fdopen(open_private(path, os.O_WRONLY | os.O_TRUNC), "w") as handle:
            handle.write(token + "\n")
        return token

    def make_data_dir_private(self) -> None:
        """Create the data dir and ``logs/`` (``0700``) and make private what is in them: the
        files of :data:`KEPT_FILES` and everything under ``logs/`` become ``0600`` (directories
        ``0700``), also in a data dir an older version left ``0755``/``0644``. Nothing else:
        ``--data-dir`` may name a directory that holds other files too. Symbolic links are
        left alone (a mode change would reach what they point to)."""
        make_private_dir(self.data_dir)
        make_private_dir(self.logs_dir)
        files = [self.data_dir / name for name in KEPT_FILES]
        files += self.data_dir.glob(".server.*.json")  # write_connection's temporary files
        for root, directories, names in os.walk(self.logs_dir):
            for name in directories:
                _restrict(Path(root, name), PRIVATE_DIR_MODE)
            files += (Path(root, name) for name in names)
        for path in files:
            _restrict(path, PRIVATE_FILE_MODE)

    @property
    def database_path(self) -> Path:
        """The SQLite database file."""
        return self.data_dir / DATABASE_FILE

    @property
    def logs_dir(self) -> Path:
        """Where workload processes write their stdout and stderr."""
        return self.data_dir / "logs"


def _restrict(path: Path, mode: int) -> None:
    """``chmod`` a file or directory (not a link) that exists to ``mode``."""
    try:
        current = path.lstat().st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISLNK(current) and stat.S_IMODE(current) != mode:
        os.chmod(path, mode)
