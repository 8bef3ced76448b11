"""Invoke calls under way, per instance, so that an instance leaves only once it has answered.

A rolling change switches the invoke proxy to the new instance, then stops the old one. A call
that took the old instance's address just before the switch is still connecting or waiting for
its answer; stopping the old app then (our example app exits at once on SIGTERM) would cut it off
with a ``502``/``503``. So each call holds a :class:`Lease` on the address it was given, from the
moment it is given (in the same step of the event loop as the look-up, so a switch cannot come in
between) until its answer has been passed on; the old instance is stopped once
:meth:`Traffic.drained` says no lease on its address is left (or after the grace period).
"""

from __future__ import annotations

import asyncio


class Lease:
    """One call's hold on an instance's address (``target``); :meth:`release` it once done."""

    def __init__(self, traffic: Traffic, target: str) -> None:
        self.target = target
        self._traffic = traffic
        self._held = True

    def release(self) -> None:
        """The call is over (idempotent)."""
        if self._held:
            self._held = False
            self._traffic.leave(self.target)


class Traffic:
    """Counts the calls under way to each instance address."""

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._idle: dict[str, asyncio.Event] = {}

    def lease(self, target: str) -> Lease:
        """A call to ``target`` begins."""
        self._calls[target] = self._calls.get(target, 0) + 1
        idle = self._idle.get(target)
        if idle is not None:
            idle.clear()
        return Lease(self, target)

    def leave(self, target: str) -> None:
        """A call to ``target`` is over (use :meth:`Lease.release`)."""
        left = self._calls.get(target, 0) - 1
        if left > 0:
            self._calls[target] = left
            return
        self._calls.pop(target, None)
        idle = self._idle.pop(target, None)
        if idle is not None:
            idle.set()

    def calls(self, target: str) -> int:
        """How many calls to ``target`` are under way."""
        return self._calls.get(target, 0)

    async def drained(self, target: str) -> None:
        """Return once no call to ``target`` is under way (callers bound the wait)."""
        while self._calls.get(target):
            idle = self._idle.setdefault(target, asyncio.Event())
            await idle.wait()
