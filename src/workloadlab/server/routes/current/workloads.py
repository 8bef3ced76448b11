"""``/workloads/`` of the current generation: create, list, get, change, delete, start, stop
and events."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import EntityType, Operation, Page
from workloadlab.models.current import CreateCurrentWorkload, UpdateCurrentWorkload
from workloadlab.models.current_responses import WorkloadEvent, WorkloadFormatted
from workloadlab.server.changes import Rendered
from workloadlab.server.context import Context, Limit, Offset, ServerContext, base_url, json_bytes
from workloadlab.server.current_views import (
    WORKLOAD_WORDS,
    current_workload_json,
    event_json,
    operation_json,
)
from workloadlab.server.operations import current_workloads, workloads
from workloadlab.server.operations.workloads import Progress
from workloadlab.server.problems import Conflict, answers
from workloadlab.server.routes.conditional import WAITING_GET, waiting_get
from workloadlab.server.routes.current.params import (
    ArtifactIds,
    Statuses,
    WorkloadsListed,
    refuse_unknown,
)
from workloadlab.server.routes.events import trail_answer
from workloadlab.server.routing import api_router
from workloadlab.server.store import WorkloadRow
from workloadlab.server.views import paged

router = api_router("/workloads", "workloads")

MUST_BE_STOPPED = "The proton must be stopped before attempting to start it."


def render(context: ServerContext, row: WorkloadRow, request: Request) -> dict[str, Any]:
    """A workload as this generation answers it."""
    return current_workload_json(
        row,
        context.store,
        base_url(request),
        draft_ttl=context.settings.timings.draft_ttl,
        log_tail_lines=context.settings.log_tail_lines,
    )


@router.post("", status_code=201, response_model=WorkloadFormatted, responses=answers(404, 409))
async def create_workload(
    body: CreateCurrentWorkload, request: Request, context: Context
) -> Response:
    """Create a workload (an inline ``artifact`` makes a draft) and start it."""
    row = current_workloads.create(context.store, context.supervisor, context.actor, body)
    return JSONResponse(render(context, row, request), status_code=201)


@router.get("", response_model=Page[WorkloadFormatted])
async def list_workloads(
    request: Request,
    context: Context,
    query: WorkloadsListed,
    status: Statuses = None,
    artifact_id: ArtifactIds = None,
) -> Response:
    """A page of workloads, filtered and sorted (``-createdAt`` unless told)."""
    statuses = WORKLOAD_WORDS.stored(status)
    query = replace(query, statuses=statuses, artifact_ids=artifact_id)
    rows, total = current_workloads.page(context.store, query)
    data = [render(context, row, request) for row in rows]
    return paged(request, data, total=total, offset=query.offset, limit=query.limit)


@router.get("/{workload_id}", response_model=WorkloadFormatted, **WAITING_GET)
async def get_workload(workload_id: str, request: Request, context: Context) -> Response:
    """One workload; with ``If-None-Match`` and ``Prefer: wait=N``, answered as soon as it
    changes (at most N seconds), as in v2.41."""

    def rendered() -> Rendered:
        row = workloads.find(context.store, workload_id)
        return Rendered.of(json_bytes(render(context, row, request)))

    return await waiting_get(request, context, rendered)


@router.patch("/{workload_id}", response_model=WorkloadFormatted)
async def update_workload(
    workload_id: str, body: UpdateCurrentWorkload, request: Request, context: Context
) -> Response:
    """Change a workload's name, description or importance (no restart)."""
    row = current_workloads.update(context.store, context.actor, workload_id, body)
    return JSONResponse(render(context, row, request))


@router.delete("/{workload_id}", status_code=204)
async def delete_workload(workload_id: str, context: Context) -> Response:
    """Stop and remove a workload and its invoke route; its artifact stays."""
    await workloads.delete(context.store, context.supervisor, context.actor, workload_id)
    return Response(status_code=204)


@router.post(
    "/{workload_id}/start",
    status_code=202,
    response_model=Operation,
    responses={200: {"model": Operation}, **answers(409)},
)
async def start_workload(workload_id: str, request: Request, context: Context) -> Response:
    """Start a stopped or errored workload with its artifact's current spec (``200`` if it
    runs or starts already)."""
    try:
        row, progress = await workloads.start(
            context.store, context.supervisor, context.actor, workload_id
        )
    except Conflict:
        raise Conflict(MUST_BE_STOPPED) from None
    if progress is Progress.ALREADY:
        body = operation_json(row, "Workload is already running or starting.", base_url(request))
        return JSONResponse(body, status_code=200)
    body = operation_json(row, "Workload start has been requested.", base_url(request))
    return JSONResponse(body, status_code=202)


@router.post(
    "/{workload_id}/stop",
    status_code=202,
    response_model=Operation,
    responses={200: {"model": Operation}},
)
async def stop_workload(workload_id: str, request: Request, context: Context) -> Response:
    """Stop a workload (``200`` if it is stopped already)."""
    row, progress = await workloads.stop(
        context.store,
        context.supervisor,
        context.actor,
        workload_id,
        wait=context.settings.timings.stop_answer_wait,
    )
    if progress is Progress.ALREADY:
        body = operation_json(row, "Workload is already stopped.", base_url(request))
        return JSONResponse(body, status_code=200)
    body = operation_json(row, "Workload stop has been requested.", base_url(request))
    return JSONResponse(body, status_code=202)


@router.get("/{workload_id}/events", response_model=Page[WorkloadEvent])
async def workload_events(
    workload_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """The workload's events, newest first (its artifact's too)."""
    refuse_unknown(request)  # the events have no filters
    return trail_answer(
        request,
        context,
        EntityType.WORKLOAD,
        workload_id,
        offset=offset,
        limit=limit,
        render=partial(event_json, workload_id=workload_id),
    )
