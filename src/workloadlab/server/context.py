"""What every route needs, owned by the app's lifespan (no module globals)."""

from __future__ import annotations

import getpass
import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from workloadlab.server.audit import Actor
from workloadlab.server.changes import ChangeFeed, Rendered
from workloadlab.server.proxy import InvokeProxy
from workloadlab.server.settings import ServerSettings
from workloadlab.server.store import Store, WorkloadRow
from workloadlab.server.supervisor import Supervisor
from workloadlab.server.views import workload_json

RENDERED_CACHE_SIZE = 256
"""Workload bodies kept for reuse (each is dropped by the next change anyway)."""


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, the way FastAPI's ``JSONResponse`` renders it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def local_user() -> dict[str, Any]:
    """The one user of a local server: whoever runs it, with a stable id."""
    name = getpass.getuser()
    return {
        "id": hashlib.sha256(name.encode()).hexdigest()[:24],
        "username": name,
        "email": f"{name}@localhost",
    }


@dataclass
class ServerContext:
    """The store, supervisor and settings of one running server."""

    settings: ServerSettings
    store: Store
    supervisor: Supervisor
    proxy: InvokeProxy
    user: dict[str, Any] = field(default_factory=local_user)
    changes: ChangeFeed = field(default_factory=ChangeFeed)
    _rendered: dict[tuple[str, str], tuple[int, Rendered]] = field(default_factory=dict, repr=False)

    @property
    def actor(self) -> Actor:
        """Who the requests of this server act as (its one user)."""
        return Actor.of(self.user)

    def workload_body(self, workload_id: str, base_url: str) -> Rendered | None:
        """A workload's JSON as ``GET`` answers it, with its ETag, or ``None`` if there is no
        such workload.

        Reused while the store has not changed since it was rendered: clients poll this (the
        panel, ``wait_for_status``, curl loops) far more often than anything changes.
        """
        key = (workload_id, base_url)
        version = self.store.version
        cached = self._rendered.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        row = self.store.get_workload(workload_id)
        if row is None:
            return None
        rendered = Rendered.of(json_bytes(self.workload_json(row, base_url)))
        if version is not None:
            if len(self._rendered) >= RENDERED_CACHE_SIZE:
                self._rendered.clear()
            self._rendered[key] = (version, rendered)
        return rendered

    def workload_json(self, row: WorkloadRow, base_url: str) -> dict[str, Any]:
        """A workload as the API returns it, with this server's settings."""
        return workload_json(
            row,
            self.store,
            base_url,
            draft_ttl=self.settings.timings.draft_ttl,
            log_tail_lines=self.settings.log_tail_lines,
        )


async def get_context(request: Request) -> ServerContext:
    """FastAPI dependency: the running server's context (async: a sync dependency would cost
    a worker-thread hop on every request)."""
    context: ServerContext = request.app.state.context
    return context


def base_url(request: Request) -> str:
    """``scheme://host:port`` as the client reached this server (for absolute links)."""
    return str(request.base_url).rstrip("/")


Context = Annotated[ServerContext, Depends(get_context)]
"""A route parameter that receives the running server's context."""
MAX_OFFSET = 2**31 - 1
"""The largest ``offset`` of a list (SQLite's integers end at 2**63 - 1: a larger one was a
``500``)."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
"""The ``offset`` query parameter of a list route (``0`` … ``2**31 - 1``)."""
Limit = Annotated[int, Query(ge=1, le=100)]
"""The ``limit`` query parameter of a list route (at most 100; more is ``422``)."""
