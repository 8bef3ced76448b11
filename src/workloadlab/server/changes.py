"""Waiting for a change instead of polling: conditional ``GET``s that wait.

The store calls :meth:`ChangeFeed.notify` after every commit. A ``GET`` carries an ``ETag``; one
with ``If-None-Match`` naming it is answered ``304`` while nothing changed, and with ``Prefer:
wait=N`` (RFC 7240) as well, :func:`wait_for_change` holds it until a commit changes what it
shows, its client goes away, the server shuts down, or N seconds pass. All of it runs on the
server's event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

MAX_WAIT = 60.0
"""The longest ``Prefer: wait`` honoured, in seconds (longer asks wait this long)."""
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?(\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class Rendered:
    """A body as a ``GET`` answers it, with its ETag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Rendered:
        """``body`` with its (strong) ETag."""
        return cls(body, entity_tag(body))


class ChangeFeed:
    """Wakes every waiter at the next commit; :meth:`close` wakes them for good (shutdown)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self.closed = False

    def notify(self) -> None:
        """Something was committed: wake everyone waiting."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """The server is shutting down: wake every waiter now and let nobody wait again."""
        self.closed = True
        self.notify()

    async def wait(
        self,
        timeout: float,  # noqa: ASYNC109
        *,
        unless: asyncio.Future[Any] | None = None,
    ) -> bool:
        """Wait for the next commit, at most ``timeout`` seconds; ``False`` if none came, the
        feed is closed, or ``unless`` (the client went away) was done first."""
        if self.closed or timeout <= 0 or (unless is not None and unless.done()):
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def cut_short(_: object) -> None:
            if not waiter.done():
                waiter.set_result(None)

        self._waiters.add(waiter)
        if unless is not None:
            unless.add_done_callback(cut_short)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
            if unless is not None:
                unless.remove_done_callback(cut_short)
        return not self.closed and not (unless is not None and unless.done())


async def wait_for_change(
    request: Request, feed: ChangeFeed, render: Callable[[], Rendered], tag: str, wait: float
) -> Rendered | None:
    """What ``render`` gives once its ETag is no longer ``tag``; ``None`` if that did not
    happen within ``wait`` seconds, or the client went away, or the server is shutting down.
    (``render`` raises if the thing is gone.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        while await feed.wait(deadline - loop.time(), unless=gone):
            rendered = render()
            if rendered.etag != tag:
                return rendered
    finally:
        gone.cancel()
    return None


def preferred_wait(prefer: str | None) -> float | None:
    """Seconds of ``Prefer: wait=N`` (RFC 7240), capped at :data:`MAX_WAIT`; ``None`` if absent."""
    if not prefer:
        return None
    match = _PREFER_WAIT.search(prefer)
    return None if match is None else min(float(match.group(1)), MAX_WAIT)


def entity_tag(body: bytes) -> str:
    """A strong ETag of a rendered body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``tag`` (or is ``*``); weak tags compare by
    their opaque part, as RFC 9110 says for this header."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


async def _disconnected(request: Request) -> None:
    """Return once the client has closed the connection; the request has no body, so nothing
    else reads these messages."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
