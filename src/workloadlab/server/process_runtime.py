"""The ``process`` runtime: a workload's primary container runs as a host process.

It needs nothing installed, so it is the default. ``imageUri`` is recorded but not run; the
primary container's ``entrypoint`` is the command line. Design notes:

- **Own session.** The process is spawned (``posix_spawn``, no fork of the server) in a new
  session, so its pid is also its process group id and session id. Signals go to the whole
  group; when the leader ends, what is left of the group is SIGKILLed and awaited before
  :meth:`ProcessInstance.wait` returns, so nothing keeps the port or runs unseen (no orphans).
- **Logs in files, not pipes.** stdout and stderr are appended to ``<logs_dir>/<id>.stdout`` and
  ``.stderr``. A process survives a ``kill -9`` of the server (no SIGPIPE, no full pipe), and a
  new server adopts it and resumes reading at the byte offsets stored in the instance's state.
  A tailer task polls the files every 50 ms and hands complete lines to the supervisor's sink;
  when the process ends it drains the rest before ``wait()`` returns, so a crash's traceback is
  stored before anyone asks why it died.
- **Exit without threads.** A pidfd (``os.pidfd_open``, Linux 5.3+) becomes readable when the
  process ends, for children and adopted processes alike; the event loop watches it. Without
  pidfds, ``/proc`` is polled every 100 ms. Children are reaped for their exit status; for an
  adopted process the status is unknown.
- **Identity.** ``(pid, startTime)`` names a process; ``startTime`` is field 22 of
  ``/proc/<pid>/stat``. Adoption requires both to match, so a reused pid is never mistaken for
  the workload.
- **Marker.** Each process gets ``WORKLOADLAB_INSTANCE=<data-dir-id>/<workload-id>`` in its
  environment; :meth:`ProcessRuntime.sweep` kills marked processes of *this* data dir that no
  kept instance owns, and never touches another server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloadlab.models import ArtifactSpec, format_timestamp, utcnow
from workloadlab.server import procinfo
from workloadlab.server.runtime import Exit, LogSink, StartFailed
from workloadlab.server.settings import ServerSettings
from workloadlab.server.store import LogLine

if TYPE_CHECKING:
    from workloadlab.server.runtime import Instance, Runtime

logger = logging.getLogger("workloadlab.server")

MARKER_ENV = "WORKLOADLAB_INSTANCE"
"""Environment variable that marks a process as a workload of one data dir."""
STREAMS = ("stdout", "stderr")
LOG_POLL_INTERVAL = 0.05
EXIT_POLL_INTERVAL = 0.1
MAX_LINE_BYTES = 16 * 1024
"""Longer lines are cut here (and the rest of the line dropped)."""
READ_CHUNK = 256 * 1024
GROUP_KILL_TIMEOUT = 2.0
"""How long to wait for SIGKILLed processes to disappear before giving up on them."""
UNKNOWN_STATUS = "exited (status unknown: adopted after a server restart)"
_TRUNCATED = " [line truncated]"
_BASE_ENV = ("HOME", "LANG", "LC_ALL", "TMPDIR")
_DEFAULT_SIGNALS = ("SIGPIPE", "SIGXFSZ", "SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM")
"""Signals a workload starts with at their default action, even if the server ignores them."""
_WORKLOAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def data_dir_id(data_dir: Path) -> str:
    """A short, stable id of a data dir (its resolved path, hashed) for the process marker."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]


def describe_exit(exit_code: int | None) -> str:
    """The :attr:`Exit.message` for an exit status (negative: killed by that signal)."""
    if exit_code is None:
        return UNKNOWN_STATUS
    if exit_code == 0:
        return "exited (status 0)"
    if exit_code > 0:
        return f"exited with status {exit_code}"
    number = -exit_code
    try:
        return f"killed by signal {number} ({signal.Signals(number).name})"
    except ValueError:
        return f"killed by signal {number}"


# -- log levels -------------------------------------------------------------------------------

_LEVELS = {
    "trace": "debug",
    "debug": "debug",
    "info": "info",
    "notice": "info",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "critical": "critical",
    "fatal": "critical",
    "panic": "critical",
}
_LEVEL_WORD = re.compile(
    r"(?<![A-Za-z0-9_])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|PANIC)(?![A-Za-z0-9_])"
)
"""An upper-case level word near the start: ``WARNING:root:...``, ``... - ERROR - ...``."""
_LEVEL_AT_START = re.compile(
    r"^\s*\[?(trace|debug|info|notice|warn|warning|error|critical|fatal|panic)\s*[]:]", re.I
)
"""Any-case level word that opens the line: ``error: ...``, ``[warn] ...``."""
_LEVEL_FIELD = re.compile(
    r"""(?:"(?:level|levelname|severity)"\s*:\s*"|\blevel=)([A-Za-z]+)""", re.I
)
"""Structured logs: ``{"level": "warning", ...}`` or logfmt ``level=warn``."""
_PYTHON_WARNING = re.compile(r"\b[A-Z][A-Za-z]*Warning: ")
"""Python's warnings module: ``app.py:3: DeprecationWarning: ...``."""
_LEVEL_SEARCH_CHARS = 64


def line_level(message: str, default: str) -> str:
    """The level a line states near its start (lower-case), else ``default``."""
    head = message[: _LEVEL_SEARCH_CHARS * 2]
    for pattern in (_LEVEL_AT_START, _LEVEL_FIELD):
        match = pattern.search(head)
        if match and match.group(1).lower() in _LEVELS:
            return _LEVELS[match.group(1).lower()]
    match = _LEVEL_WORD.search(message[:_LEVEL_SEARCH_CHARS])
    if match:
        return _LEVELS[match.group(1).lower()]
    if _PYTHON_WARNING.search(head):
        return "warning"
    return default


# -- log tailing ------------------------------------------------------------------------------


class _StreamReader:
    """Complete lines appended to one log file, from a byte offset on."""

    def __init__(self, path: Path, stream: str, offset: int) -> None:
        self.path = path
        self.stream = stream
        self.offset = offset
        """Bytes consumed: everything before it was delivered (or dropped as too long)."""
        self._read_pos = offset
        self._pending = b""
        self._skipping = False
        self._fd: int | None = None

    def read(self, final: bool) -> tuple[list[bytes], bool]:
        """New complete lines, and whether more data may be waiting already.

        ``final``: the writer has ended, so a last line without a newline is complete too.
        """
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except FileNotFoundError:
                return [], False
        if os.fstat(self._fd).st_size < self._read_pos:
            # Truncated behind our back (a fresh start): read again from the beginning.
            self.offset = self._read_pos = 0
            self._pending, self._skipping = b"", False
        data = os.pread(self._fd, READ_CHUNK, self._read_pos)
        more = len(data) == READ_CHUNK
        self._read_pos += len(data)
        buffer = self._pending + data if self._pending else data
        lines: list[bytes] = []
        start = 0
        while (newline := buffer.find(b"\n", start)) >= 0:
            self._take(buffer[start:newline], lines)
            self._skipping = False
            start = newline + 1
        rest = buffer[start:]
        if rest and final and not more:
            self._take(rest, lines)
            self._skipping = False
            rest = b""
        elif len(rest) > MAX_LINE_BYTES:
            self._take(rest, lines)
            self._skipping = True  # drop the rest of this line when it arrives
            rest = b""
        self._pending = rest
        self.offset = self._read_pos - len(rest)
        return lines, more

    def _take(self, line: bytes, lines: list[bytes]) -> None:
        if self._skipping:
            return
        if len(line) > MAX_LINE_BYTES:
            line = line[:MAX_LINE_BYTES] + _TRUNCATED.encode()
        lines.append(line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Tailer:
    """Polls an instance's two log files and hands new lines (and the state) to the sink."""

    def __init__(
        self,
        logs_dir: Path,
        workload_id: str,
        offsets: dict[str, int],
        container_name: str,
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
    ) -> None:
        self._readers = [
            _StreamReader(logs_dir / f"{workload_id}.{stream}", stream, offsets.get(stream, 0))
            for stream in STREAMS
        ]
        self._container_name = container_name
        self._on_logs = on_logs
        self._state = state
        self._finishing = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"process-logs-{workload_id}")

    @property
    def offsets(self) -> dict[str, int]:
        """Bytes of each stream consumed so far."""
        return {reader.stream: reader.offset for reader in self._readers}

    async def finish(self) -> None:
        """Read what is left (the writer has ended), deliver it, and stop."""
        self._finishing.set()
        await asyncio.shield(self.task)

    async def _run(self) -> None:
        try:
            while not self._finishing.is_set():
                if await self._poll(final=False):
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LOG_POLL_INTERVAL):
                        await self._finishing.wait()
            while await self._poll(final=True):
                pass
        finally:
            for reader in self._readers:
                reader.close()

    async def _poll(self, final: bool) -> bool:
        lines: list[LogLine] = []
        more = False
        for reader in self._readers:
            try:
                raw, reader_more = reader.read(final)
            except OSError as exc:
                logger.warning("cannot read %s: %s", reader.path, exc)
                continue
            more = more or reader_more
            if not raw:
                continue
            stamp = format_timestamp(utcnow())
            default = "info" if reader.stream == "stdout" else "error"
            for line in raw:
                message = line.rstrip(b"\r").decode("utf-8", errors="replace")
                lines.append(
                    LogLine(
                        timestamp=stamp,
                        level=line_level(message, default),
                        message=message,
                        container_name=self._container_name,
                        stream=reader.stream,
                    )
                )
        if lines:
            try:
                await self._on_logs(lines, self._state())
            except Exception:
                logger.exception("storing %d log lines failed; they are lost", len(lines))
        return more


# -- instances --------------------------------------------------------------------------------


def _open_pidfd(pid: int) -> int | None:
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


def _signal_group(pgid: int, pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group (never to the server's own group)."""
    try:
        if pgid > 1 and pgid != os.getpgrp():
            os.killpg(pgid, sig)
        elif pid > 1 and pid != os.getpid():
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        logger.warning("cannot send %s to process group %d: %s", sig.name, pgid, exc)


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in the group: one signal when it is
    empty (the usual case, and the cheap one), a scan of ``/proc`` otherwise (zombies count
    for the kernel but not here)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not procinfo.available():
        return True
    return bool(procinfo.group_members(pgid))


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
        container_name: str,
        logs_dir: Path,
        offsets: dict[str, int],
        on_logs: LogSink,
        pidfd: int | None,
        child: bool,
        on_done: Callable[[ProcessInstance], None],
    ) -> None:
        self.workload_id = workload_id
        self.pid = pid
        self.pgid = pgid
        self.start_time = start_time
        self.port = port
        self.container_name = container_name
        self._pidfd = pidfd
        self._child = child
        self._polled_code: int | None = None
        self._terminated_at: float | None = None
        self._on_done = on_done
        self._tailer = _Tailer(
            logs_dir, workload_id, offsets, container_name, on_logs, lambda: self.state
        )
        self._watcher: asyncio.Task[Exit] = asyncio.create_task(
            self._watch(), name=f"process-exit-{workload_id}"
        )

    def __repr__(self) -> str:
        return f"ProcessInstance(workload_id={self.workload_id!r}, pid={self.pid})"

    @property
    def state(self) -> dict[str, Any]:
        """pid, pgid, startTime, port, offsets and containerName: enough to adopt it later."""
        return {
            "pid": self.pid,
            "pgid": self.pgid,
            "startTime": self.start_time,
            "port": self.port,
            "offsets": self._tailer.offsets,
            "containerName": self.container_name,
            "runtime": "process",
        }

    @property
    def target(self) -> str:
        """The primary port on the loopback interface."""
        return f"http://127.0.0.1:{self.port}"

    def port_for(self, container_port: int) -> int:
        """Host processes use their ports as they are."""
        return container_port

    @property
    def done(self) -> bool:
        """Whether the process has ended and its output is drained."""
        return self._watcher.done()

    async def wait(self) -> Exit:
        """Return once the process has ended, its group is gone and its output is delivered."""
        return await asyncio.shield(self._watcher)

    def terminate(self) -> None:
        """SIGTERM the group now (once)."""
        if self._watcher.done() or self._terminated_at is not None:
            return
        _signal_group(self.pgid, self.pid, signal.SIGTERM)
        self._terminated_at = asyncio.get_running_loop().time()

    async def stop(self, grace_period: float) -> Exit:
        """SIGTERM the group, wait up to ``grace_period`` seconds, then SIGKILL it."""
        if not self._watcher.done():
            self.terminate()
            assert self._terminated_at is not None
            waited = asyncio.get_running_loop().time() - self._terminated_at
            await asyncio.wait({self._watcher}, timeout=max(grace_period - waited, 0.0))
            if not self._watcher.done():
                _signal_group(self.pgid, self.pid, signal.SIGKILL)
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
            # Kill the rest of the group while the leader is a zombie (if it is our child): its
            # pid, and so the group id, cannot belong to anybody else yet. Then reap it; the
            # group id stays reserved for as long as any member is left.
            _signal_group(self.pgid, self.pid, signal.SIGKILL)
            exit_code = self._reap()
            await self._until_group_gone()
            await self._tailer.finish()
            return Exit(exit_code, describe_exit(exit_code))
        finally:
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
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

    async def _until_group_gone(self) -> None:
        """Return once no live process is left in the group (SIGKILLing stragglers)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GROUP_KILL_TIMEOUT
        while True:
            if not _group_alive(self.pgid):
                return
            if loop.time() > deadline:
                logger.warning("process group %d of %s survives SIGKILL", self.pgid, self)
                return
            await asyncio.sleep(0.02)
            _signal_group(self.pgid, self.pid, signal.SIGKILL)

    def _reap(self) -> int | None:
        """The exit status if the process was our child (reaping it), else ``None``."""
        if self._polled_code is not None:
            return self._polled_code
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return None  # adopted: its parent (init) reaps it
        return os.waitstatus_to_exitcode(status) if pid else None


# -- the runtime ------------------------------------------------------------------------------


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
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
    return os.open(path, flags, 0o600)


def _spawn(executable: str, argv: list[str], env: dict[str, str], stdout: int, stderr: int) -> int:
    """Start ``argv`` in a new session with stdin from /dev/null; return its pid."""
    posix_spawn = getattr(os, "posix_spawn", None)
    if posix_spawn is None:
        raise StartFailed("the process runtime needs a POSIX system (Linux or macOS)")
    defaults = [getattr(signal, name) for name in _DEFAULT_SIGNALS if hasattr(signal, name)]
    pid: int = posix_spawn(
        executable,
        argv,
        env,
        file_actions=[
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

    def marker(self, workload_id: str) -> str:
        """The ``WORKLOADLAB_INSTANCE`` value of this data dir's process for ``workload_id``."""
        return f"{self.data_dir_id}/{workload_id}"

    def environment(self, workload_id: str, spec_env: dict[str, str], port: int) -> dict[str, str]:
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
        env[MARKER_ENV] = self.marker(workload_id)
        return env

    async def start(
        self, workload_id: str, spec: ArtifactSpec, on_logs: LogSink
    ) -> ProcessInstance:
        """Spawn the primary container's entrypoint; StartFailed says why it could not."""
        if not _WORKLOAD_ID.match(workload_id):
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
        port = primary.port
        argv = list(primary.entrypoint)
        env = self.environment(workload_id, primary.env(), port)
        executable = _find_executable(argv[0], env)
        _check_port_free(port)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        stdout = _open_log(self.logs_dir / f"{workload_id}.stdout")
        try:
            stderr = _open_log(self.logs_dir / f"{workload_id}.stderr")
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
            pidfd = _open_pidfd(pid)
        except ProcessLookupError:  # cannot happen for an unreaped child; be safe anyway
            pidfd = None
        instance = ProcessInstance(
            workload_id=workload_id,
            pid=pid,
            pgid=pid,
            start_time=started if started is not None else 0,
            port=port,
            container_name=primary.name or "primary",
            logs_dir=self.logs_dir,
            offsets={stream: 0 for stream in STREAMS},
            on_logs=on_logs,
            pidfd=pidfd,
            child=True,
            on_done=self._instances.discard,
        )
        self._instances.add(instance)
        logger.info("started %s: %s", instance, " ".join(argv))
        return instance

    async def adopt(
        self, workload_id: str, state: dict[str, Any], on_logs: LogSink
    ) -> ProcessInstance | None:
        """Take over the process in ``state`` if it still runs (same pid and start time)."""
        try:
            pid = int(state["pid"])
            pgid = int(state.get("pgid", pid))
            started = int(state["startTime"])
            port = int(state["port"])
            raw_offsets = state.get("offsets") or {}
            offsets = {stream: int(raw_offsets.get(stream, 0)) for stream in STREAMS}
            container_name = str(state.get("containerName") or "primary")
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("cannot adopt %s: malformed state %r", workload_id, state)
            return None
        if state.get("runtime", "process") != "process" or not _WORKLOAD_ID.match(workload_id):
            return None
        if not procinfo.is_running(pid, started):
            return None
        try:
            pidfd = _open_pidfd(pid)
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
            container_name=container_name,
            logs_dir=self.logs_dir,
            offsets=offsets,
            on_logs=on_logs,
            pidfd=pidfd,
            child=False,
            on_done=self._instances.discard,
        )
        self._instances.add(instance)
        logger.info("adopted %s", instance)
        return instance

    async def sweep(self, keep: Sequence[Instance]) -> list[str]:
        """SIGKILL the process groups of this data dir's marked processes that ``keep`` does not
        own (a kept instance owns its session: everything its leader started)."""
        kept: set[int] = set()
        for instance in keep:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                kept.add(int(instance.state["pid"]))
        prefix = f"{self.data_dir_id}/"
        victims: list[tuple[procinfo.ProcStat, str]] = []
        for pid in procinfo.pids():
            if pid == os.getpid():
                continue
            marker = procinfo.environ_value(pid, MARKER_ENV)
            if marker is None or not marker.startswith(prefix):
                continue
            stat = procinfo.read_stat(pid)
            if stat is None or stat.exited or kept & {stat.pid, stat.pgid, stat.sid}:
                continue
            victims.append((stat, marker[len(prefix) :]))
        for stat, _ in victims:
            _signal_group(stat.pgid, stat.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(stat.pid, signal.SIGKILL)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GROUP_KILL_TIMEOUT
        while any(procinfo.is_running(s.pid, s.start_time) for s, _ in victims):
            if loop.time() > deadline:
                break
            await asyncio.sleep(0.02)
        removed = []
        for stat, workload_id in victims:
            if procinfo.is_running(stat.pid, stat.start_time):
                logger.warning("orphan process %d of workload %s survives", stat.pid, workload_id)
                continue
            removed.append(f"killed orphan process {stat.pid} of workload {workload_id}")
        return removed

    async def close(self) -> None:
        """Stop tailing and watching; the processes keep running (a new server adopts them)."""
        tasks: list[asyncio.Task[Any]] = []
        for instance in list(self._instances):
            tasks.extend(instance.abandon())
        self._instances.clear()
        await asyncio.gather(*tasks, return_exceptions=True)


if TYPE_CHECKING:

    def _conforms(runtime: ProcessRuntime, instance: ProcessInstance) -> tuple[Runtime, Instance]:
        """Static check that the classes implement the runtime protocols."""
        return runtime, instance
