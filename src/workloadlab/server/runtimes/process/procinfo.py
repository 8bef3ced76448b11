"""Facts about processes read from Linux's ``/proc``: identity, group, state and environment.

A pid alone is not an identity (pids are reused); a pid plus its start time (field 22 of
``/proc/<pid>/stat``, clock ticks since boot) is. Every function returns ``None`` or an empty
result rather than raising when a process is gone, unreadable (another user's), or when there is
no ``/proc`` at all (not Linux), so callers can treat "cannot tell" like "not ours".
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


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
    """Whether this system has a Linux-style ``/proc``."""
    return (PROC / "self" / "stat").exists()


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
    """The process's stat line, or ``None`` if it does not exist (or there is no ``/proc``)."""
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
    """Every pid visible in ``/proc`` (nothing where there is no ``/proc``)."""
    try:
        names = os.listdir(PROC)
    except OSError:
        return
    for name in names:
        if name.isdigit():
            yield int(name)


def environ_value(pid: int, name: str) -> str | None:
    """The value of one variable of the environment the process was started with."""
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
    members = []
    for pid in pids():
        raw = _read_small(f"{PROC}/{pid}/stat")
        if raw is None:
            continue
        fields = raw.rpartition(b")")[2].split(maxsplit=4)
        if len(fields) > 3 and fields[2] == b"%d" % pgid and fields[0] not in (b"Z", b"X", b"x"):
            members.append(pid)
    return members
