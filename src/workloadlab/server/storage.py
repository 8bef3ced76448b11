"""What a failed write of the store means when nothing is wrong with the server or the request.

Two conditions pass by themselves: a full disk (SQLite's ``SQLITE_FULL``, or ``ENOSPC`` /
``EDQUOT`` from a file write) and a database locked by another process beyond SQLite's busy
timeout (``SQLITE_BUSY``, ``SQLITE_LOCKED``). SQLite has rolled the write back, reads go on,
and the same write works once there is space again or the lock is gone. The API answers them
``507`` and ``503`` (:mod:`workloadlab.server.problems`); a workload's supervisor task waits
and tries again.
"""

from __future__ import annotations

import errno
import sqlite3
from enum import Enum

SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_FULL = 13
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageTrouble(Enum):
    """Why a write failed without anything being wrong with the server or the request."""

    DISK_FULL = "disk full"
    LOCKED = "locked"


def storage_trouble(exc: BaseException) -> StorageTrouble | None:
    """The trouble ``exc`` stands for, or ``None`` (then it is a bug)."""
    if isinstance(exc, sqlite3.OperationalError):
        primary = getattr(exc, "sqlite_errorcode", -1) & 0xFF  # extended codes keep it low
        if primary == SQLITE_FULL:
            return StorageTrouble.DISK_FULL
        if primary in (SQLITE_BUSY, SQLITE_LOCKED):
            return StorageTrouble.LOCKED
        return None
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return StorageTrouble.DISK_FULL
    return None
