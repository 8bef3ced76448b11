"""Coalescing redraws: at most ``rate`` per second, and never a change left undrawn.

Anything may ask for a redraw at any time and from any thread (:meth:`Throttle.request`); the
redraw runs on the portal's loop, at once if the last one is older than the interval, else when
the interval is over. Requests that arrive meanwhile are folded into that one redraw. Because a
request made during a redraw schedules another, the final state is always drawn.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from workloadlab.notebook.portal import Portal

logger = logging.getLogger(__name__)

DEFAULT_RATE = 10.0
"""Redraws per second per panel (Jupyter drops IOPub messages beyond 1,000/s)."""


class Throttle:
    """Runs ``flush`` on the portal's loop at most ``rate`` times per second."""

    def __init__(self, portal: Portal, flush: Callable[[], None], rate: float = DEFAULT_RATE):
        self._portal = portal
        self._flush = flush
        self.interval = 1.0 / rate
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False
        self._last = float("-inf")
        self._timer: asyncio.TimerHandle | None = None
        self.flushes = 0
        """How many redraws ran (tests and benchmarks read it)."""

    def request(self) -> None:
        """Ask for a redraw (thread-safe, returns at once)."""
        with self._lock:
            if self._pending or self._closed:
                return
            self._pending = True
        self._portal.call_soon(self._arm)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._last + self.interval - loop.time()
        if delay <= 0:
            self._run()
        else:
            self._timer = loop.call_later(delay, self._run)

    def _run(self) -> None:
        with self._lock:
            self._pending = False
            self._timer = None
            if self._closed:
                return
        self._last = asyncio.get_running_loop().time()
        self.flushes += 1
        try:
            self._flush()
        except Exception:  # a drawing bug must not stop later redraws
            logger.exception("panel redraw failed")

    def close(self) -> None:
        """No more redraws."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            self._portal.call_soon(timer.cancel)
