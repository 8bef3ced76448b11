"""Removing ended containers in the background, off the path of the start that usually follows.

The engine's removal of a container and its creation of the next one contend for its locks, so
a restart is quicker when the old containers go a little later. A runtime that closes removes
at once what waits for its delay, and waits (a while) for every removal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from workloadlab.server.runtimes.container.engine import Engine, EngineError

logger = logging.getLogger("workloadlab.server")

REMOVE_TIMEOUT = 10.0
"""How long :meth:`Removals.drain` waits for ended containers to be removed."""


class Removals:
    """A runtime's container removals under way."""

    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        """``engine()``: the runtime's engine client, ``None`` if it never connected."""
        self._engine = engine
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()

    def schedule(
        self,
        workload_id: str,
        container_ids: Sequence[str],
        delay: float = 0.0,
        after: asyncio.Task[None] | None = None,
    ) -> asyncio.Task[None]:
        """Remove containers in the background (see :meth:`remove`); the task."""
        task = asyncio.create_task(
            self.remove(container_ids, delay=delay, after=after), name=f"remove-{workload_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def remove(
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
        engine = self._engine()
        if engine is None:
            return
        for container_id in container_ids:
            try:
                await asyncio.to_thread(engine.remove, container_id)
            except EngineError as exc:
                logger.warning("cannot remove container %s: %s", container_id[:12], exc)

    def hurry(self) -> None:
        """The runtime closes: removals waiting for their delay start now."""
        self._closing.set()

    async def drain(self) -> None:
        """Wait until every removal has run (up to :data:`REMOVE_TIMEOUT` for each round)."""
        while self._tasks:  # a lingering sandbox's removal may schedule another
            done, _ = await asyncio.wait(set(self._tasks), timeout=REMOVE_TIMEOUT)
            if not done:
                break
