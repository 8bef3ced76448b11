"""The server as a child subreaper, and the reaping of the orphans that come to it.

``prctl(PR_SET_CHILD_SUBREAPER)`` (Linux 3.4+) makes the server, not init, the new parent of
every descendant whose parent dies: a workload's double-forked daemon stays in the server's
process tree, where :mod:`.descendants` finds it even when it has cleared its environment.

The price is that the server must reap those orphans when they die. :class:`OrphanReaper` does
so when SIGCHLD arrives: it looks at the next exited child without reaping it (``waitid`` with
``WNOWAIT``, no scan of ``/proc``) and reaps it *by pid* unless it is a workload leader (its
instance reaps it, for its exit status) or in the server's own session (something the server's
process started itself, which its starter waits for; workload processes always run in sessions
of their own). Such a child is reaped promptly by its owner, and the runtime calls
:meth:`OrphanReaper.reap_soon` again once a leader is reaped, so no orphan waits for long
behind it.

Only a process that owns all its children should be a subreaper: ``workloadlab serve`` is
(:func:`become_subreaper`), while a server embedded in another program (a test, a notebook) is
not, and there an escaped process is found by its marker only. Elsewhere than Linux there is no
subreaper: :func:`become_subreaper` returns ``False``.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from workloadlab.server.runtimes.process import procinfo

logger = logging.getLogger("workloadlab.server")

PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37
REAP_INTERVAL = 1.0
"""How often orphans are reaped where no SIGCHLD handler can be installed (not the main
thread)."""


def _prctl() -> Any | None:
    """libc's ``prctl``, or ``None`` where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants; whether it now is."""
    prctl = _prctl()
    if prctl is None:
        return False
    if prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        logger.warning("cannot become a child subreaper: %s", os.strerror(ctypes.get_errno()))
        return False
    return True


def is_subreaper() -> bool:
    """Whether this process is a child subreaper."""
    prctl = _prctl()
    if prctl is None:
        return False
    value = ctypes.c_int(0)
    if prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0) != 0:
        return False
    return value.value != 0


class OrphanReaper:
    """Reaps the zombies of orphans reparented to this (subreaper) process."""

    def __init__(self, is_leader: Callable[[int], bool]) -> None:
        self._is_leader = is_leader
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._on_signal = False
        self._timer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Reap on every SIGCHLD from now on (on a timer if this is not the main thread)."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        try:
            self._loop.add_signal_handler(signal.SIGCHLD, self.reap_soon)
            self._on_signal = True
        except (RuntimeError, ValueError, NotImplementedError):
            self._timer = asyncio.create_task(self._every_interval(), name="orphan-reaper")
        self.reap_soon()

    def reap_soon(self) -> None:
        """Reap on the event loop's next turn (SIGCHLDs in a burst make one pass)."""
        if self._loop is not None and not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.reap)

    def reap(self) -> list[int]:
        """Reap exited children that are orphans, until the next exited child is not one (or
        there is none); the pids reaped."""
        self._scheduled = False
        my_session = os.getsid(0)
        reaped = []
        while True:
            try:
                exited = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                break
            if exited is None or exited.si_pid == 0:
                break
            pid = exited.si_pid
            stat = procinfo.read_stat(pid)
            if self._is_leader(pid) or stat is None or stat.sid == my_session:
                break  # its owner reaps it, soon; the rest wait for the next pass
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            reaped.append(pid)
        return reaped

    def close(self) -> None:
        """Stop reaping (reaping once more first)."""
        if self._loop is None:
            return
        self.reap()
        if self._on_signal:
            self._loop.remove_signal_handler(signal.SIGCHLD)
        if self._timer is not None:
            self._timer.cancel()
        self._loop = None

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL)
            self.reap()
