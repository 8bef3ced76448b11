"""Waiting for a workload's status, and watching it change; waiting for a workload's
replacement, or a deployment's move to another version, to be over.

Where the server can wait for a change (the local server: a ``GET`` with ``If-None-Match`` and
``Prefer: wait=N`` is answered as soon as the workload changes), every request waits there and
nothing sleeps here: a change is seen the moment it is stored, with one request per change.

Elsewhere (DataRobot ignores ``Prefer: wait``) polling is adaptive and polite. While something
is under way the gap starts at :attr:`Polling.fast` and grows by :attr:`Polling.growth` up to
:attr:`Polling.fast_max`; after :attr:`Polling.brisk` seconds of waiting it keeps growing up to
:attr:`Polling.patient_max` (a several-minute start costs tens of requests, not hundreds). A
change starts over fast while the wait is young, at ``fast_max`` later. A ``429``/``503`` the
request's retries absorbed (each after ``Retry-After``) makes the next gap at least as long; one
they could not absorb is waited out (``Retry-After``, else a gap) a few times before it is
raised. Once the workload is stable and nothing changes, :func:`watch` polls every
:attr:`Polling.stable` seconds.

Statuses are words (``workload-api-current.md`` §5.1): ``running`` and ``stopped`` are stable;
``errored``, ``terminated`` and ``failed`` fail a wait (unless awaited); any other word, one this
package never heard of included, is "in progress": the wait goes on and shows it as it is.
Cancellation propagates as it is (nothing to clean up); timeouts become
:class:`~workloadlab.errors.WaitTimeoutError`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from workloadlab.client._http import retry_after
from workloadlab.errors import (
    APIStatusError,
    WaitTimeoutError,
    WorkloadErroredError,
    WorkloadlabError,
)
from workloadlab.models import Deployment, Rollout, WorkloadStatus
from workloadlab.models.neutral import REPLACEMENT_ENDS, Replacement, Workload

T = TypeVar("T")
LogTail = Callable[[], Awaitable[list[str]]]
Sleep = Callable[[float], Awaitable[None]]
OnChange = Callable[[Workload], object]
"""Called (on the event loop: keep it quick) with each new state of a workload being waited for."""


STABLE = frozenset(status.value for status in WorkloadStatus if status.is_stable)
"""Statuses a workload stays in until asked to move (``running``, ``stopped``)."""
FAILING = frozenset(status.value for status in WorkloadStatus if status.is_failure)
"""Statuses that fail a wait for another one (``errored``, ``terminated``, ``failed``)."""
THROTTLE_LIMIT = 5
"""How many polls in a row a wait lets a ``429``/``503`` its retries could not absorb fail."""
THROTTLED = frozenset({429, 503})


@dataclass(frozen=True)
class Polling:
    """Gaps between status polls, in seconds."""

    fast: float = 0.05
    """First gap while a transition is under way (or right after a change)."""
    fast_max: float = 0.5
    """The fast gap grows up to this."""
    growth: float = 1.5
    """Factor by which the gap grows after each unchanged poll."""
    stable: float = 2.0
    """Gap while the workload is in a stable status and nothing changes."""
    wait: float = 25.0
    """How long one request may wait at a server that can wait for a change (``0``: never
    ask, always poll)."""
    brisk: float = 5.0
    """For this many seconds of waiting (time slept between polls) gaps stay at most
    :attr:`fast_max`; after it they grow up to :attr:`patient_max`."""
    patient_max: float = 5.0
    """The longest gap while something is under way, once the wait is no longer young."""

    def next_gap(self, gap: float, waited: float = 0.0) -> float:
        """The gap after ``gap``, ``waited`` seconds into a wait."""
        cap = self.fast_max if waited < self.brisk else max(self.patient_max, self.fast_max)
        return min(gap * self.growth, cap)


@dataclass
class Pace:
    """The gaps of one wait: fast at first, patient later, never shorter than the server asked."""

    polling: Polling
    gap: float = field(init=False)
    waited: float = 0.0
    """Seconds slept so far."""

    def __post_init__(self) -> None:
        self.gap = self.polling.fast

    def after(self, *, changed: bool, throttled: float = 0.0) -> float:
        """The gap to sleep now, after a poll that saw a change (or not) and whose retries
        paused ``throttled`` seconds at the server's request; the gap after it grows."""
        if changed:
            young = self.waited < self.polling.brisk
            self.gap = self.polling.fast if young else self.polling.fast_max
        gap = max(self.gap, throttled)
        self.waited += gap
        self.gap = self.polling.next_gap(gap, self.waited)
        return gap


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
    throttled: float = 0.0
    """The longest pause a ``429``/``503`` imposed on this ``GET`` before it was answered."""


Observe = Callable[[Observation | None], Awaitable[Observation]]
"""One ``GET`` of the workload: plain for ``None``, else waiting for a change (if it can)."""

KNOWN_STATUSES = frozenset(status.value for status in WorkloadStatus)


def status_word(workload: Workload) -> str:
    """The workload's status as the word the server sent (or ``unknown``)."""
    return str(workload.status)


def in_progress(word: str) -> bool:
    """Whether a status is on its way somewhere: neither stable nor failing (unknown words
    included)."""
    return word not in STABLE and word not in FAILING


def as_statuses(status: str | Collection[str]) -> frozenset[str]:
    """One status or several, as words; a word neither generation knows is a ``ValueError``
    (a typo would otherwise wait forever)."""
    words = frozenset([str(status)] if isinstance(status, str) else (str(s) for s in status))
    strange = sorted(words - KNOWN_STATUSES)
    if strange:
        known = ", ".join(sorted(KNOWN_STATUSES))
        raise ValueError(f"unknown workload status in {strange!r}; known: {known}")
    return words


def describe(statuses: Collection[str]) -> str:
    """``running`` or ``stopped or errored``."""
    return " or ".join(sorted(statuses))


async def politely(
    observe: Observe, seen: Observation | None, polling: Polling, sleep: Sleep, pace: Pace
) -> Observation:
    """The next observation (:func:`next_observation`), waiting out a ``429``/``503`` its
    retries did not absorb (after ``Retry-After``, else the current gap),
    :data:`THROTTLE_LIMIT` times at most."""
    throttled = 0
    while True:
        try:
            return await next_observation(observe, seen, polling, sleep)
        except APIStatusError as exc:
            if exc.status_code not in THROTTLED or throttled >= THROTTLE_LIMIT:
                raise
            throttled += 1
            await sleep(pace.after(changed=False, throttled=retry_after(exc.headers) or 0.0))


@dataclass
class Latest:
    """The workload a wait saw last (for its timeout message)."""

    workload: Workload | None = None

    def __call__(self, workload: Workload) -> None:
        self.workload = workload


async def observe_until(
    observe: Observe,
    settle: Callable[[Workload], Awaitable[T | None]],
    *,
    polling: Polling,
    sleep: Sleep,
    on_change: OnChange | None,
    seen_last: Callable[[Workload], object],
) -> T:
    """Observe the workload (waiting at the server, else politely polling) until
    ``settle(workload)`` answers something other than ``None`` (or raises); that answer.
    ``on_change`` sees it first and on each change, ``seen_last`` each time."""
    pace = Pace(polling)
    seen: Observation | None = None
    last: Workload | None = None
    while True:
        seen = await politely(observe, seen, polling, sleep, pace)
        workload = seen.workload
        changed = last is not None and workload != last
        if on_change is not None and workload != last:
            on_change(workload)
        last = workload
        seen_last(workload)
        outcome = await settle(workload)
        if outcome is not None:
            return outcome
        if not seen.server_waits:  # else the next request waits at the server
            await sleep(pace.after(changed=changed, throttled=seen.throttled))


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
    """Wait until the workload has ``status``; raise if it fails (``errored``, ``terminated``,
    ``failed``) unless that is awaited.

    ``on_change`` is called with the workload when first seen and each time it changes.
    """
    wanted = as_statuses(status)
    last = Latest()

    async def settle(workload: Workload) -> Workload | None:
        word = status_word(workload)
        if word in wanted:
            return workload
        if word in FAILING:
            tail = await _tail(workload, log_tail)
            raise WorkloadErroredError(workload, waiting_for=describe(wanted), log_tail=tail)
        return None

    async def poll() -> Workload:
        return await observe_until(
            observe, settle, polling=polling, sleep=sleep, on_change=on_change,
            seen_last=last,
        )  # fmt: skip

    def timed_out() -> WaitTimeoutError:
        return WaitTimeoutError(last.workload, waiting_for=describe(wanted), timeout=timeout or 0.0)

    return await within(timeout, poll, timed_out)


async def wait_for_replacement(
    observe: Observe,
    history: Callable[[], Awaitable[Sequence[Replacement]]],
    *,
    replacement_id: str | None,
    timeout: float | None,  # noqa: ASYNC109
    polling: Polling,
    sleep: Sleep,
    on_change: OnChange | None = None,
) -> Replacement:
    """Poll the workload until its ``replacement`` is ``null`` or ended, then read its
    ``history`` (``workload-api-current.md`` §5.4: DataRobot drops a finished replacement at
    once): the record of ``replacement_id`` if given and listed, else the newest.

    Neither outcome is an error: check the record's ``status``. ``ValueError`` when there is
    no replacement to wait for (none under way and none in the history).
    """
    last = Latest()

    async def settle(workload: Workload) -> Replacement | None:
        under_way = workload.replacement  # {candidateProtonIds, status, strategy} or null
        if under_way is not None and str(under_way.get("status")) not in REPLACEMENT_ENDS:
            return None
        records = await history()
        mine = [record for record in records if record.id == replacement_id]
        if not (mine or records):
            raise ValueError(f"workload {workload.id} has no replacement to wait for")
        return (mine or records)[0]

    async def poll() -> Replacement:
        return await observe_until(
            observe, settle, polling=polling, sleep=sleep, on_change=on_change,
            seen_last=last,
        )  # fmt: skip

    def timed_out() -> WaitTimeoutError:
        what = "the replacement to be over"
        if (seen := last.workload) is not None:
            what = f"the replacement of workload {seen.name!r} ({seen.id}) to be over"
        return WaitTimeoutError(None, waiting_for=what, timeout=timeout or 0.0)

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
    can, else polling adaptively: patient when a transition drags on; rate limits waited out
    like a wait's), forever."""
    last: Workload | None = None
    gap = polling.fast
    quiet = 0.0  # seconds slept since the last change
    throttled = Pace(polling)  # the gaps of a 429/503 its retries did not absorb
    seen: Observation | None = None
    while True:
        seen = await politely(observe, seen, polling, sleep, throttled)
        workload = seen.workload
        if workload != last:
            yield workload
            last = workload
            gap, quiet = polling.fast, 0.0
        elif in_progress(status_word(workload)):
            gap = polling.next_gap(gap, quiet)
        else:
            gap = polling.stable
        if not seen.server_waits:
            gap = max(gap, seen.throttled)
            quiet += gap
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
        pace = Pace(polling)
        while True:
            deployment = await get()
            rollout = deployment.rollout
            if rollout is None:
                raise ValueError(
                    f"deployment {deployment.id} has no change of version to wait for"
                    " (the server may not move deployments between versions)"
                )
            changed = last is not None and rollout != last
            if rollout != last:
                if on_change is not None:
                    on_change(rollout)
                last = rollout
            if rollout.status.finished:
                return rollout
            await sleep(pace.after(changed=changed))

    def timed_out() -> WaitTimeoutError:
        what = "the change of deployment"
        if deployment is not None and last is not None:
            what = f"{what} {deployment.id} to version {last.to_version} to be over"
        return WaitTimeoutError(None, waiting_for=what, timeout=timeout or 0.0)

    return await within(timeout, poll, timed_out)
