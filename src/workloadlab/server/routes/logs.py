"""``/otel/workload/{id}/logs/``: what a workload's containers wrote, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import Response

from workloadlab.models import LogRecord, Page
from workloadlab.server.context import Context, Offset
from workloadlab.server.operations import logs
from workloadlab.server.operations.logs import LEVELS
from workloadlab.server.routing import api_router
from workloadlab.server.views import log_json, paged

router = api_router("/otel/workload", "logs")

LEVEL_PATTERN = "^(?:{})$".format(
    "|".join("".join(f"[{char}{char.upper()}]" for char in level) for level in LEVELS)
)
"""One of :data:`LEVELS`, in any case (a pattern the OpenAPI schema can say)."""


@router.get("/{workload_id}/logs", response_model=Page[LogRecord])
async def workload_logs(
    workload_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    start_time: Annotated[str | None, Query(alias="startTime")] = None,
    end_time: Annotated[str | None, Query(alias="endTime")] = None,
    level: Annotated[str | None, Query(pattern=LEVEL_PATTERN)] = None,
) -> Response:
    """A page of log records, filtered by time range and minimum level."""
    lines, total = logs.page(
        context.store,
        workload_id,
        offset=offset,
        limit=limit,
        start_time=start_time,
        end_time=end_time,
        level=level,
    )
    return paged(
        request, [log_json(line) for line in lines], total=total, offset=offset, limit=limit
    )
