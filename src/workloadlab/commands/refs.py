"""Which workload a user means: an id, a name, or (no reference) the session's current one.

The ``%workload`` commands and :func:`workloadlab.panel` both take such a reference. This sits
below both, so the panel package never imports the commands (which open panels).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from workloadlab.client import AsyncClient
from workloadlab.models.neutral import Workload

T = TypeVar("T")

ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


class Session(Protocol):
    """What the commands need of a front-end's session: a client, a way to run a coroutine
    to its end, and the current workload (the notebook's :class:`~workloadlab.notebook.session.
    Session`; the shell CLI's has no current workload)."""

    current_workload_id: str | None

    @property
    def client(self) -> AsyncClient:
        """The client (connecting on first use)."""
        ...

    def run(
        self,
        coroutine: Coroutine[Any, Any, T],
        timeout: float | None = None,
        *,
        tick: Callable[[], None] | None = None,
    ) -> T:
        """Run ``coroutine`` and wait for it; call ``tick`` now and then meanwhile."""
        ...

    def connect(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        local: bool = False,
        data_dir: str | None = None,
    ) -> AsyncClient:
        """Replace the client (``%workload connect``)."""
        ...


class WorkloadRefError(ValueError):
    """A reference that names no single workload; the message is one line."""


def resolve_workload(session: Session, ref: str | None) -> str:
    """A workload id from an id, a name, or (``None``) the current workload."""
    if ref is None:
        current = session.current_workload_id
        if current is None:
            raise WorkloadRefError(
                "no current workload: create one with `%workload create SPEC` "
                "or pick one with `%workload use ID|NAME`"
            )
        return current
    if ID_PATTERN.match(ref):
        return ref
    client = session.client  # connect here: the coroutine uses the client on the portal

    async def by_name() -> list[Workload]:
        return [w async for w in client.workloads.list(search=ref) if w.name == ref]

    found: list[Workload] = session.run(by_name())
    if not found:
        raise WorkloadRefError(f"unknown workload {ref!r} (no workload has that id or name)")
    if len(found) > 1:
        ids = ", ".join(w.id for w in found)
        raise WorkloadRefError(f"{len(found)} workloads are named {ref!r} ({ids}): use an id")
    return found[0].id
