"""Waiting for the store to change: what lets a ``GET`` wait for news instead of being repeated.

The store calls :meth:`ChangeFeed.notify` after every commit; a request that asked to wait
(``Prefer: wait=N`` with ``If-None-Match``) awaits :meth:`ChangeFeed.wait`, looks again, and
answers as soon as what it shows has changed. All of it runs on the server's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any


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
