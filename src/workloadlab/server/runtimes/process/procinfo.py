"""Facts about processes: identity, group, state and environment.

A pid alone is not an identity (pids are reused); a pid plus its start time is. On Linux the
facts are read from ``/proc`` directly (field 22 of ``/proc/<pid>/stat``, clock ticks since
boot: group scans read hundreds of these files, and one ``os.read`` each is the cheapest way);
elsewhere (macOS) from psutil, whose start time is the creation time in hundredths of a second,
so adopting a workload after a crash works there too. Every function returns ``None`` or an
empty result rather than raising when a process is gone or unreadable (another user's), so
callers can treat "cannot tell" like "not ours".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

PROC = Path("/proc")

USE_PROC = (PROC / "self" / "stat").exists()
"""Read Linux's ``/proc`` (else psutil). A variable so tests can run both readers here."""


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` that runtimes need."""

    pid: int
    state: str
    """One letter: ``R`` running, ``S`` sleeping, ``Z`` zombie, ``X`` dead, ..."""
    ppid: int
    pgid: int
    sid: int
    start_time: int
    """Clock ticks after boot at which the process started."""

    @property
    def exited(self) -> bool:
        """Whether the process has ended (a zombie waiting to be reaped counts as ended)."""
        return self.state in ("Z", "X", "x")


def available() -> bool:
    """Whether other processes' facts can be read here: ``/proc``, or psutil where it reads
    them without one (psutil on Linux reads ``/proc`` too)."""
    has_proc = (PROC / "self" / "stat").exists()
    return has_proc or sys.platform == "darwin" or sys.platform.startswith("freebsd")


def _read_small(path: str) -> bytes | None:
    """A small /proc file in one read (no buffered file object: group scans read hundreds)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stat(pid: int) -> ProcStat | None:
    """The process's stat line, or ``None`` if it does not exist (or cannot be read)."""
    if not USE_PROC:
        return _psutil_stat(pid)
    raw = _read_small(f"{PROC}/{pid}/stat")
    if raw is None:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces and ")".
    _, _, rest = raw.rpartition(b")")
    fields = rest.split()
    try:
        return ProcStat(
            pid=pid,
            state=fields[0].decode(),
            ppid=int(fields[1]),
            pgid=int(fields[2]),
            sid=int(fields[3]),
            start_time=int(fields[19]),
        )
    except (IndexError, ValueError):
        return None


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or ``None`` if it is unknown."""
    stat = read_stat(pid)
    return None if stat is None else stat.start_time


def is_running(pid: int, started: int) -> bool:
    """Whether the process that started at ``started`` still runs as ``pid`` (not a zombie)."""
    stat = read_stat(pid)
    return stat is not None and stat.start_time == started and not stat.exited


def pids() -> Iterator[int]:
    """Every pid visible here."""
    if not USE_PROC:
        yield from psutil.pids()
        return
    try:
        names = os.listdir(PROC)
    except OSError:
        return
    for name in names:
        if name.isdigit():
            yield int(name)


def environ_value(pid: int, name: str) -> str | None:
    """The value of one variable of the environment the process was started with."""
    if not USE_PROC:
        try:
            return psutil.Process(pid).environ().get(name)
        except psutil.Error:
            return None
    try:
        raw = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = name.encode() + b"="
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode(errors="replace")
    return None


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``."""
    if not USE_PROC:
        return [
            pid
            for pid in psutil.pids()
            if (stat := _psutil_stat(pid)) is not None and stat.pgid == pgid and not stat.exited
        ]
    members = []
    for pid in pids():
        raw = _read_small(f"{PROC}/{pid}/stat")
        if raw is None:
            continue
        fields = raw.rpartition(b")")[2].split(maxsplit=4)
        if len(fields) > 3 and fields[2] == b"%d" % pgid and fields[0] not in (b"Z", b"X", b"x"):
            members.append(pid)
    return members


_PSUTIL_STATES = {psutil.STATUS_ZOMBIE: "Z", psutil.STATUS_DEAD: "X", psutil.STATUS_RUNNING: "R"}


def _psutil_stat(pid: int) -> ProcStat | None:
    """:class:`ProcStat` from psutil (and the POSIX calls for the group and session)."""
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            state = _PSUTIL_STATES.get(process.status(), "S")
            ppid = process.ppid()
            started = round(process.create_time() * 100)
        return ProcStat(pid, state, ppid, os.getpgid(pid), os.getsid(pid), started)
    except (psutil.Error, OSError):
        return None
