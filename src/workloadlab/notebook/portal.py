"""The portal: one background thread with its own asyncio loop for all of a kernel's network I/O.

ipykernel runs cells on the main thread, and its own event loop is busy while a cell runs, so
work scheduled there would freeze while a magic waits. Everything that talks to the API runs on
the portal's loop instead: a magic submits a coroutine and blocks on its result (Ctrl-C cancels
it cleanly), a widget handler submits and returns at once, and watchers keep running between
and during cells.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

UNWIND_SECONDS = 5.0
"""How long a cancelled coroutine gets to clean up before the caller moves on."""


class Portal:
    """A daemon thread running an asyncio loop, started on first use."""

    def __init__(self, name: str = "workloadlab-portal") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "idle"
        return f"<Portal {self._name} {state}>"

    @property
    def running(self) -> bool:
        """Whether the loop thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The portal's event loop (starting the thread if needed)."""
        with self._lock:
            if self._loop is None or not self.running:
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._loop = loop
                self._thread = threading.Thread(target=serve, name=self._name, daemon=True)
                self._thread.start()
                ready.wait()
            return self._loop

    def in_portal(self) -> bool:
        """Whether the caller runs on the portal's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule a coroutine on the portal and return at once."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(
        self,
        coroutine: Coroutine[Any, Any, T],
        timeout: float | None = None,
        *,
        tick: Callable[[], None] | None = None,
        tick_interval: float = 0.2,
    ) -> T:
        """Run a coroutine on the portal and wait for its result, calling ``tick`` every
        ``tick_interval`` seconds meanwhile (to redraw a progress line).

        Ctrl-C (``KeyboardInterrupt``) or the timeout cancels the coroutine and waits (up to
        ``UNWIND_SECONDS``) until it has unwound, so it can stop what it started; then the
        exception propagates.
        """
        if self.in_portal():
            raise RuntimeError("Portal.run() called from the portal's own thread")
        started: list[asyncio.Task[Any]] = []

        async def tracked() -> T:
            task = asyncio.current_task()
            assert task is not None
            started.append(task)
            return await coroutine

        future = self.submit(tracked())
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                wait = None if tick is None else tick_interval
                if deadline is not None:
                    left = max(0.0, deadline - time.monotonic())
                    wait = left if wait is None else min(wait, left)
                try:
                    return future.result(wait)
                except concurrent.futures.TimeoutError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
                    if tick is not None:
                        tick()
        except (KeyboardInterrupt, concurrent.futures.TimeoutError):
            self._cancel_and_wait(future, started)
            raise

    def _cancel_and_wait(
        self, future: concurrent.futures.Future[Any], started: list[asyncio.Task[Any]]
    ) -> None:
        unwound = threading.Event()

        def cancel() -> None:
            if not started or started[0].done():
                future.cancel()  # not started yet: it never will
                unwound.set()
                return
            started[0].add_done_callback(lambda _: unwound.set())
            started[0].cancel()

        self.loop.call_soon_threadsafe(cancel)
        unwound.wait(UNWIND_SECONDS)

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Run a plain callback on the portal's loop."""
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self) -> None:
        """Stop the loop and join the thread (tests; kernels just exit)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5)
            loop.close()


_portal: Portal | None = None
_portal_lock = threading.Lock()


def get_portal() -> Portal:
    """The kernel's one portal."""
    global _portal
    with _portal_lock:
        if _portal is None:
            _portal = Portal()
        return _portal
