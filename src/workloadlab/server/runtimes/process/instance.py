"""One workload process and its process group: exit, signals, reaping.

- **Own session.** The process is spawned (``posix_spawn``, no fork of the server) in a new
  session, so its pid is also its process group id and session id. SIGTERM goes to the whole
  group; when the leader ends, everything it started (its group, and the descendants that left
  it: :mod:`.descendants`) is SIGKILLed and awaited before :meth:`ProcessInstance.wait`
  returns, so nothing keeps the port or runs unseen (no orphans).
- **Exit without threads.** A pidfd (``os.pidfd_open``, Linux 5.3+) becomes readable when the
  process ends, for children and adopted processes alike; the event loop watches it. Without
  pidfds, ``/proc`` is polled every 100 ms. Children are reaped for their exit status; for an
  adopted process the status is unknown.
- **Identity.** ``(pid, startTime)`` names a process; ``startTime`` is field 22 of
  ``/proc/<pid>/stat``. Adoption requires both to match, so a reused pid is never mistaken for
  the workload.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloadlab.server.runtimes.base import Exit, LogSink, describe_exit
from workloadlab.server.runtimes.process import procinfo
from workloadlab.server.runtimes.process.descendants import Family, Lineage, signal_group
from workloadlab.server.runtimes.process.logfile import LogCapper
from workloadlab.server.runtimes.process.logs import LogTailer

logger = logging.getLogger("workloadlab.server")

EXIT_POLL_INTERVAL = 0.1


def open_pidfd(pid: int) -> int | None:
    """A pidfd for ``pid``, or ``None`` where pidfds don't exist; raises ProcessLookupError."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        fd: int = pidfd_open(pid)
    except ProcessLookupError:
        raise
    except OSError as exc:  # ENOSYS on old kernels, EPERM under some sandboxes
        logger.debug("pidfd_open(%d) failed (%s); polling /proc instead", pid, exc)
        return None
    os.set_inheritable(fd, False)
    return fd


class ProcessInstance:
    """One workload process (and its process group), started or adopted by a ProcessRuntime."""

    def __init__(
        self,
        *,
        workload_id: str,
        pid: int,
        pgid: int,
        start_time: int,
        port: int,
        container_port: int,
        slot: int,
        container_name: str,
        logs_dir: Path,
        offsets: dict[str, int],
        on_logs: LogSink,
        log_capper: LogCapper,
        pidfd: int | None,
        child: bool,
        family: Family,
        on_done: Callable[[ProcessInstance], None],
    ) -> None:
        self.workload_id = workload_id
        self.pid = pid
        self.pgid = pgid
        self.start_time = start_time
        self.lineage = Lineage(workload_id, pid, pgid, start_time, adopted=not child, slot=slot)
        self._family = family
        family.add(self.lineage)
        self.port = port
        """The port the process serves (its ``$PORT``)."""
        self.container_port = container_port
        """The spec's ``port``: the same unless it runs beside another (:mod:`.slots`)."""
        self.slot = slot
        self.container_name = container_name
        self._pidfd = pidfd
        self._child = child
        self._polled_code: int | None = None
        self._terminated_at: float | None = None
        self._on_done = on_done
        self._tailer = LogTailer(
            logs_dir,
            workload_id,
            slot,
            offsets,
            container_name,
            on_logs,
            lambda: self.state,
            log_capper,
        )
        self._watcher: asyncio.Task[Exit] = asyncio.create_task(
            self._watch(), name=f"process-exit-{workload_id}"
        )

    def __repr__(self) -> str:
        slot = f", slot={self.slot}" if self.slot else ""
        return f"ProcessInstance(workload_id={self.workload_id!r}, pid={self.pid}{slot})"

    @property
    def state(self) -> dict[str, Any]:
        """pid, pgid, startTime, ports, slot, offsets and containerName: enough to adopt it
        later."""
        return {
            "pid": self.pid,
            "pgid": self.pgid,
            "startTime": self.start_time,
            "port": self.port,
            "containerPort": self.container_port,
            "slot": self.slot,
            "offsets": self._tailer.offsets,
            "containerName": self.container_name,
            "runtime": "process",
        }

    @property
    def target(self) -> str:
        """The port it serves, on the loopback interface."""
        return f"http://127.0.0.1:{self.port}"

    def port_for(self, container_port: int) -> int:
        """The port it serves for the spec's ``port``; any other port as it is (a process
        cannot be told to move a port it does not take from ``$PORT``)."""
        return self.port if container_port == self.container_port else container_port

    @property
    def done(self) -> bool:
        """Whether the process has ended and its output is drained."""
        return self._watcher.done()

    async def wait(self) -> Exit:
        """Return once the process has ended, everything it started is gone and its output is
        delivered."""
        return await asyncio.shield(self._watcher)

    def terminate(self) -> None:
        """SIGTERM the group now (once)."""
        if self._watcher.done() or self._terminated_at is not None:
            return
        signal_group(self.pgid, self.pid, signal.SIGTERM)
        self._terminated_at = asyncio.get_running_loop().time()

    async def stop(self, grace_period: float) -> Exit:
        """SIGTERM the group, wait up to ``grace_period`` seconds, then SIGKILL it."""
        if not self._watcher.done():
            self.terminate()
            assert self._terminated_at is not None
            waited = asyncio.get_running_loop().time() - self._terminated_at
            await asyncio.wait({self._watcher}, timeout=max(grace_period - waited, 0.0))
            if not self._watcher.done():
                signal_group(self.pgid, self.pid, signal.SIGKILL)
        return await asyncio.shield(self._watcher)

    def abandon(self) -> list[asyncio.Task[Any]]:
        """Stop watching and tailing without touching the process (server shutdown)."""
        tasks: list[asyncio.Task[Any]] = [self._tailer.task, self._watcher]
        for task in tasks:
            task.cancel()
        return tasks

    async def _watch(self) -> Exit:
        try:
            await self._until_exited()
            # Kill the rest of the group at once, then every other descendant, while the leader
            # is a zombie (if it is our child): its pid, and so its group and session ids,
            # cannot belong to anybody else yet. Then reap it.
            signal_group(self.pgid, self.pid, signal.SIGKILL)
            await self._family.kill(self.lineage)
            exit_code = self._reap()
            await self._tailer.finish()
            return Exit(exit_code, describe_exit(exit_code))
        finally:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            self._family.discard(self.lineage)
            self._on_done(self)

    async def _until_exited(self) -> None:
        if self._pidfd is not None:
            loop = asyncio.get_running_loop()
            exited: asyncio.Future[None] = loop.create_future()

            def readable() -> None:
                if not exited.done():
                    exited.set_result(None)

            try:
                loop.add_reader(self._pidfd, readable)
            except (NotImplementedError, OSError):
                pass  # an event loop without add_reader: poll instead
            else:
                try:
                    await exited
                finally:
                    loop.remove_reader(self._pidfd)
                return
        while True:
            if self._exited_now():
                return
            await asyncio.sleep(EXIT_POLL_INTERVAL)

    def _exited_now(self) -> bool:
        stat = procinfo.read_stat(self.pid)
        if stat is not None:
            return stat.exited or stat.start_time != self.start_time
        if procinfo.available():
            return True
        if self._child:  # no /proc (not Linux): ask waitpid, which also reaps
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return True
            if pid:
                self._polled_code = os.waitstatus_to_exitcode(status)
                return True
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False

    def _reap(self) -> int | None:
        """The exit status if the process was our child (reaping it), else ``None``."""
        if self._polled_code is not None:
            return self._polled_code
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return None  # adopted: its parent (init) reaps it
        return os.waitstatus_to_exitcode(status) if pid else None
