"""Waiting for a workload's status, and watching it change; waiting for a deployment's move to
another version to be over.

Where the server can wait for a change (the local server: a ``GET`` with ``If-None-Match`` and
``Prefer: wait=N`` is answered as soon as the workload changes), every request waits there and
nothing sleeps here: a change is seen the moment it is stored, with one request per change.

Elsewhere (DataRobot) polling is adaptive: while something is under way (a transition such as
``initializing``, or a wait for a status not reached yet) the gap starts at :attr:`Polling.fast`
and grows by :attr:`Polling.growth` up to :attr:`Polling.fast_max`; once the workload is stable
and nothing changes, :func:`watch` polls every :attr:`Polling.stable` seconds. Any change
starts over fast. Cancellation propagates as it is (nothing to clean up); timeouts become
:class:`~workloadlab.errors.WaitTimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from workloadlab.errors import WaitTimeoutError, WorkloadErroredError, WorkloadlabError
from workloadlab.models import Deployment, Rollout, WorkloadStatus
from workloadlab.models.neutral import Workload

T = TypeVar("T")
LogTail = Callable[[], Awaitable[list[str]]]
Sleep = Callable[[float], Awaitable[None]]
OnChange = Callable[[Workload], object]
"""Called (on the event loop: keep it quick) with each new state of a workload being waited for."""


@dataclass(frozen=True)
class Polling:
    """Gaps between status polls, in seconds."""

    fast: float = 0.05
    """First gap while a transition is under way (or right after a change)."""
    fast_max: float = 0.5
    """The fast gap grows up to this."""
    growth: float = 1.5
    """Factor by which the fast gap grows after each unchanged poll."""
    stable: float = 2.0
    """Gap while the workload is in a stable status and nothing changes."""
    wait: float = 25.0
    """How long one request may wait at a server that can wait for a change (``0``: never
    ask, always poll)."""

    def next_gap(self, gap: float) -> float:
        """The fast gap after ``gap``."""
        return min(gap * self.growth, self.fast_max)


@dataclass(frozen=True)
class Observation:
    """A workload as one ``GET`` saw it, and what the next one needs to wait for a change."""

    workload: Workload
    etag: str | None = None
    """Its ``ETag``, if the server sent one."""
    server_waits: bool = False
    """The server honours ``Prefer: wait``: the next ``GET`` waits there for a change."""
    unchanged: bool = False
    """This answer was ``304``: nothing changed since the observation before."""


Observe = Callable[[Observation | None], Awaitable[Observation]]
"""One ``GET`` of the workload: plain for ``None``, else waiting for a change (if it can)."""


def as_statuses(status: str | Collection[str]) -> frozenset[WorkloadStatus]:
    """One status or several, as :class:`WorkloadStatus` values (unknown words are errors)."""
    words = [status] if isinstance(status, str) else list(status)
    try:
        return frozenset(WorkloadStatus(word) for word in words)
    except ValueError:
        known = ", ".join(s.value for s in WorkloadStatus)
        raise ValueError(f"unknown workload status in {status!r}; known: {known}") from None


def describe(statuses: Collection[WorkloadStatus]) -> str:
    """``running`` or ``stopped or errored``."""
    return " or ".join(sorted(s.value for s in statuses))


async def wait_for_status(
    observe: Observe,
    status: str | Collection[str],
    *,
    timeout: float | None,  # noqa: ASYNC109
    polling: Polling,
    sleep: Sleep,
    log_tail: LogTail,
    on_change: OnChange | None = None,
) -> Workload:
    """Wait until the workload has ``status``; raise if it goes ``errored`` (unless awaited).

    ``on_change`` is called with the workload when first seen and each time it changes.
    """
    wanted = as_statuses(status)
    last: Workload | None = None

    async def poll() -> Workload:
        nonlocal last
        gap = polling.fast
        seen: Observation | None = None
        while True:
            seen = await next_observation(observe, seen, polling, sleep)
            workload = seen.workload
            if on_change is not None and workload != last:
                on_change(workload)
            if workload.status in wanted:
                return workload
            if workload.status is WorkloadStatus.ERRORED:
                raise WorkloadErroredError(
                    workload, waiting_for=describe(wanted), log_tail=await _tail(workload, log_tail)
                )
            if seen.server_waits:
                last = workload
                continue  # the next request waits at the server
            gap = polling.fast if last is not None and workload != last else gap
            last = workload
            await sleep(gap)
            gap = polling.next_gap(gap)

    def timed_out() -> WaitTimeoutError:
        return WaitTimeoutError(last, waiting_for=describe(wanted), timeout=timeout or 0.0)

    return await within(timeout, poll, timed_out)


async def within(
    timeout: float | None,  # noqa: ASYNC109
    wait: Callable[[], Awaitable[T]],
    timed_out: Callable[[], WaitTimeoutError],
) -> T:
    """``await wait()``, bounded by ``timeout`` seconds (``None``: unbounded); past it, the
    error ``timed_out()`` makes (a timeout from inside ``wait`` goes through as it is)."""
    if timeout is None:
        return await wait()
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await wait()
    except TimeoutError:
        if not deadline.expired():
            raise
        raise timed_out() from None


async def next_observation(
    observe: Observe, seen: Observation | None, polling: Polling, sleep: Sleep
) -> Observation:
    """The next observation (``seen`` is the one before, if any); after an unchanged answer
    that did not wait (a server shutting down answers at once), a fast gap first, so that
    nothing spins."""
    if seen is None or not seen.server_waits:
        return await observe(seen)
    loop = asyncio.get_running_loop()
    began = loop.time()
    following = await observe(seen)
    if following.unchanged and loop.time() - began < polling.wait / 2:
        await sleep(polling.fast)
    return following


async def _tail(workload: Workload, log_tail: LogTail) -> list[str]:
    """The ``logTail`` the server sent, else (best effort) the last lines of the logs."""
    details = workload.status_details
    if details is not None and details.log_tail:
        return list(details.log_tail)
    with contextlib.suppress(WorkloadlabError):
        return await log_tail()
    return []


async def watch(observe: Observe, *, polling: Polling, sleep: Sleep) -> AsyncIterator[Workload]:
    """Yield the workload now and then each time it changes (waiting at the server where it
    can, else polling adaptively), forever."""
    last: Workload | None = None
    gap = polling.fast
    seen: Observation | None = None
    while True:
        seen = await next_observation(observe, seen, polling, sleep)
        workload = seen.workload
        if workload != last:
            yield workload
            last = workload
            gap = polling.fast
        elif workload.status.is_transition:
            gap = polling.next_gap(gap)
        else:
            gap = polling.stable
        if not seen.server_waits:
            await sleep(gap)


async def wait_for_rollout(
    get: Callable[[], Awaitable[Deployment]],
    *,
    timeout: float | None,  # noqa: ASYNC109
    polling: Polling,
    sleep: Sleep,
    on_change: Callable[[Rollout], object] | None = None,
) -> Rollout:
    """Poll a deployment (``get``) until its latest change is over; that change."""
    last: Rollout | None = None
    deployment: Deployment | None = None

    async def poll() -> Rollout:
        nonlocal last, deployment
        gap = polling.fast
        while True:
            deployment = await get()
            rollout = deployment.rollout
            if rollout is None:
                raise ValueError(
                    f"deployment {deployment.id} has no change of version to wait for"
                    " (the server may not move deployments between versions)"
                )
            if rollout != last:
                if on_change is not None:
                    on_change(rollout)
                gap = polling.fast if last is not None else gap
                last = rollout
            if rollout.status.finished:
                return rollout
            await sleep(gap)
            gap = polling.next_gap(gap)

    def timed_out() -> WaitTimeoutError:
        what = "the change of deployment"
        if deployment is not None and last is not None:
            what = f"{what} {deployment.id} to version {last.to_version} to be over"
        return WaitTimeoutError(None, waiting_for=what, timeout=timeout or 0.0)

    return await within(timeout, poll, timed_out)
