"""The watcher: one per workload per kernel, on the portal, feeding the panels of that workload.

On a server that can wait for a change (the local server) each status request waits there and
is answered the moment the workload changes. Elsewhere it polls the workload adaptively
(:class:`~workloadlab.client.Polling`): fast while a transition is under way or just after a
panel acted (:meth:`Watcher.poke`), every ``stable`` seconds otherwise. New log lines, events
and (when an event says so) the artifact are fetched by a second task when the workload changed,
and every ``details`` seconds anyway.

It is written here rather than on top of ``client.workloads.watch`` because a panel needs two
things that iterator cannot give: a wake-up when the panel itself just started something, and a
watch that outlives errors (a lost connection is reported to the listeners and retried with a
growing gap; only a deleted workload ends it). Listeners are called on the portal's loop; they
must be quick (they update state and ask for a redraw).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from workloadlab.client import AsyncClient, Observation, Polling
from workloadlab.client.waiting import next_observation
from workloadlab.commands.describe import one_line
from workloadlab.errors import ConfigError, NotFoundError, WorkloadlabError
from workloadlab.models import Deployment, Event, LogRecord
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.session import Session

logger = logging.getLogger(__name__)

LOG_LINES = 200
"""How many log lines a panel keeps."""
EVENTS = 50
"""How many of the newest events a panel shows."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WatchListener(Protocol):
    """What a watcher tells a panel (on the portal's loop)."""

    def workload_changed(self, workload: Workload) -> None:
        """The workload now (its first state, then each change)."""

    def logs_added(self, records: Sequence[LogRecord]) -> None:
        """New log lines, oldest first."""

    def events_changed(self, events: Sequence[Event]) -> None:
        """The newest events, newest first."""

    def artifact_changed(self, artifact: Artifact) -> None:
        """The artifact as the server has it now (after an ``artifact.*`` event)."""

    def connection_changed(self, problem: str | None) -> None:
        """Polling fails (``problem`` says why) or works again (``None``)."""

    def workload_gone(self) -> None:
        """The workload was deleted: the watcher has stopped."""

    def deployment_made(self, deployment: Deployment) -> None:
        """A deployment of the workload was just made here (``%workload deploy``)."""


@dataclass(frozen=True)
class WatchTiming:
    """How often a watcher asks the server."""

    polling: Polling
    """Status polls: fast gaps during transitions, ``stable`` otherwise."""
    details: float
    """Gap between log/event fetches when nothing changed."""
    hurry: float = 5.0
    """Seconds of fast polling after :meth:`Watcher.poke`."""
    retry_max: float = 10.0
    """Longest gap between retries while the server cannot be reached."""
    versions: float = 10.0
    """Gap between readings of a deployed artifact's versions (one locked elsewhere shows up
    in the panel's version chooser after at most this long, or the panel's next clock tick)."""


LOCAL = WatchTiming(Polling(fast=0.05, fast_max=0.5, growth=1.5, stable=0.5), details=2.0)
"""The local server: status requests wait there for a change (these gaps apply to a server
that cannot); logs and events every 2 s, and at once after a change."""
REMOTE = WatchTiming(
    Polling(fast=0.2, fast_max=2.0, growth=1.5, stable=5.0), details=10.0, versions=120.0
)
"""DataRobot: mind the rate limits (reading versions there may read whole lists); transitions
still show within a couple of seconds."""


def timing_for(endpoint: str) -> WatchTiming:
    """:data:`LOCAL` for a loopback endpoint, else :data:`REMOTE`."""
    host = httpx.URL(endpoint).host
    return LOCAL if host in LOCAL_HOSTS else REMOTE


class Watcher:
    """Polls one workload on the portal while at least one listener is subscribed."""

    def __init__(self, session: Session, workload_id: str, timing: WatchTiming | None = None):
        self.session = session
        self.workload_id = workload_id
        self.timing = timing or timing_for(session.client.endpoint)
        self.latest: Workload | None = None
        self._listeners: list[WatchListener] = []
        self._lock = threading.Lock()
        self._future: concurrent.futures.Future[None] | None = None
        self._wake: asyncio.Event | None = None
        self._details_due: asyncio.Event | None = None
        self._hurry_until = 0.0
        self._logs: deque[LogRecord] = deque(maxlen=LOG_LINES)
        self._events: list[Event] = []
        self._artifact_marker: tuple[object, ...] | None = None
        self._artifact: Artifact | None = None
        self.stopped = threading.Event()
        """Set once the watch has ended (tests wait on it)."""
        self.polls = 0
        """How many status polls ran."""

    def __repr__(self) -> str:
        return f"<Watcher {self.workload_id} {'running' if self.running else 'stopped'}>"

    @property
    def running(self) -> bool:
        """Whether the watch is under way."""
        return self._future is not None and not self._future.done()

    @property
    def listeners(self) -> int:
        """How many panels listen."""
        with self._lock:
            return len(self._listeners)

    # -- subscribing (any thread) ------------------------------------------------------------

    def subscribe(self, listener: WatchListener) -> None:
        """Add a listener (it first hears the latest state) and start watching if needed."""
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
            start = self._future is None or self._future.done()
            if start:
                self.stopped.clear()
                self._future = self.session.portal.submit(self._main())
        if not start:
            self.session.portal.call_soon(self._replay, listener)

    def unsubscribe(self, listener: WatchListener) -> None:
        """Remove a listener; the last one leaving stops the watch."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if self._listeners:
                return
            future, self._future = self._future, None
        _forget(self)
        if future is not None and not future.cancel():
            self.stopped.set()

    def poke(self, deployment: Deployment | None = None) -> None:
        """Look now and fast for a while (something here just changed the workload); a
        ``deployment`` just made of it goes to the listeners at once."""
        self.session.portal.call_soon(self._poke, deployment)

    def observe(self, workload: Workload) -> None:
        """A state seen elsewhere (an action's own polling): share it (on the portal's loop)."""
        self._accept(workload)

    # -- on the portal -----------------------------------------------------------------------

    def _poke(self, deployment: Deployment | None) -> None:
        if deployment is not None:
            self._each(lambda listener: listener.deployment_made(deployment))
        self._hurry_until = time.monotonic() + self.timing.hurry
        if self._wake is not None:
            self._wake.set()
        if self._details_due is not None:
            self._details_due.set()

    def _replay(self, listener: WatchListener) -> None:
        if self.latest is not None:
            self._call(listener.workload_changed, self.latest)
        if self._logs:
            self._call(listener.logs_added, list(self._logs))
        if self._events:
            self._call(listener.events_changed, list(self._events))
        if self._artifact is not None:
            self._call(listener.artifact_changed, self._artifact)

    def _each(self, call: Callable[[WatchListener], None]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                call(listener)
            except Exception:  # one broken panel must not stop the others' updates
                logger.exception("panel listener failed")

    @staticmethod
    def _call(method: Callable[..., None], *args: object) -> None:
        try:
            method(*args)
        except Exception:
            logger.exception("panel listener failed")

    def _accept(self, workload: Workload) -> bool:
        if workload == self.latest:
            return False
        self.latest = workload
        self._each(lambda listener: listener.workload_changed(workload))
        if self._details_due is not None:
            self._details_due.set()
        return True

    @property
    def _client(self) -> AsyncClient:
        # Never connect from here: connecting runs on the portal and waits for it.
        if not self.session.connected:
            raise ConfigError("not connected (run %workload connect)")
        return self.session.client

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        self._details_due = asyncio.Event()
        self._details_due.set()
        details = asyncio.create_task(self._details_loop())
        try:
            await self._status_loop()
        finally:
            details.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await details
            self.stopped.set()

    async def _status_loop(self) -> None:
        polling = self.timing.polling
        gap = polling.fast
        failures = 0
        seen: Observation | None = None
        while True:
            try:
                seen = await next_observation(self._observe, seen, polling, self._sleep)
                workload = seen.workload
            except NotFoundError:
                self._each(lambda listener: listener.workload_gone())
                _forget(self)
                return
            except (WorkloadlabError, OSError) as exc:
                failures += 1
                self._tell_problem(one_line(exc))
                await self._sleep(min(self.timing.retry_max, polling.fast * 2 ** (failures + 3)))
                continue
            self.polls += 1
            if failures:
                failures = 0
                self._each(lambda listener: listener.connection_changed(None))
            if self._accept(workload):
                gap = polling.fast
            elif workload.status.is_transition or time.monotonic() < self._hurry_until:
                gap = polling.next_gap(gap)
            else:
                gap = polling.stable
            if not seen.server_waits:
                await self._sleep(gap)

    async def _observe(self, seen: Observation | None) -> Observation:
        """One status request (waiting at the server for a change, where it can)."""
        workloads = self._client.workloads
        return await workloads.observe(self.workload_id, seen, polling=self.timing.polling)

    def _tell_problem(self, problem: str) -> None:
        self._each(lambda listener: listener.connection_changed(problem))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, unless poked meanwhile."""
        assert self._wake is not None
        await _wait_set(self._wake, seconds)
        self._wake.clear()

    async def _details_loop(self) -> None:
        assert self._details_due is not None
        while True:
            await _wait_set(self._details_due, self.timing.details)
            self._details_due.clear()
            try:
                await self._fetch_logs()
                await self._fetch_events()
            except asyncio.CancelledError:
                raise
            except (WorkloadlabError, OSError) as exc:
                logger.debug("fetching logs/events of %s failed: %s", self.workload_id, exc)
            except Exception:
                logger.exception("fetching logs/events of %s failed", self.workload_id)
            await asyncio.sleep(self.timing.polling.fast)  # at most ~20 fetches/s in a burst

    async def _fetch_logs(self) -> None:
        newest = self._logs[-1].timestamp if self._logs else None
        page = await self._client.workloads.logs(
            self.workload_id,
            limit=LOG_LINES if newest is None else 1000,
            start_time=newest.isoformat() if newest is not None else None,
        )
        seen = {(r.timestamp, r.message) for r in self._logs if r.timestamp == newest}
        fresh = [r for r in reversed(page.data) if (r.timestamp, r.message) not in seen]
        if fresh:
            self._logs.extend(fresh)
            self._each(lambda listener: listener.logs_added(fresh))

    async def _fetch_events(self) -> None:
        page = await self._client.workloads.events(self.workload_id, limit=EVENTS)
        events = list(page.data)
        if [e.id for e in events] != [e.id for e in self._events]:
            self._events = events
            self._each(lambda listener: listener.events_changed(events))
        marker = _artifact_marker(events, self.latest)
        artifact_id = self.latest.artifact_id if self.latest is not None else None
        if marker != self._artifact_marker and artifact_id is not None:
            # Also on the first fetch: the artifact may have changed since the panel loaded it.
            artifact = self._artifact = await self._client.artifacts.get(artifact_id)
            self._each(lambda listener: listener.artifact_changed(artifact))
        self._artifact_marker = marker


async def _wait_set(event: asyncio.Event, seconds: float) -> None:
    """Wait until ``event`` is set or ``seconds`` have passed. (Not ``asyncio.wait_for``: on
    Python 3.11 it can swallow a cancellation that meets the event being set, and a watcher
    being stopped would then carry on.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _artifact_marker(events: Sequence[Event], workload: Workload | None) -> tuple[object, ...]:
    """What changes when the artifact does: its newest event, and the workload's summary of it
    (servers without events still change the summary when it is renamed or registered)."""
    newest = next((e.id for e in events if e.event_type.startswith("artifact.")), None)
    return (newest, workload.artifact if workload is not None else None)


# -- the registry: one watcher per workload per kernel ----------------------------------------

_watchers: dict[tuple[Session, str], Watcher] = {}
_registry_lock = threading.Lock()


def watcher_for(session: Session, workload_id: str) -> Watcher:
    """The kernel's watcher of this workload (made on first use)."""
    with _registry_lock:
        watcher = _watchers.get((session, workload_id))
        if watcher is None:
            watcher = _watchers[(session, workload_id)] = Watcher(session, workload_id)
        return watcher


def poke_watcher(session: Session, workload_id: str, deployment: Deployment | None = None) -> None:
    """Something just changed the workload (a magic): its watcher, if a panel has one, looks
    now instead of at its next poll; a ``deployment`` the magic made is shown at once."""
    with _registry_lock:
        watcher = _watchers.get((session, workload_id))
    if watcher is not None:
        watcher.poke(deployment)


def active_watchers() -> list[Watcher]:
    """Every watcher that has listeners."""
    with _registry_lock:
        return list(_watchers.values())


def _forget(watcher: Watcher) -> None:
    with _registry_lock:
        key = (watcher.session, watcher.workload_id)
        if _watchers.get(key) is watcher:
            del _watchers[key]
