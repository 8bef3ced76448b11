"""One live sync: a watcher thread, and a task that restarts the workload on the new code.

**Threads and tasks.** watchfiles' Rust watcher (inotify on Linux) blocks, so it runs in a
thread of its own (named ``workloadlab-sync-<workload id>``), which hands each batch of changes
to the event loop the sync was started on (a kernel's portal) and returns as soon as its stop
event is set (within one ``step``). On that loop, one task restarts the workload, and one
asks once a second whether it still exists (a deleted workload ends the sync). :meth:`LiveSync.stop`
sets the stop event, cancels both tasks and joins the thread, so nothing is left behind.

**A watched directory deleted** (``rm -rf app`` before a copy, a ``git checkout``) ends its
inotify watch, and one made again in its place is not watched by it: the watcher checks its
roots after each batch and every :data:`ROOTS_CHECK_MS` ms; when one is gone it waits for it
to be back, then watches anew and hands the roots over as changed.

**Coalescing.** The watcher yields a batch once no change came for ``step`` ms (debounce), so a
burst of saves is one batch. Changes that come while a restart is stopping the old instance
are taken into that restart (the new process reads the files when it starts); only those that
come after it started make another one, after it.

**A syntax error** in a changed ``.py`` file (:func:`~workloadlab.sync.files.syntax_problems`)
is reported and nothing is restarted: the last good instance keeps serving. The files stay
pending, so the next save that fixes them restarts onto everything changed meanwhile. So too
when a watched directory or the entrypoint's script is gone (``rm -rf app`` before copying a
new one in, a ``git checkout``), or the entrypoint's script is empty (truncated by a save that
writes it a moment later): a restart then could only fail.

**After each successful sync** the hooks of :data:`AFTER_SYNC` run (smoke checks plug in
there), and their one-line results are part of the record the panel shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from watchfiles import Change, watch

from workloadlab.client import AsyncClient
from workloadlab.errors import ConflictError, NotFoundError, WorkloadlabError
from workloadlab.models import WorkloadStatus
from workloadlab.models.neutral import Workload
from workloadlab.sync.files import changed_paths, syntax_problems, watch_filter, watch_paths

logger = logging.getLogger("workloadlab.sync")

STEP_MS = 10
"""A batch of changes is handed over once no change came for this long (an editor's save,
or a loop of writes, is one batch; a human types slower)."""
MAX_BATCH_MS = 1600
"""...or after this long in any case (a save every few ms)."""
RESTART_TIMEOUT = 120.0
ROOTS_CHECK_MS = 200
"""How often a watcher with nothing to report checks that its roots still exist."""
READY_SECONDS = 30.0
"""How long :meth:`LiveSync.watching` waits at most (a huge tree takes a while to watch)."""
FOLLOW_SECONDS = 1.0
"""How often an idle sync asks whether its workload still exists."""
TURNED_OFF = "turned off"
"""Why a sync stopped when it was asked to."""

AfterSync = Callable[[AsyncClient, Workload], Awaitable[str]]
"""A check run after each successful sync: returns its one-line result (``"✓ 3 smoke checks
passed"``; ``""``: nothing to check, left out); raising reports the failure as its result."""
AFTER_SYNC: list[AfterSync] = []
"""Run after each successful sync of every live sync, in order (the smoke checks' hook)."""


class SyncState(StrEnum):
    """What a live sync is doing."""

    WATCHING = "watching"
    SYNCING = "syncing"
    STOPPED = "stopped"


class Outcome(StrEnum):
    """How a sync ended."""

    SYNCED = "synced"
    SYNTAX_ERROR = "syntax error"
    MISSING = "files missing"
    """A watched directory or the entrypoint's script gone, or that script empty."""
    FAILED = "failed"


@dataclass(frozen=True)
class SyncRecord:
    """One sync: when it ended, how long it took (first change seen → running), the files
    that changed, how it ended, why (a syntax error, a failed restart), and the checks."""

    ended_at: dt.datetime
    seconds: float
    files: tuple[Path, ...]
    outcome: Outcome
    message: str = ""
    checks: tuple[str, ...] = ()


@dataclass
class LiveSync:
    """Restarts ``workload_id`` whenever the files under ``roots`` change."""

    client: AsyncClient
    workload_id: str
    name: str
    roots: tuple[Path, ...]
    required: tuple[Path, ...] = ()
    """Files the app cannot start without besides the roots (the entrypoint's script)."""
    step_ms: int = STEP_MS
    timeout: float = RESTART_TIMEOUT
    state: SyncState = SyncState.WATCHING
    last: SyncRecord | None = None
    syncs: int = 0
    """Restarts made so far."""
    stopped_because: str = ""
    listeners: list[Callable[[LiveSync], None]] = field(default_factory=list)
    """Called on the loop after each change of state or record (keep them quick)."""
    _pending: set[Path] = field(default_factory=set)
    _first_seen: float | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _watching: threading.Event = field(default_factory=threading.Event)
    """Set once the watcher watches (a save before that would go unseen)."""
    _thread: threading.Thread | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        roots = ", ".join(str(r) for r in self.roots)
        return f"<LiveSync {self.name} {self.state.value}: {roots}>"

    @property
    def running(self) -> bool:
        """Whether it watches (its thread or a task is alive)."""
        alive = self._thread is not None and self._thread.is_alive()
        return alive or any(not t.done() for t in self._tasks)

    def start(self) -> None:
        """Start watching (on the running loop)."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self._watch, name=f"workloadlab-sync-{self.workload_id}", daemon=True
        )
        self._thread.start()
        self._tasks = [
            asyncio.create_task(self._syncing(), name=f"sync {self.workload_id}"),
            asyncio.create_task(self._following(), name=f"sync-follow {self.workload_id}"),
        ]

    async def watching(self) -> None:
        """Return once the watcher watches the roots (within :data:`ROOTS_CHECK_MS` ms of
        :meth:`start`: its first report, changes or none, comes after its watch is set up)."""
        await asyncio.to_thread(self._watching.wait, READY_SECONDS)

    async def stop(self, because: str = TURNED_OFF) -> None:
        """Stop watching and syncing; returns once the thread and the tasks have ended."""
        self._stop.set()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in self._tasks if t is not current), return_exceptions=True)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self.state is not SyncState.STOPPED:
            self.stopped_because = because
            self._set_state(SyncState.STOPPED)

    def _watch(self) -> None:
        """The watcher thread: each batch of changes to the loop, until the stop event. A
        watched directory deleted takes its watch with it: then wait for it to be back, and
        watch it anew (see the module's notes)."""
        assert self._loop is not None
        try:
            while not self._stop.is_set():
                with contextlib.suppress(FileNotFoundError):  # gone again before the watch
                    self._watch_roots()
                if not self._stop.is_set() and self._roots_back():
                    came_back = {(Change.added, str(root)) for root in self.roots}
                    self._loop.call_soon_threadsafe(self._changed, came_back)
        except Exception:  # the loop may be closed at exit; nothing to tell then
            logger.exception("live sync of %s: the watcher failed", self.workload_id)
        finally:
            self._watching.set()

    def _watch_roots(self) -> None:
        """Hand each batch over until the stop event, or until a root is gone."""
        assert self._loop is not None
        for changes in watch(
            *watch_paths(self.roots),
            watch_filter=watch_filter(self.roots),
            debounce=MAX_BATCH_MS,
            step=self.step_ms,
            stop_event=self._stop,
            rust_timeout=ROOTS_CHECK_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
        ):
            self._watching.set()
            if changes:
                self._loop.call_soon_threadsafe(self._changed, changes)
            if not all(root.exists() for root in self.roots):
                return

    def _roots_back(self) -> bool:
        """Wait until every root exists again (``True``) or the stop event (``False``)."""
        while not all(root.exists() for root in self.roots):
            if self._stop.wait(ROOTS_CHECK_MS / 1000):
                return False
        return True

    def _changed(self, changes: Iterable[tuple[Change, str]]) -> None:
        if self._first_seen is None:
            self._first_seen = asyncio.get_running_loop().time()
        self._pending |= changed_paths(changes)
        self._wake.set()

    async def _syncing(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._pending:
                await self._sync_once()

    async def _following(self) -> None:
        """End the sync when its workload is deleted: one GET a second while no sync runs (a
        restart notices a delete itself, and its CPU is better left to the app's start)."""
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            if self.client.is_closed:  # the session closed or connected elsewhere
                await self.stop("its connection was closed")
                return
            if self.state is SyncState.SYNCING:
                continue
            try:
                await self.client.workloads.get(self.workload_id)
            except NotFoundError:
                break
            except WorkloadlabError:  # the server is away for a moment: ask again later
                continue
        await self.stop("the workload was deleted")

    async def _sync_once(self) -> None:
        loop = asyncio.get_running_loop()
        began = self._first_seen if self._first_seen is not None else loop.time()
        files = tuple(sorted(self._pending))
        blocked = self._blocked()
        if blocked is not None:
            self._first_seen = None  # the fix's sync is timed from the fix
            self._record(began, files, *blocked)
            return
        self._pending.clear()
        self._first_seen = None
        self._set_state(SyncState.SYNCING)
        try:
            workload = await self._restart()
        except NotFoundError:
            await self.stop("the workload was deleted")
            return
        except (WorkloadlabError, OSError) as exc:
            self._record(began, files, Outcome.FAILED, _one_line(exc))
            return
        self.syncs += 1
        checks = [await _run_check(hook, self.client, workload) for hook in list(AFTER_SYNC)]
        self._record(began, files, Outcome.SYNCED, checks=tuple(line for line in checks if line))

    def _blocked(self) -> tuple[Outcome, str] | None:
        """Why the files as they are now must not be restarted onto (a deleted directory or
        entrypoint script, a syntax error), or ``None``."""
        missing = [path for path in (*self.roots, *self.required) if not path.exists()]
        if missing:
            gone = ", ".join(str(path) for path in missing)
            return Outcome.MISSING, f"{gone}: no such file or directory (not restarted)"
        empty = [path for path in self.required if path.is_file() and not path.stat().st_size]
        if empty:
            return Outcome.MISSING, f"{', '.join(str(p) for p in empty)}: empty (not restarted)"
        problems = syntax_problems(self._pending)
        if problems:
            message = "; ".join(str(p) for p in problems)
            return Outcome.SYNTAX_ERROR, f"{message} (not restarted)"
        return None

    async def _restart(self) -> Workload:
        """Stop, take in the changes that came meanwhile, start, wait for ``running``.

        ``POST …/stop`` answers once the workload has stopped (within the server's
        ``--stop-answer-wait``), so the start follows at once; only a start refused because
        it is still stopping waits for ``stopped`` first."""
        workloads = self.client.workloads
        await workloads.stop(self.workload_id)
        if self._pending and self._blocked() is None:
            self._pending.clear()  # the new instance reads them as it starts
            self._first_seen = None
            self._wake.clear()
        try:
            await workloads.start(self.workload_id)
        except ConflictError:
            stopped = [WorkloadStatus.STOPPED, WorkloadStatus.ERRORED]
            await workloads.wait_for_status(self.workload_id, stopped, timeout=self.timeout)
            await workloads.start(self.workload_id)
        return await workloads.wait_for_status(
            self.workload_id, WorkloadStatus.RUNNING, timeout=self.timeout
        )

    def _record(
        self,
        began: float,
        files: tuple[Path, ...],
        outcome: Outcome,
        message: str = "",
        checks: tuple[str, ...] = (),
    ) -> None:
        seconds = asyncio.get_running_loop().time() - began
        ended = dt.datetime.now(dt.UTC)
        self.last = SyncRecord(ended, seconds, files, outcome, message, checks)
        logger.info("live sync of %s: %s %s", self.workload_id, outcome.value, message)
        self._set_state(SyncState.WATCHING)

    def _set_state(self, state: SyncState) -> None:
        self.state = state
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:
                logger.exception("live sync listener failed")


async def _run_check(hook: AfterSync, client: AsyncClient, workload: Workload) -> str:
    try:
        return await hook(client, workload)
    except Exception as exc:
        return f"✗ {getattr(hook, '__name__', 'check')} failed: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
