"""A workload's captured output, newest first, filtered by time and minimum level."""

from __future__ import annotations

from workloadlab.server.operations import workloads
from workloadlab.server.store import LogLine, Store

LEVELS = ("debug", "info", "warning", "error", "critical")
"""The levels of log lines, least severe first."""


def page(
    store: Store,
    workload_id: str,
    *,
    offset: int,
    limit: int,
    start_time: str | None,
    end_time: str | None,
    level: str | None,
) -> tuple[list[LogLine], int]:
    """A page of a workload's log lines and the total count; ``level`` (one of
    :data:`LEVELS`, any case) keeps that level and the more severe ones."""
    row = workloads.find(store, workload_id)
    levels = None if level is None else LEVELS[LEVELS.index(level.lower()) :]
    return store.list_logs(
        row.id,
        offset=offset,
        limit=limit,
        start_time=start_time,
        end_time=end_time,
        levels=levels,
    )
