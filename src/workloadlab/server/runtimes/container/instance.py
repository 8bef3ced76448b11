"""One started (or adopted) container group of a workload: its exit, its stop, its logs.

- **One instance, one container group.** As in a Kubernetes pod, the containers share one
  network (a sandbox's, see :mod:`~workloadlab.server.runtimes.container.sandbox`), and the
  instance ends when any of its containers ends; the rest are then killed.
- **Quick exits, quick stops.** Each container's state is polled at short gaps after its
  start and after a stop signal, growing to a second. dockerd's ``wait`` also reports an exit
  at once; podman's (4.3) answers 0.2-0.9 s late and keeps a CPU busy meanwhile, so it is not
  used there. A stop is the stop signal (the image's, else SIGTERM), the grace period, then
  SIGKILL; the exit status comes from inspect, with the engine's ``OOMKilled`` flag. The
  instance has ended once its containers have and their last lines are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from workloadlab.server.runtimes.base import Exit, LogSink, describe_exit
from workloadlab.server.runtimes.container.engine import Engine, EngineError
from workloadlab.server.runtimes.container.logs import LogCursor, LogPump

if TYPE_CHECKING:
    from workloadlab.server.runtimes.container.sandbox import Sandbox

logger = logging.getLogger("workloadlab.server")

RUNTIME_NAME = "container"
EXIT_POLL_FIRST = 0.02
EXIT_POLL_GROWTH = 1.25
EXIT_POLL_MAX = 1.0
"""Gaps between state checks: 20 ms after a start or a stop signal, growing to 1 s."""
KILL_TIMEOUT = 10.0
"""How long to wait for a SIGKILLed container to be reported gone before giving up on it."""

T = TypeVar("T")


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


@dataclass(eq=False)
class Member:
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


class ContainerInstance:
    """One started (or adopted) container group of a workload."""

    def __init__(
        self,
        *,
        workload_id: str,
        engine: Engine,
        members: Sequence[Member],
        sandbox: Sandbox | None,
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
        self._pump = LogPump(engine, self.members, on_logs, lambda: self.state, workload_id)
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
    def primary(self) -> Member:
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

        async def send(member: Member) -> None:
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

    async def _stop_signal(self, member: Member) -> str:
        """The image's ``STOPSIGNAL``, else SIGTERM."""
        try:
            info = await asyncio.to_thread(self._engine.inspect, member.container_id)
        except EngineError:
            info = None
        configured = ((info or {}).get("Config") or {}).get("StopSignal")
        return configured if isinstance(configured, str) and configured else signal.SIGTERM.name

    async def _watch_member(self, member: Member) -> dict[str, Any]:
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

    def _exit(self, member: Member, state: dict[str, Any]) -> Exit:
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
