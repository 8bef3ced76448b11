"""What waiting on a workload needs: the polling gaps, and one ``GET`` that may wait at the
server for a change (``Prefer: wait`` with the last ``ETag``; the local server honours it)."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from workloadlab.client._http import Requester
from workloadlab.client.generations import ApiResolver
from workloadlab.client.resources._base import Resource
from workloadlab.client.waiting import Observation, Polling
from workloadlab.models.neutral import Workload


class ObservedResource(Resource):
    """Workloads as something to wait on."""

    def __init__(self, requester: Requester, api: ApiResolver, polling: Polling) -> None:
        super().__init__(requester, api)
        self.polling = polling
        """Gaps of the waits and of ``watch``; replaceable."""

    async def observe(
        self, id: str, seen: Observation | None = None, *, polling: Polling | None = None
    ) -> Observation:
        """One ``GET`` of a workload, for waiting on it.

        It tells the server it may wait for a change (``Prefer: wait``, :attr:`Polling.wait`);
        once a server has said it can (the local server), it is asked, with the ETag ``seen``
        has, to answer when the workload differs from that (or ``304`` after the wait).
        """
        polling = polling or self.polling
        throttled: list[float] = []  # the pauses a 429 or 503 asked for
        headers: dict[str, str] = {}
        timeout: Any = httpx.USE_CLIENT_DEFAULT
        if polling.wait > 0:
            headers["Prefer"] = f"wait={polling.wait:g}"
            if seen is not None and seen.server_waits and seen.etag is not None:
                headers["If-None-Match"] = seen.etag
                timeout = _longer_read(self._requester.http.timeout, polling.wait)
        path = await self._url("workload", id)
        response = await self._requester.request(
            "GET", path, headers=headers, timeout=timeout, on_retry=throttled.append
        )
        if response.status_code == 304 and seen is not None:
            return dataclasses.replace(seen, unchanged=True, throttled=max(throttled, default=0.0))
        applied = response.headers.get("preference-applied", "")
        return Observation(
            Requester.parse(Workload, response),
            etag=response.headers.get("etag"),
            server_waits=polling.wait > 0 and "wait" in applied.lower(),
            throttled=max(throttled, default=0.0),
        )


def _longer_read(timeout: httpx.Timeout, wait: float) -> httpx.Timeout:
    """``timeout`` with ``wait`` more seconds to read the answer (the server waits first)."""
    read = None if timeout.read is None else timeout.read + wait
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)
