"""Waiting for the store to change: what lets a ``GET`` wait for news instead of being repeated.

The store calls :meth:`ChangeFeed.notify` after every commit; a request that asked to wait
(``Prefer: wait=N`` with ``If-None-Match``) awaits :meth:`ChangeFeed.wait`, looks again, and
answers as soon as what it shows has changed. All of it runs on the server's event loop.
"""

from __future__ import annotations

import asyncio


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

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait for the next commit, at most ``timeout`` seconds; ``False`` if none came (or
        the feed is closed)."""
        if self.closed or timeout <= 0:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return not self.closed
