"""The ``process`` runtime: a workload's primary container runs as a host process.

It needs nothing installed, so it is the default. ``imageUri`` is recorded but not run; the
primary container's ``entrypoint`` is the command line. How a process is watched and stopped is
in :mod:`~workloadlab.server.runtimes.process.instance`, how its output is read in
:mod:`~workloadlab.server.runtimes.process.logs`, how everything it started is found and killed
in :mod:`~workloadlab.server.runtimes.process.descendants`, and how the orphans that come to a
subreaper server are reaped in :mod:`~workloadlab.server.runtimes.process.reaping`.

**Marker.** Each process gets ``WORKLOADLAB_INSTANCE=<data-dir-id>/<workload-id>`` in its
environment (``...@<slot>`` beside another instance of its workload: :mod:`.slots`), and
passes it on; :meth:`ProcessRuntime.sweep` kills marked processes of *this*
data dir that no kept instance owns (with their descendants), and never touches another
server's.

**Descriptors.** A process gets stdin (``/dev/null``), stdout and stderr (its log files) and
nothing else: descriptors the server inherited without close-on-exec (from a shell or from
Jupyter) are closed in the child by the spawn itself, whatever the server was started from.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloadlab.connection import make_private_dir, open_private
from workloadlab.models import ArtifactSpec
from workloadlab.models.preflight import Finding
from workloadlab.server.runtimes.base import (
    STREAMS,
    WORKLOAD_ID,
    LogSink,
    StartFailed,
    data_dir_id,
)
from workloadlab.server.runtimes.preflight import (
    executable_finding,
    plain_environment,
    primary_containers,
    resource_findings,
)
from workloadlab.server.runtimes.process import procinfo
from workloadlab.server.runtimes.process.descendants import MARKER_ENV, Family
from workloadlab.server.runtimes.process.instance import ProcessInstance, open_pidfd
from workloadlab.server.runtimes.process.logfile import LogCapper
from workloadlab.server.runtimes.process.logs import log_paths, logged_instances
from workloadlab.server.runtimes.process.reaping import OrphanReaper, is_subreaper
from workloadlab.server.runtimes.process.slots import free_host_port, free_slot, instance_name
from workloadlab.server.settings import ServerSettings

if TYPE_CHECKING:
    from workloadlab.server.runtimes.base import Instance, Runtime

logger = logging.getLogger("workloadlab.server")

_BASE_ENV = ("HOME", "LANG", "LC_ALL", "TMPDIR")
_DEFAULT_SIGNALS = ("SIGPIPE", "SIGXFSZ", "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM")
"""Signals a workload starts with at their default action, even if the server ignores them."""
_FD_DIR = "/proc/self/fd" if sys.platform.startswith("linux") else "/dev/fd"
"""Where this process's open descriptors are listed."""


def _find_executable(command: str, env: dict[str, str]) -> str:
    """The path ``command`` will run, or StartFailed that names it."""
    if not command:
        raise StartFailed("the primary container's entrypoint starts with an empty string")
    if "/" in command:
        if not os.path.exists(command):
            raise StartFailed(f"entrypoint executable {command!r} does not exist")
        if os.path.isdir(command) or not os.access(command, os.X_OK):
            raise StartFailed(f"entrypoint executable {command!r} is not executable")
        return command
    search = env.get("PATH", os.defpath)
    found = shutil.which(command, path=search)
    if found is None:
        raise StartFailed(
            f"entrypoint executable {command!r} was not found on PATH ({search}) or is not"
            " executable"
        )
    return found


def _check_port_free(port: int) -> None:
    """StartFailed if something listens on ``port`` on the loopback interface.

    SO_REUSEADDR is set on the probe socket, so a port whose last connection is in TIME_WAIT
    counts as free (as it is for the server the workload will start) and only a listener, or
    another live socket bound to the port, counts as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartFailed(
                    f"port {port} is already in use (another workload or program is"
                    " listening on it)"
                ) from None
            logger.debug("port check of %d inconclusive: %s", port, exc)


def _open_log(path: Path) -> int:
    """A workload's log file, emptied, ``0600`` (also one an older version left readable)."""
    return open_private(path, os.O_WRONLY | os.O_TRUNC | os.O_APPEND)


def _inheritable_fds() -> list[int]:
    """The server's descriptors above stderr that an exec would pass on: those it inherited
    without close-on-exec (a shell's ``exec 7>file``, Jupyter's), since Python opens its own
    non-inheritable."""
    try:
        names = os.listdir(_FD_DIR)
    except OSError:
        return []
    found = []
    for name in names:
        fd = int(name)
        if fd > 2:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:
                continue  # the directory's own descriptor, closed by now
    return found


def _spawn(executable: str, argv: list[str], env: dict[str, str], stdout: int, stderr: int) -> int:
    """Start ``argv`` in a new session with stdin from /dev/null and no other descriptor than
    0, 1 and 2; return its pid."""
    posix_spawn = getattr(os, "posix_spawn", None)
    if posix_spawn is None:
        raise StartFailed("the process runtime needs a POSIX system (Linux or macOS)")
    defaults = [getattr(signal, name) for name in _DEFAULT_SIGNALS if hasattr(signal, name)]
    closes = [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds()]
    pid: int = posix_spawn(
        executable,
        argv,
        env,
        file_actions=[
            *closes,
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, stdout, 1),
            (os.POSIX_SPAWN_DUP2, stderr, 2),
        ],
        setsid=True,
        setsigmask=(),
        setsigdef=defaults,
    )
    return pid


class ProcessRuntime:
    """Runs each workload's primary container entrypoint as a host process."""

    name: str = "process"

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.logs_dir = settings.logs_dir
        self.data_dir_id = data_dir_id(settings.data_dir)
        self._instances: set[ProcessInstance] = set()
        self.family = Family(self.data_dir_id, orphanage=is_subreaper())
        self._reaper = OrphanReaper(self.family.is_leader) if self.family.orphanage else None
        self._log_capper = LogCapper(settings.log_cap_bytes)

    def marker(self, workload_id: str, slot: int = 0) -> str:
        """The ``WORKLOADLAB_INSTANCE`` value of this data dir's process for ``workload_id``
        (its instance in ``slot``: :mod:`.slots`)."""
        return f"{self.data_dir_id}/{instance_name(workload_id, slot)}"

    def environment(
        self, workload_id: str, spec_env: dict[str, str], port: int, slot: int = 0
    ) -> dict[str, str]:
        """The process's environment: a small base, the spec's variables, then ours."""
        path = os.environ.get("PATH", os.defpath)
        if sys.executable:  # `python` in an entrypoint means the server's interpreter
            path = os.pathsep.join([os.path.dirname(sys.executable), path])
        env = {"PATH": path}
        for name in _BASE_ENV:
            value = os.environ.get(name)
            if value:
                env[name] = value
        env["PYTHONUNBUFFERED"] = "1"
        env.update(spec_env)
        env["PORT"] = str(port)
        env["WORKLOAD_ID"] = workload_id
        env[MARKER_ENV] = self.marker(workload_id, slot)
        return env

    async def start(
        self, workload_id: str, spec: ArtifactSpec, on_logs: LogSink
    ) -> ProcessInstance:
        """Spawn the primary container's entrypoint; StartFailed says why it could not.

        While another instance of the workload is alive (a rolling change), this one gets the
        next slot and a free host port in ``$PORT`` (:mod:`.slots`); while another workload of
        this server serves on the spec's port, a free host port too; else the spec's port."""
        self._start_reaping()
        if not WORKLOAD_ID.match(workload_id):
            raise ValueError(f"not a workload id: {workload_id!r}")
        primary = spec.primary
        if not primary.entrypoint:
            raise StartFailed(
                "the process runtime runs the primary container's entrypoint, and this spec has"
                " none (imageUri is not run locally): add an entrypoint, e.g."
                ' ["python", "-m", "workloadlab.examples.hello"]'
            )
        if primary.port is None:
            raise StartFailed("the primary container has no port")
        beside = {i.slot for i in self._instances if i.workload_id == workload_id}
        slot = free_slot(beside)
        # Another workload of this server on the spec's port (the production workload of an
        # artifact beside its draft's workload) is no clash either: this one takes a free port.
        ours = any(i.port == primary.port for i in self._instances)
        port = free_host_port() if beside or ours else primary.port
        argv = list(primary.entrypoint)
        env = self.environment(workload_id, primary.env(), port, slot)
        executable = _find_executable(argv[0], env)
        if not beside and not ours:
            _check_port_free(port)
        make_private_dir(self.logs_dir)
        stdout_path, stderr_path = log_paths(self.logs_dir, workload_id, slot)
        stdout = _open_log(stdout_path)
        try:
            stderr = _open_log(stderr_path)
            try:
                pid = _spawn(executable, argv, env, stdout, stderr)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                raise StartFailed(
                    f"cannot run entrypoint executable {argv[0]!r}: {reason}"
                ) from None
            finally:
                os.close(stderr)
        finally:
            os.close(stdout)
        started = procinfo.start_time(pid)
        try:
            pidfd = open_pidfd(pid)
        except ProcessLookupError:  # cannot happen for an unreaped child; be safe anyway
            pidfd = None
        instance = ProcessInstance(
            workload_id=workload_id,
            pid=pid,
            pgid=pid,
            start_time=started if started is not None else 0,
            port=port,
            container_port=primary.port,
            slot=slot,
            container_name=primary.name or "primary",
            logs_dir=self.logs_dir,
            offsets={stream: 0 for stream in STREAMS},
            on_logs=on_logs,
            log_capper=self._log_capper,
            pidfd=pidfd,
            child=True,
            family=self.family,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("started %s: %s", instance, " ".join(argv))
        return instance

    async def preflight(self, data: Any) -> list[Finding]:
        """The machine-bound pre-flight findings of a spec (as written): whether the primary's
        entrypoint executable can be run here, and requests larger than the machine."""
        found = resource_findings(data, runtime=self.name)
        for where, container in primary_containers(data):
            argv = container.get("entrypoint")
            if not isinstance(argv, list) or not argv:
                problem = "the process runtime runs the primary container's entrypoint: it has none"
            elif not isinstance(argv[0], str):
                continue
            else:
                env = self.environment("preflight", plain_environment(container), 0)
                try:
                    _find_executable(argv[0], env)
                    continue
                except StartFailed as exc:
                    problem = str(exc)
            found.append(executable_finding(where, container, problem))
        return found

    async def adopt(
        self, workload_id: str, state: dict[str, Any], on_logs: LogSink
    ) -> ProcessInstance | None:
        """Take over the process in ``state`` if it still runs (same pid and start time)."""
        self._start_reaping()
        try:
            pid = int(state["pid"])
            pgid = int(state.get("pgid", pid))
            started = int(state["startTime"])
            port = int(state["port"])
            container_port = int(state.get("containerPort", port))
            slot = int(state.get("slot", 0))
            raw_offsets = state.get("offsets") or {}
            offsets = {stream: int(raw_offsets.get(stream, 0)) for stream in STREAMS}
            container_name = str(state.get("containerName") or "primary")
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("cannot adopt %s: malformed state %r", workload_id, state)
            return None
        if state.get("runtime", "process") != "process" or not WORKLOAD_ID.match(workload_id):
            return None
        if not procinfo.is_running(pid, started):
            return None
        try:
            pidfd = open_pidfd(pid)
        except ProcessLookupError:
            return None
        # Check again now that the pidfd pins the process: the pid might have been reused.
        if not procinfo.is_running(pid, started):
            if pidfd is not None:
                os.close(pidfd)
            return None
        instance = ProcessInstance(
            workload_id=workload_id,
            pid=pid,
            pgid=pgid,
            start_time=started,
            port=port,
            container_port=container_port,
            slot=slot,
            container_name=container_name,
            logs_dir=self.logs_dir,
            offsets=offsets,
            on_logs=on_logs,
            log_capper=self._log_capper,
            pidfd=pidfd,
            child=False,
            family=self.family,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("adopted %s", instance)
        return instance

    async def sweep(self, keep: Sequence[Instance]) -> list[str]:
        """SIGKILL this data dir's marked processes (and their descendants) that no instance in
        ``keep`` owns: everything an instance started, wherever it went, is its own."""
        self._start_reaping()
        lineages = [i.lineage for i in keep if isinstance(i, ProcessInstance)]
        removed = []
        for stat, workload_id in await self.family.sweep(lineages):
            of = f"of workload {workload_id}" if workload_id else "of an unknown workload"
            removed.append(f"killed orphan process {stat.pid} {of}")
        return removed

    def forget(self, workload_id: str) -> None:
        """Remove the workload's log files (of every slot)."""
        slots = logged_instances(self.logs_dir).get(workload_id, set()) | {0}
        for slot in slots:
            for path in log_paths(self.logs_dir, workload_id, slot):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def forget_others(self, workload_ids: Collection[str]) -> list[str]:
        """Remove the log files of workloads not in ``workload_ids``."""
        removed = []
        for workload_id in sorted(set(logged_instances(self.logs_dir)) - set(workload_ids)):
            self.forget(workload_id)
            removed.append(f"removed the log files of deleted workload {workload_id}")
        return removed

    async def close(self) -> None:
        """Stop tailing, watching and reaping; the processes keep running (a new server
        adopts them)."""
        tasks: list[asyncio.Task[Any]] = []
        for instance in list(self._instances):
            tasks.extend(instance.abandon())
        self._instances.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._log_capper.close()
        if self._reaper is not None:
            self._reaper.close()

    def _done(self, instance: ProcessInstance) -> None:
        """Forget an instance that has ended; orphans that exited behind its leader (which
        the reaper leaves to the instance) can be reaped now."""
        self._instances.discard(instance)
        if self._reaper is not None:
            self._reaper.reap_soon()

    def _start_reaping(self) -> None:
        """Reap orphans from now on, if this server is a subreaper (needs the event loop)."""
        if self._reaper is not None:
            self._reaper.start()


if TYPE_CHECKING:

    def _conforms(runtime: ProcessRuntime, instance: ProcessInstance) -> tuple[Runtime, Instance]:
        """Static check that the classes implement the runtime protocols."""
        return runtime, instance
