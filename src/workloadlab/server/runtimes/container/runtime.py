"""The ``container`` runtime: a workload's containers run through the Docker Engine API.

It drives dockerd or podman's Docker-compatible socket with the ``docker`` SDK (through the
typed :class:`~workloadlab.server.runtimes.container.engine.Engine`). Every SDK call blocks, so
short calls run in the default thread pool (``asyncio.to_thread``) and the calls that block by
design (``wait``, followed logs) run in daemon threads that report back to the event loop. Design
notes:

- **One instance, one container group, one sandbox.** As in a Kubernetes pod, a *sandbox*
  container (the primary's image running ``sleep``) holds the network namespace and
  publishes the primary's ``port`` and every probe port on free ``127.0.0.1`` ports that the
  engine picks; the workload's containers join it (they share ``localhost``). A stopped
  workload's sandbox is kept for :data:`SANDBOX_LINGER` seconds, so a restart reuses it:
  setting up and tearing down a network is most of what starting and stopping a container
  costs (on podman with CNI, about 0.3 s each way). Images without ``sleep`` run without a
  sandbox: the primary publishes the ports and the others join it. An instance ends when any
  of its containers ends; the rest are then killed.
- **Spec mapping.** ``entrypoint`` replaces the image's entrypoint *and* command;
  ``environmentVars`` plus ``PORT`` (the container port) and ``WORKLOAD_ID``;
  ``resourceRequest.cpu`` becomes ``NanoCpus``, ``memory`` the memory limit (swap capped at the
  same size), ``gpu`` a device request. A missing image is pulled; if that fails, the start
  fails at once with the registry's answer.
- **Labels, not names, own containers.** Each container is labelled with its workload and a
  hash of the server's data dir (:func:`~workloadlab.server.runtimes.base.data_dir_id`), so
  :meth:`ContainerRuntime.sweep` removes this server's orphans and never another server's. The
  instance's state holds the container ids, which :meth:`ContainerRuntime.adopt` checks.
- **Logs resume, never repeat.** Each output stream is followed with engine timestamps. The
  state keeps, per stream, the timestamp of the last stored line and how many stored lines
  share it; a new server asks for logs from a second before it and skips what it has. Engines
  differ in timestamp precision (podman: whole seconds), which the count makes exact.
- **Quick exits, quick stops.** Each container's state is polled at short gaps after its
  start and after a stop signal, growing to a second. dockerd's ``wait`` also reports an exit
  at once; podman's (4.3) answers 0.2-0.9 s late and keeps a CPU busy meanwhile, so it is not
  used there. A stop is the stop signal (the image's, else SIGTERM), the grace period, then
  SIGKILL; the exit status comes from inspect, with the engine's ``OOMKilled`` flag. The
  instance has ended once its containers have and their last lines are stored; removing the
  containers waits :data:`REMOVE_DELAY` seconds, off the path of the start that usually
  follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import secrets
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from workloadlab.models import ArtifactSpec, Container
from workloadlab.server.runtimes.base import (
    STREAMS,
    WORKLOAD_ID,
    Exit,
    LogSink,
    StartFailed,
    data_dir_id,
    describe_exit,
)
from workloadlab.server.runtimes.container.engine import (
    Engine,
    EngineError,
    PortBinding,
    find_engine,
)
from workloadlab.server.runtimes.logs import MAX_LINE_BYTES, LineSplitter, LogBatch, decode_line
from workloadlab.server.settings import ServerSettings

if TYPE_CHECKING:
    from workloadlab.server.runtimes.base import Instance, Runtime
    from workloadlab.server.runtimes.container.engine import LogStream

logger = logging.getLogger("workloadlab.server")

RUNTIME_NAME = "container"
LABEL_WORKLOAD = "workloadlab.workload"
LABEL_DATA_DIR = "workloadlab.datadir"
LABEL_CONTAINER = "workloadlab.container"
"""The container's name in the spec (``primary`` unless it says otherwise)."""
LABEL_ROLE = "workloadlab.role"
"""``primary``, ``sidecar``, or ``sandbox`` (the container that holds the network and ports)."""
EXIT_POLL_FIRST = 0.02
EXIT_POLL_GROWTH = 1.25
EXIT_POLL_MAX = 1.0
"""Gaps between state checks: 20 ms after a start or a stop signal, growing to 1 s."""
KILL_TIMEOUT = 10.0
"""How long to wait for a SIGKILLed container to be reported gone before giving up on it."""
LOG_RETRY_MAX = 5.0
SANDBOX_COMMAND = ["sleep", "2147483647"]
"""What a sandbox runs: it only holds the network namespace and the published ports."""
SANDBOX_LINGER = 10.0
"""How long a stopped workload's sandbox is kept for a start that may follow (a restart)."""
REMOVE_DELAY = 2.0
"""Ended containers are removed this much later, not to slow down the restart that usually
follows (the engine's removal and the new container's creation contend for its locks)."""
RAW_LINE_LIMIT = MAX_LINE_BYTES * 4
"""An engine's line (its timestamp, then the message) that grows past this without a newline
is cut here and the rest of it dropped; the message is then cut at ``MAX_LINE_BYTES``."""
REMOVE_TIMEOUT = 10.0
"""How long :meth:`ContainerRuntime.close` waits for ended containers to be removed."""
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

T = TypeVar("T")


# -- pure helpers -----------------------------------------------------------------------------


def format_bytes(size: int) -> str:
    """``16 MiB``, ``1.5 GiB``, ``512 bytes``: a memory size in a user's words."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            if unit == "bytes":
                return f"{size} bytes"
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def describe_container_exit(
    exit_code: int | None,
    *,
    oom_killed: bool = False,
    memory: int | None = None,
    killed_after: float | None = None,
) -> str:
    """The :attr:`Exit.message` of a container's end.

    Engines report a death by signal N as status 128 + N. ``killed_after``: the runtime sent
    SIGKILL after that many seconds of grace. An unexplained SIGKILL under a memory limit is
    most likely the kernel's OOM killer even if the engine did not notice (podman on cgroup v1
    hosts does not), so the message says so, as a guess.
    """
    limit = f", limit {format_bytes(memory)}" if memory else ""
    if oom_killed:
        return f"was killed: out of memory (OOM{limit})"
    if exit_code is None or exit_code <= 128 or exit_code > 128 + 64:
        return describe_exit(exit_code)
    number = exit_code - 128
    try:
        name = signal.Signals(number).name
    except ValueError:
        return describe_exit(exit_code)
    text = f"was killed by signal {number} ({name}; exit status {exit_code})"
    if number == signal.SIGKILL:
        if killed_after is not None:
            text += f" after the {killed_after:g} s grace period"
        elif memory:
            text += f", probably out of memory (limit {format_bytes(memory)})"
    return text


def parse_log_time(text: str) -> tuple[int, int] | None:
    """``(POSIX seconds, nanoseconds)`` of an engine's RFC 3339 log timestamp, or ``None``.

    Nanoseconds are kept exactly (``datetime`` would round them to microseconds), so two
    timestamps compare as the engine meant them.
    """
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", text)
    if match is None:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        whole = dt.datetime.fromisoformat(match.group(1) + zone)
    except ValueError:
        return None
    nanos = int((match.group(2) or "0").ljust(9, "0"))
    return int(whole.timestamp()), nanos


def _set_result(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def in_daemon_thread(call: Callable[[], T], name: str) -> asyncio.Future[T]:
    """Run a call that may block for long in a daemon thread; its result as a future.

    Unlike ``asyncio.to_thread``, the thread never holds up the interpreter's exit (a
    ``wait`` on a container that outlives the server would), and nobody has to join it.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = call()
        except BaseException as exc:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_set_exception, future, exc)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_set_result, future, result)

    threading.Thread(target=run, name=name, daemon=True).start()
    # Nobody may be waiting by the time it fails: retrieve the exception so it is not logged.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


# -- log streaming ----------------------------------------------------------------------------


@dataclass
class LogPosition:
    """How far one output stream has been read: the last line's timestamp and how many lines
    with exactly that timestamp came up to and including it."""

    time: str = ""
    key: tuple[int, int] | None = None
    count: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"time": self.time, "count": self.count}

    @classmethod
    def from_json(cls, value: Any) -> LogPosition:
        if not isinstance(value, dict) or not isinstance(value.get("time"), str):
            return cls()
        key = parse_log_time(value["time"])
        if key is None:
            return cls()
        return cls(value["time"], key, max(0, int(value.get("count") or 0)))


class LogCursor:
    """Turns one output stream's timestamped chunks into new lines, skipping lines already
    delivered (they come again after a reconnection, which starts a second early)."""

    def __init__(self, stream: str, position: LogPosition) -> None:
        self.stream = stream
        self.read = position
        """Up to where lines were turned into records (not necessarily stored yet)."""
        self.stored = LogPosition(position.time, position.key, position.count)
        """Up to where records were handed to the sink: what the instance's state says."""
        self._lines = LineSplitter(RAW_LINE_LIMIT)
        self._skip_key: tuple[int, int] | None = None
        self._skip_left = 0

    def since(self) -> int | None:
        """Whole seconds to ask the engine for logs from (a second early), or the start."""
        key = self.read.key
        return max(1, key[0] - 1) if key is not None else None

    def connect(self) -> None:
        """A new connection starts: what it repeats is skipped."""
        self._lines.reset()
        self._skip_key, self._skip_left = self.read.key, self.read.count

    def feed(self, chunk: bytes, final: bool = False) -> list[str]:
        """New complete lines (messages without timestamps) in ``chunk``; ``final``: the
        stream has ended, so an unterminated last line is complete too."""
        messages: list[str] = []
        for raw in self._lines.split(chunk, final):
            message = self._accept(raw)
            if message is not None:
                messages.append(message)
        return messages

    def _accept(self, raw: bytes) -> str | None:
        stamp, _, body = raw.partition(b" ")
        text = stamp.decode("ascii", errors="replace")
        key = parse_log_time(text)
        if key is None:  # no timestamp: deliver as it is, without moving the position
            body = raw
        else:
            if self._skip_key is not None:
                if key < self._skip_key:
                    return None
                if key == self._skip_key and self._skip_left > 0:
                    self._skip_left -= 1
                    return None
                if key > self._skip_key:
                    self._skip_key = None
            if key == self.read.key:
                self.read.count += 1
            else:
                self.read.key, self.read.count = key, 1
            self.read.time = text
        return decode_line(body)

    def mark_stored(self) -> None:
        self.stored = LogPosition(self.read.time, self.read.key, self.read.count)


@dataclass(eq=False)
class _Member:
    """One container of an instance."""

    container_id: str
    engine_name: str
    spec_name: str
    primary: bool
    memory: int | None
    cursors: dict[str, LogCursor]
    hurry: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the container is expected to end soon: check its state often again."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.container_id,
            "name": self.engine_name,
            "containerName": self.spec_name,
            "primary": self.primary,
            "memory": self.memory,
            "logs": {s: c.stored.as_json() for s, c in self.cursors.items()},
        }


@dataclass(eq=False)
class _Sandbox:
    """The container that holds a workload's network namespace and published ports, so a
    restart keeps them (as a Kubernetes pod's sandbox does): creating and tearing down a
    network is most of what starting and removing a container costs."""

    container_id: str
    engine_name: str
    ports: dict[int, int]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.container_id, "name": self.engine_name}


class _LogPump:
    """Follows every output stream of an instance's containers and hands new lines to the
    sink in batches, each with the instance's state (resume points included)."""

    def __init__(
        self,
        engine: Engine,
        members: Sequence[_Member],
        on_logs: LogSink,
        state: Callable[[], dict[str, Any]],
        name: str,
    ) -> None:
        self._engine = engine
        self._members = list(members)
        self._name = name
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[int, str, str, bytes]] = asyncio.Queue()
        self._streams: dict[tuple[int, str], LogStream] = {}
        self._retry_delay: dict[tuple[int, str], float] = {}
        self._finishing = False
        self._batch = LogBatch(on_logs, state)
        self.task = asyncio.create_task(self._run(), name=f"container-logs-{name}")
        for index in range(len(self._members)):
            for stream in STREAMS:
                self._follow(index, stream)

    async def finish(self) -> None:
        """The containers have ended: read what is left of each stream, deliver it, and stop.

        The followed streams would end by themselves, but podman ends them only after its
        clean-up (about half a second later), so they are closed and ignored from here on; one
        last plain read from each stream's resume point has everything they would have had.
        """
        self._finishing = True
        for log_stream in list(self._streams.values()):
            log_stream.close()
        reads = [
            (index, stream, member.container_id, member.cursors[stream].since())
            for index, member in enumerate(self._members)
            for stream in STREAMS
        ]
        results = await asyncio.gather(
            *(asyncio.to_thread(self._engine.logs, cid, s, since) for _, s, cid, since in reads),
            return_exceptions=True,
        )
        for (index, stream, _, _), data in zip(reads, results, strict=True):
            if isinstance(data, BaseException):
                name = self._members[index].engine_name
                logger.warning("cannot read the last %s lines of %s: %s", stream, name, data)
                continue
            self._queue.put_nowait((index, stream, "connect", b""))
            self._queue.put_nowait((index, stream, "final", data))
        self._queue.put_nowait((-1, "", "stop", b""))
        await asyncio.shield(self.task)

    def abandon(self) -> asyncio.Task[None]:
        """Stop following without reading further (server shutdown; the containers run on)."""
        self._finishing = True
        for log_stream in list(self._streams.values()):
            log_stream.close()
        self.task.cancel()
        return self.task

    # -- the threads -----------------------------------------------------------------------

    def _follow(self, index: int, stream: str) -> None:
        """Start a daemon thread that follows one stream (from the cursor's resume point)."""
        if self._finishing:
            return
        member = self._members[index]
        key = (index, stream)
        since = member.cursors[stream].since()
        post = self._post

        def follow() -> None:
            post(index, stream, "connect", b"")
            try:
                log_stream = self._engine.follow_logs(member.container_id, stream, since)
            except EngineError as exc:
                post(index, stream, "error", str(exc).encode())
                return
            self._streams[key] = log_stream
            if self._finishing:
                log_stream.close()
            for chunk in log_stream:
                post(index, stream, "data", chunk)
            post(index, stream, "end", b"")

        threading.Thread(
            target=follow, name=f"logs-{member.engine_name}-{stream}", daemon=True
        ).start()

    def _post(self, index: int, stream: str, kind: str, data: bytes) -> None:
        """Hand an item from a thread to the event loop (dropped if the loop is gone)."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (index, stream, kind, data))

    # -- the consumer ----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            index, stream, kind, data = await self._queue.get()
            if kind == "stop":
                await self._deliver()
                return
            if self._finishing and kind in ("data", "end", "error"):
                continue  # a follower's late output: the final reads have it all
            member = self._members[index]
            cursor = member.cursors[stream]
            if kind == "connect":
                cursor.connect()
            elif kind in ("data", "final"):
                self._batch.add(cursor.feed(data, final=kind == "final"), stream, member.spec_name)
            else:  # "end" or "error": the stream broke or its container ended
                if kind == "error":
                    logger.warning("cannot follow the logs of %s: %s", member.engine_name, data)
                self._batch.add(cursor.feed(b"", final=True), stream, member.spec_name)
                self._ended(index, stream)
            if self._queue.empty():
                await self._deliver()

    def _ended(self, index: int, stream: str) -> None:
        key = (index, stream)
        self._streams.pop(key, None)
        # The stream broke while the container may still run (an engine restart, a network
        # hiccup): follow again from the resume point, a little later each time.
        delay = self._retry_delay.get(key, 0.25)
        self._retry_delay[key] = min(delay * 2, LOG_RETRY_MAX)
        self._loop.call_later(delay, self._follow, index, stream)

    async def _deliver(self) -> None:
        if not self._batch:
            return
        for member in self._members:
            for cursor in member.cursors.values():
                cursor.mark_stored()
        await self._batch.deliver()


# -- instances --------------------------------------------------------------------------------


class ContainerInstance:
    """One started (or adopted) container group of a workload."""

    def __init__(
        self,
        *,
        workload_id: str,
        engine: Engine,
        members: Sequence[_Member],
        sandbox: _Sandbox | None,
        port: int,
        ports: dict[int, int],
        on_logs: LogSink,
        on_done: Callable[[ContainerInstance], None],
    ) -> None:
        self.workload_id = workload_id
        self.members = list(members)
        self.sandbox = sandbox
        """Where the containers' network lives; ``None``: in the primary container."""
        self.port = port
        """The primary container's port (inside the container)."""
        self.ports = dict(ports)
        self._engine = engine
        self._on_done = on_done
        self._stopping = False
        self._killed_after: float | None = None
        self.ended = False
        """Whether the containers have ended (and can be removed)."""
        self._pump = _LogPump(engine, self.members, on_logs, lambda: self.state, workload_id)
        self._member_watchers = [
            asyncio.create_task(self._watch_member(m), name=f"container-exit-{m.engine_name}")
            for m in self.members
        ]
        self._watcher: asyncio.Task[Exit] = asyncio.create_task(
            self._watch(), name=f"container-instance-{workload_id}"
        )

    def __repr__(self) -> str:
        primary = self.members[0]
        return (
            f"ContainerInstance(workload_id={self.workload_id!r},"
            f" container={primary.engine_name!r})"
        )

    @property
    def primary(self) -> _Member:
        """The primary container (always the first member)."""
        return self.members[0]

    @property
    def state(self) -> dict[str, Any]:
        """Container ids and names, published ports and log resume points: enough to adopt."""
        return {
            "runtime": RUNTIME_NAME,
            "containerName": self.primary.spec_name,
            "port": self.port,
            "ports": {str(k): v for k, v in self.ports.items()},
            "containers": [m.as_json() for m in self.members],
            "sandbox": self.sandbox.as_json() if self.sandbox else None,
        }

    @property
    def target(self) -> str:
        """The primary port's host side on the loopback interface."""
        return f"http://127.0.0.1:{self.port_for(self.port)}"

    def port_for(self, container_port: int) -> int:
        """The loopback port published for ``container_port`` (every probe port is)."""
        try:
            return self.ports[container_port]
        except KeyError:
            logger.warning("%s publishes no port %d", self, container_port)
            return container_port

    @property
    def done(self) -> bool:
        """Whether the instance has ended and its output is stored."""
        return self._watcher.done()

    async def wait(self) -> Exit:
        """Return once every container has ended and its output is stored."""
        return await asyncio.shield(self._watcher)

    def terminate(self) -> None:
        """Nothing ahead of :meth:`stop`: signalling a container is a call to the engine."""

    async def stop(self, grace_period: float) -> Exit:
        """Stop signal to every container, up to ``grace_period`` seconds, then SIGKILL."""
        if not self._watcher.done():
            self._stopping = True
            await self._signal_all(None)
            await asyncio.wait({self._watcher}, timeout=max(grace_period, 0.0))
            if not self._watcher.done():
                self._killed_after = grace_period
                await self._signal_all(signal.SIGKILL.name)
                await asyncio.wait({self._watcher}, timeout=KILL_TIMEOUT)
            if not self._watcher.done():
                logger.warning("%s did not end after SIGKILL; giving up on it", self)
                for task in [self._watcher, *self._member_watchers]:
                    task.cancel()
                self._pump.abandon()
                return Exit(None, "could not be stopped: the container engine does not answer")
        return await asyncio.shield(self._watcher)

    def abandon(self) -> list[asyncio.Task[Any]]:
        """Stop watching and following without touching the containers (server shutdown)."""
        tasks: list[asyncio.Task[Any]] = [self._watcher, *self._member_watchers]
        for task in tasks:
            task.cancel()
        tasks.append(self._pump.abandon())
        return tasks

    async def _signal_all(self, name: str | None) -> None:
        """Send a signal (``None``: each container's stop signal) to every container."""
        for member in self.members:
            member.hurry.set()

        async def send(member: _Member) -> None:
            sig = name or await self._stop_signal(member)
            try:
                await asyncio.to_thread(self._engine.kill, member.container_id, sig)
            except EngineError as exc:
                if name is None and sig != signal.SIGTERM.name:  # a stop signal it rejects
                    with contextlib.suppress(EngineError):
                        await asyncio.to_thread(
                            self._engine.kill, member.container_id, signal.SIGTERM.name
                        )
                    return
                logger.warning("cannot send %s to %s: %s", sig, member.engine_name, exc)

        await asyncio.gather(*(send(m) for m in self.members))

    async def _stop_signal(self, member: _Member) -> str:
        """The image's ``STOPSIGNAL``, else SIGTERM."""
        try:
            info = await asyncio.to_thread(self._engine.inspect, member.container_id)
        except EngineError:
            info = None
        configured = ((info or {}).get("Config") or {}).get("StopSignal")
        return configured if isinstance(configured, str) and configured else signal.SIGTERM.name

    async def _watch_member(self, member: _Member) -> dict[str, Any]:
        """The container's final ``State`` once it is not running (``{}``: it is gone)."""
        waiter: asyncio.Future[int | None] | None = None
        if not self._engine.is_podman:  # podman's wait spins a CPU until the container ends
            waiter = in_daemon_thread(
                lambda: self._engine.wait(member.container_id), f"wait-{member.engine_name}"
            )
        gap = EXIT_POLL_FIRST
        while True:
            hurry = asyncio.ensure_future(member.hurry.wait())
            waiting: set[asyncio.Future[Any]] = {hurry} | ({waiter} if waiter else set())
            done, _ = await asyncio.wait(waiting, timeout=gap, return_when=asyncio.FIRST_COMPLETED)
            hurry.cancel()
            if waiter is not None and waiter in done:
                if waiter.exception() is not None:  # the engine went away; keep polling
                    logger.debug("waiting for %s failed: %s", member, waiter.exception())
                waiter = None
            if hurry in done:
                member.hurry.clear()
                gap = EXIT_POLL_FIRST
            try:
                info = await asyncio.to_thread(self._engine.inspect, member.container_id)
            except EngineError as exc:
                logger.warning("cannot inspect %s: %s", member.engine_name, exc)
                gap = min(gap * 2, EXIT_POLL_MAX)
                continue
            if info is None:
                return {}
            state: dict[str, Any] = info.get("State") or {}
            if not state.get("Running", False):
                return state
            gap = min(gap * EXIT_POLL_GROWTH, EXIT_POLL_MAX)

    async def _watch(self) -> Exit:
        try:
            watchers = dict(zip(self._member_watchers, self.members, strict=True))
            done, pending = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
            first = next(watchers[t] for t in self._member_watchers if t in done)
            if pending and not self._stopping:
                # One container ended, so the group has: kill the rest, as a pod would.
                await asyncio.gather(
                    *(
                        asyncio.to_thread(self._engine.kill, watchers[t].container_id, "SIGKILL")
                        for t in pending
                    ),
                    return_exceptions=True,
                )
                for task in pending:
                    watchers[task].hurry.set()
            states = dict(zip(self.members, await asyncio.gather(*watchers), strict=True))
            await self._pump.finish()
            self.ended = True
            reported = self.primary if self._stopping else first
            return self._exit(reported, states[reported])
        finally:
            self._on_done(self)

    def _exit(self, member: _Member, state: dict[str, Any]) -> Exit:
        code = state.get("ExitCode")
        exit_code = code if isinstance(code, int) and state else None
        oom = bool(state.get("OOMKilled"))
        message = describe_container_exit(
            exit_code,
            oom_killed=oom,
            memory=member.memory,
            killed_after=self._killed_after,
        )
        if not state:
            message = "ended: its container was removed behind the server's back"
        if not member.primary:
            message += f" (container {member.spec_name!r})"
        return Exit(exit_code, message, oom)


# -- the runtime ------------------------------------------------------------------------------


def _published_ports(container: Container) -> list[int]:
    """The primary's port and every other port its probes name, each once."""
    ports = [container.port] if container.port else []
    for probe in (container.readiness_probe, container.liveness_probe, container.startup_probe):
        if probe is not None and probe.port and probe.port not in ports:
            ports.append(probe.port)
    return ports


def _host_ports(info: dict[str, Any], ports: Sequence[int]) -> dict[int, int]:
    """``{container port: host port}`` from an inspect document's ``NetworkSettings.Ports``."""
    published = ((info.get("NetworkSettings") or {}).get("Ports")) or {}
    found: dict[int, int] = {}
    for port in ports:
        for binding in published.get(f"{port}/tcp") or []:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                found[port] = int(binding["HostPort"])
                break
    return found


class ContainerRuntime:
    """Runs each workload's container group through a Docker Engine API."""

    name: str = RUNTIME_NAME

    def __init__(self, settings: ServerSettings, host: str | None = None) -> None:
        """``host``: the engine's address; by default ``$DOCKER_HOST``, else the first socket
        where an engine answers (:func:`~.engine.find_engine`)."""
        try:
            import docker  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "the container runtime needs the docker SDK: pip install 'workloadlab[container]'"
            ) from None
        self.settings = settings
        self.data_dir_id = data_dir_id(settings.data_dir)
        self._host = host
        self._engine: Engine | None = None
        self._connecting = asyncio.Lock()
        self._instances: set[ContainerInstance] = set()
        self._removals: set[asyncio.Task[None]] = set()
        self._lingering: dict[str, tuple[_Sandbox, asyncio.Task[None], asyncio.Task[None]]] = {}
        """Sandboxes of stopped workloads, each with the task that removes it later and the
        one that removes the containers that used it (which must go first)."""
        self._no_sandbox_images: set[str] = set()
        """Images that cannot run :data:`SANDBOX_COMMAND`: their containers hold the network."""
        self._closing = asyncio.Event()

    async def engine(self) -> Engine:
        """The engine client, connected on first use; :class:`EngineError` if none answers."""
        async with self._connecting:
            if self._engine is None:
                self._engine = await asyncio.to_thread(self._connect)
                logger.info(
                    "container runtime: engine at %s (API %s)",
                    self._engine.host,
                    self._engine.api_version,
                )
            return self._engine

    def _connect(self) -> Engine:
        host = self._host or find_engine()
        return Engine(host)

    def labels(self, workload_id: str, name: str, role: str) -> dict[str, str]:
        """The labels that mark a container as this data dir's, for ``workload_id``."""
        return {
            LABEL_WORKLOAD: workload_id,
            LABEL_DATA_DIR: self.data_dir_id,
            LABEL_CONTAINER: name,
            LABEL_ROLE: role,
        }

    async def start(
        self, workload_id: str, spec: ArtifactSpec, on_logs: LogSink
    ) -> ContainerInstance:
        """Create and start the spec's containers; StartFailed says why it could not."""
        if not WORKLOAD_ID.match(workload_id):
            raise ValueError(f"not a workload id: {workload_id!r}")
        primary = spec.primary
        if primary.port is None:
            raise StartFailed("the primary container has no port")
        containers = [primary, *(c for c in spec.containers if not c.primary)]
        try:
            engine = await self.engine()
        except EngineError as exc:
            raise StartFailed(
                f"{exc} (start dockerd or `podman system service`, set DOCKER_HOST, or run"
                " the server with --runtime process)"
            ) from None
        loop = asyncio.get_running_loop()
        began = loop.time()
        for image in dict.fromkeys(c.image_uri for c in containers):
            await self._ensure_image(engine, image)
        times = {"image": loop.time()}

        published = _published_ports(primary)
        suffix = secrets.token_hex(3)
        sandbox = await self._sandbox(engine, workload_id, primary.image_uri, published, suffix)
        times["sandbox"] = loop.time()
        created: list[_Member] = []
        try:
            for container in containers:
                created.append(
                    await self._create(engine, workload_id, suffix, container, sandbox, created)
                )
            times["create"] = loop.time()
            for member in created:
                try:
                    await asyncio.to_thread(engine.start, member.container_id)
                except EngineError as exc:
                    raise StartFailed(
                        f"cannot start container {member.spec_name!r}: {exc}"
                    ) from None
            times["start"] = loop.time()
            ports = (
                sandbox.ports
                if sandbox
                else await self._primary_ports(engine, created[0], published)
            )
        except BaseException:
            ids = [m.container_id for m in reversed(created)]
            removed = self._schedule_removal(workload_id, ids)
            if sandbox is not None:
                self._linger(workload_id, sandbox, removed)
            raise
        instance = ContainerInstance(
            workload_id=workload_id,
            engine=engine,
            members=created,
            sandbox=sandbox,
            port=primary.port,
            ports=ports,
            on_logs=on_logs,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("started %s from %s on %s", instance, primary.image_uri, instance.target)
        if logger.isEnabledFor(logging.DEBUG):
            steps, last = [], began
            for step, at in times.items():
                steps.append(f"{step} {(at - last) * 1000:.0f} ms")
                last = at
            logger.debug("starting %s took %s", instance, ", ".join(steps))
        return instance

    async def _ensure_image(self, engine: Engine, image: str) -> None:
        try:
            if await asyncio.to_thread(engine.has_image, image):
                return
            logger.info("pulling image %s", image)
            await asyncio.to_thread(engine.pull, image)
        except EngineError as exc:
            raise StartFailed(
                f"image {image!r} is not available locally and could not be pulled: {exc}"
            ) from None

    async def _sandbox(
        self, engine: Engine, workload_id: str, image: str, ports: Sequence[int], suffix: str
    ) -> _Sandbox | None:
        """The workload's lingering sandbox if it publishes the same ports, else a new one;
        ``None`` if the image cannot run one (the primary then publishes the ports)."""
        lingering = self._lingering.pop(workload_id, None)
        if lingering is not None:
            sandbox, remover, users_removed = lingering
            remover.cancel()
            if set(sandbox.ports) == set(ports):
                try:
                    info = await asyncio.to_thread(engine.inspect, sandbox.container_id)
                except EngineError:
                    info = None
                if ((info or {}).get("State") or {}).get("Running"):
                    return sandbox
            self._schedule_removal(workload_id, [sandbox.container_id], after=users_removed)
        if image in self._no_sandbox_images:
            return None
        name = f"workloadlab-{workload_id}-{suffix}-sandbox"
        container_id: str | None = None
        try:
            container_id = await asyncio.to_thread(
                lambda: engine.create(
                    image=image,
                    name=name,
                    labels=self.labels(workload_id, "sandbox", "sandbox"),
                    environment={},
                    entrypoint=SANDBOX_COMMAND,
                    ports=[PortBinding(p) for p in ports],
                )
            )
            await asyncio.to_thread(engine.start, container_id)
            info = await asyncio.to_thread(engine.inspect, container_id)
            found = _host_ports(info or {}, ports)
            if len(found) != len(ports):
                raise EngineError(f"published {sorted(found)} of ports {sorted(ports)}")
        except EngineError as exc:
            logger.info(
                "running %s without a sandbox: %s cannot run %r (%s)",
                workload_id,
                image,
                " ".join(SANDBOX_COMMAND),
                exc,
            )
            self._no_sandbox_images.add(image)
            if container_id is not None:
                await asyncio.shield(self._remove([container_id]))
            return None
        return _Sandbox(container_id, name, found)

    async def _primary_ports(
        self, engine: Engine, primary: _Member, published: Sequence[int]
    ) -> dict[int, int]:
        """The host ports a primary without a sandbox published."""
        try:
            info = await asyncio.to_thread(engine.inspect, primary.container_id)
        except EngineError as exc:
            raise StartFailed(f"cannot inspect the started container: {exc}") from None
        ports = _host_ports(info or {}, published)
        missing = sorted(set(published) - set(ports))
        if missing and ((info or {}).get("State") or {}).get("Running"):
            raise StartFailed(f"the engine did not publish port(s) {missing} of the primary")
        # An ended container publishes nothing (it exited at once): its watcher says why.
        return ports | dict.fromkeys(missing, 0)

    async def _create(
        self,
        engine: Engine,
        workload_id: str,
        suffix: str,
        container: Container,
        sandbox: _Sandbox | None,
        created: Sequence[_Member],
    ) -> _Member:
        spec_name = container.name or "primary"
        engine_name = f"workloadlab-{workload_id}-{suffix}"
        if not container.primary:
            engine_name += "-" + (_NAME_UNSAFE.sub("-", spec_name).strip("-.")[:40] or "sidecar")
        environment = container.env()
        if container.port is not None:
            environment["PORT"] = str(container.port)
        environment["WORKLOAD_ID"] = workload_id
        resources = container.resource_request
        memory = resources.memory if resources else None
        # Every container joins the sandbox's network; without one, the primary has it.
        publishes = sandbox is None and container.primary
        network_of = sandbox.container_id if sandbox else None
        if sandbox is None and not container.primary:
            network_of = created[0].container_id
        try:
            container_id = await asyncio.to_thread(
                lambda: engine.create(
                    image=container.image_uri,
                    name=engine_name,
                    labels=self.labels(
                        workload_id, spec_name, "primary" if container.primary else "sidecar"
                    ),
                    environment=environment,
                    entrypoint=container.entrypoint,
                    ports=[PortBinding(p) for p in _published_ports(container)]
                    if publishes
                    else (),
                    nano_cpus=round(resources.cpu * 1e9) if resources else None,
                    memory=memory,
                    gpus=resources.gpu if resources else 0,
                    network_of=network_of,
                )
            )
        except EngineError as exc:
            raise StartFailed(f"cannot create container {spec_name!r}: {exc}") from None
        return _Member(
            container_id=container_id,
            engine_name=engine_name,
            spec_name=spec_name,
            primary=container.primary,
            memory=memory,
            cursors={s: LogCursor(s, LogPosition()) for s in STREAMS},
        )

    async def adopt(
        self, workload_id: str, state: dict[str, Any], on_logs: LogSink
    ) -> ContainerInstance | None:
        """Take over the containers in ``state`` if they all still run and are labelled as
        this data dir's containers of ``workload_id``."""
        if state.get("runtime") != RUNTIME_NAME or not WORKLOAD_ID.match(workload_id):
            return None
        try:
            port = int(state["port"])
            ports = {int(k): int(v) for k, v in dict(state["ports"]).items()}
            members = [
                _Member(
                    container_id=str(raw["id"]),
                    engine_name=str(raw["name"]),
                    spec_name=str(raw.get("containerName") or "primary"),
                    primary=bool(raw.get("primary")),
                    memory=int(raw["memory"]) if raw.get("memory") else None,
                    cursors={
                        s: LogCursor(s, LogPosition.from_json((raw.get("logs") or {}).get(s)))
                        for s in STREAMS
                    },
                )
                for raw in list(state["containers"])
            ]
            raw_sandbox = state.get("sandbox")
            sandbox = (
                _Sandbox(str(raw_sandbox["id"]), str(raw_sandbox["name"]), ports)
                if raw_sandbox
                else None
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            logger.warning("cannot adopt %s: malformed state %r", workload_id, state)
            return None
        if not members or not members[0].primary or port not in ports:
            return None
        ids = [m.container_id for m in members] + ([sandbox.container_id] if sandbox else [])
        names = [m.engine_name for m in members] + ([sandbox.engine_name] if sandbox else [])
        try:
            engine = await self.engine()
            infos = await asyncio.gather(*(asyncio.to_thread(engine.inspect, i) for i in ids))
        except EngineError as exc:
            logger.warning("cannot adopt %s: %s", workload_id, exc)
            return None
        for name, info in zip(names, infos, strict=True):
            labels = ((info or {}).get("Config") or {}).get("Labels") or {}
            running = bool(((info or {}).get("State") or {}).get("Running"))
            if (
                not running
                or labels.get(LABEL_WORKLOAD) != workload_id
                or labels.get(LABEL_DATA_DIR) != self.data_dir_id
            ):
                logger.info("cannot adopt %s: container %s no longer runs", workload_id, name)
                return None
        ports = _host_ports((infos[-1] if sandbox else infos[0]) or {}, list(ports)) or ports
        if sandbox is not None:
            sandbox.ports = ports
        instance = ContainerInstance(
            workload_id=workload_id,
            engine=engine,
            members=members,
            sandbox=sandbox,
            port=port,
            ports=ports,
            on_logs=on_logs,
            on_done=self._done,
        )
        self._instances.add(instance)
        logger.info("adopted %s", instance)
        return instance

    async def sweep(self, keep: Sequence[Instance]) -> list[str]:
        """Remove this data dir's containers (running or not) that ``keep`` does not own."""
        kept: set[str] = set()
        for instance in keep:
            with contextlib.suppress(KeyError, TypeError):
                state = instance.state
                kept.update(str(c["id"]) for c in state["containers"])
                if state.get("sandbox"):
                    kept.add(str(state["sandbox"]["id"]))
        kept.update(sandbox.container_id for sandbox, _, _ in self._lingering.values())
        try:
            engine = await self.engine()
            found = await asyncio.to_thread(
                engine.containers, f"{LABEL_DATA_DIR}={self.data_dir_id}"
            )
        except EngineError as exc:
            logger.warning("cannot look for orphan containers: %s", exc)
            return []
        victims = [c for c in found if str(c.get("Id")) not in kept]
        # Containers that use another's network go first, or that one cannot go.
        order = {"sidecar": 0, "primary": 1, "sandbox": 2}
        victims.sort(key=lambda c: order.get((c.get("Labels") or {}).get(LABEL_ROLE, ""), 0))
        removed: list[str] = []
        for victim in victims:
            container_id = str(victim.get("Id"))
            names = victim.get("Names") or [container_id[:12]]
            name = str(names[0]).lstrip("/")
            workload = (victim.get("Labels") or {}).get(LABEL_WORKLOAD, "?")
            try:
                await asyncio.to_thread(engine.kill, container_id, "SIGKILL")
                await asyncio.to_thread(engine.remove, container_id)
            except EngineError as exc:
                logger.warning("cannot remove orphan container %s: %s", name, exc)
                continue
            removed.append(f"removed orphan container {name} of workload {workload}")
        return removed

    def _done(self, instance: ContainerInstance) -> None:
        """An instance stopped being watched: if its containers have ended, remove them (a
        little later) and keep its sandbox for a while."""
        self._instances.discard(instance)
        if instance.ended:
            ids = [m.container_id for m in reversed(instance.members)]
            removed = self._schedule_removal(instance.workload_id, ids, REMOVE_DELAY)
            if instance.sandbox is not None:
                self._linger(instance.workload_id, instance.sandbox, removed)

    def _linger(
        self, workload_id: str, sandbox: _Sandbox, users_removed: asyncio.Task[None]
    ) -> None:
        """Keep a stopped workload's sandbox for :data:`SANDBOX_LINGER` seconds, then remove
        it (after the containers that used it: ``users_removed``)."""
        previous = self._lingering.pop(workload_id, None)
        if previous is not None and previous[0] is not sandbox:
            previous[1].cancel()
            self._schedule_removal(workload_id, [previous[0].container_id], after=previous[2])
        task = self._schedule_removal(
            workload_id, [sandbox.container_id], SANDBOX_LINGER, after=users_removed
        )

        def forget(_: asyncio.Task[None]) -> None:
            if self._lingering.get(workload_id, (None,))[0] is sandbox:
                del self._lingering[workload_id]

        task.add_done_callback(forget)
        self._lingering[workload_id] = (sandbox, task, users_removed)

    def _schedule_removal(
        self,
        workload_id: str,
        container_ids: Sequence[str],
        delay: float = 0.0,
        after: asyncio.Task[None] | None = None,
    ) -> asyncio.Task[None]:
        """Remove containers in the background (see :meth:`_remove`); the task."""
        task = asyncio.create_task(
            self._remove(container_ids, delay=delay, after=after), name=f"remove-{workload_id}"
        )
        self._removals.add(task)
        task.add_done_callback(self._removals.discard)
        return task

    async def _remove(
        self,
        container_ids: Sequence[str],
        delay: float = 0.0,
        after: asyncio.Task[None] | None = None,
    ) -> None:
        """Remove containers in this order, ``delay`` seconds from now or when the runtime
        closes, whichever comes first, and not before the task ``after`` has ended."""
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closing.wait()
        if after is not None:
            await asyncio.wait({after})
        if self._engine is None:
            return
        for container_id in container_ids:
            try:
                await asyncio.to_thread(self._engine.remove, container_id)
            except EngineError as exc:
                logger.warning("cannot remove container %s: %s", container_id[:12], exc)

    async def close(self) -> None:
        """Stop watching and following; running containers keep running (a new server adopts
        them). Ended containers and kept sandboxes are removed first."""
        self._closing.set()
        tasks: list[asyncio.Task[Any]] = []
        for instance in list(self._instances):
            tasks.extend(instance.abandon())
        self._instances.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        while self._removals:  # a lingering sandbox's removal may schedule another
            done, _ = await asyncio.wait(set(self._removals), timeout=REMOVE_TIMEOUT)
            if not done:
                break
        self._lingering.clear()
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await asyncio.to_thread(engine.close)


if TYPE_CHECKING:

    def _conforms(
        runtime: ContainerRuntime, instance: ContainerInstance
    ) -> tuple[Runtime, Instance]:
        """Static check that the classes implement the runtime protocols."""
        return runtime, instance
