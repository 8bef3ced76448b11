"""The draft reaper: workloads whose draft artifact's TTL ran out are removed.

``workload-api.md`` §4: a workload that runs a draft artifact lives for the draft TTL from its
last start. The reaper only decides *which* workloads expired; removing one (row, audit event,
instance, files) is the job of the function it is given, so that a workload is removed in one
place whoever removes it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from workloadlab.models import ArtifactStatus, utcnow
from workloadlab.server.settings import Timings
from workloadlab.server.store import Store, WorkloadRow

logger = logging.getLogger("workloadlab.server")

Expire = Callable[[WorkloadRow], Awaitable[None]]
"""Removes a workload whose draft TTL ran out."""


class DraftReaper:
    """Checks the drafts' TTLs now and then, and expires the workloads past theirs."""

    def __init__(self, store: Store, timings: Timings, expire: Expire) -> None:
        self.store = store
        self.timings = timings
        self.expire = expire

    async def run(self) -> None:
        """Check every ``ttl_check_interval`` (more often for a short TTL) until cancelled."""
        interval = max(0.05, min(self.timings.ttl_check_interval, self.timings.draft_ttl / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.expire_drafts()
            except Exception:
                logger.exception("draft expiry failed")

    async def expire_drafts(self) -> None:
        """Remove workloads whose draft artifact's TTL has run out (``workload-api.md`` §4)."""
        now = utcnow().timestamp()
        for row in self.store.all_workloads():
            artifact = self.store.get_artifact(row.artifact_id)
            if artifact is None or artifact.status is not ArtifactStatus.DRAFT:
                continue
            if parse_time(row.started_at) + self.timings.draft_ttl > now:
                continue
            await self.expire(row)
            logger.info("removed workload %s: its draft TTL ran out", row.id)


def parse_time(text: str) -> float:
    """POSIX seconds of a stored ISO timestamp."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
