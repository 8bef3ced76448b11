"""``/console/workloads/``: create, list, get, delete, start, stop and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import CreateWorkload, EntityType, Event, Operation, Page, Workload
from workloadlab.server.changes import Rendered
from workloadlab.server.context import Context, Limit, Offset, ServerContext, base_url
from workloadlab.server.operations import workloads
from workloadlab.server.operations.workloads import Progress
from workloadlab.server.problems import NotFound, answers
from workloadlab.server.routes.conditional import WAITING_GET, waiting_get
from workloadlab.server.routes.events import trail_answer
from workloadlab.server.routes.governance import (
    DELETE_CONFLICT,
    START_CONFLICT,
    STOP_CONFLICT,
    Force,
    guarded,
)
from workloadlab.server.routes.listing import Ids, OrderBy, Sort, wanted_ids
from workloadlab.server.routing import api_router
from workloadlab.server.store import WorkloadRow
from workloadlab.server.views import API_PREFIX, paged

router = api_router("/console/workloads", "workloads")


ALREADY = "Nothing to do: it already is (or is on its way to) what was asked."


def find_workload(context: ServerContext, workload_id: str) -> WorkloadRow:
    """The workload, or a ``404`` (for the routes of other resources that reach one)."""
    return workloads.find(context.store, workload_id)


def _operation(request: Request, row: WorkloadRow, message: str, status: int) -> JSONResponse:
    track = f"{base_url(request)}{API_PREFIX}/console/workloads/{row.id}/"
    return JSONResponse(
        {"status": message, "workloadId": row.id, "trackVia": track}, status_code=status
    )


@router.post("", status_code=201, response_model=Workload, responses=answers(404, 409))
async def create_workload(body: CreateWorkload, request: Request, context: Context) -> Response:
    """Create a workload (and, with an inline artifact, its draft artifact) and start it."""
    row = workloads.create(context.store, context.supervisor, context.actor, body)
    return JSONResponse(context.workload_json(row, base_url(request)), status_code=201)


@router.get("", response_model=Page[Workload])
async def list_workloads(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    ids: Ids = None,
    order_by: OrderBy = None,
    sort: Sort = None,
) -> Response:
    """A page of workloads, newest first unless ``orderBy`` says otherwise, filtered by name,
    status and id."""
    rows, total = workloads.page(
        context.store,
        offset=offset,
        limit=limit,
        search=search,
        statuses=status,
        ids=wanted_ids(ids),
        order=order_by or sort,
    )
    base = base_url(request)
    data = [context.workload_json(row, base) for row in rows]
    return paged(request, data, total=total, offset=offset, limit=limit)


@router.get("/{workload_id}", response_model=Workload, **WAITING_GET)
async def get_workload(workload_id: str, request: Request, context: Context) -> Response:
    """One workload with its status details and log tail; with ``If-None-Match`` and
    ``Prefer: wait=N``, answered as soon as it changes (at most N seconds)."""
    base = base_url(request)

    def render() -> Rendered:
        rendered = context.workload_body(workload_id, base)
        if rendered is None:
            raise NotFound(f"Workload {workload_id} not found")
        return rendered

    return await waiting_get(request, context, render)


@router.delete("/{workload_id}", status_code=204, responses=guarded(DELETE_CONFLICT))
async def delete_workload(workload_id: str, context: Context, force: Force = False) -> Response:
    """Stop and remove a workload; its artifact and the audit trail stay. One that backs a
    deployment only with ``force=true``, which deletes its deployment too."""
    await workloads.delete(
        context.store, context.supervisor, context.actor, workload_id, force=force
    )
    return Response(status_code=204)


@router.post(
    "/{workload_id}/start",
    response_model=Operation,
    status_code=202,
    responses={200: {"model": Operation, "description": ALREADY}, **guarded(START_CONFLICT)},
)
async def start_workload(
    workload_id: str, request: Request, context: Context, force: Force = False
) -> Response:
    """Start a stopped or errored workload with its artifact's current spec (one that backs a
    deployment only with ``force=true``)."""
    row, progress = await workloads.start(
        context.store, context.supervisor, context.actor, workload_id, force=force
    )
    if progress is Progress.ALREADY:
        return _operation(request, row, "Workload is already running or starting.", 200)
    return _operation(request, row, "Workload start has been requested.", 202)


@router.post(
    "/{workload_id}/stop",
    response_model=Operation,
    status_code=202,
    responses={200: {"model": Operation, "description": ALREADY}, **guarded(STOP_CONFLICT)},
)
async def stop_workload(
    workload_id: str, request: Request, context: Context, force: Force = False
) -> Response:
    """Stop a workload (SIGTERM, grace period, SIGKILL); its desired state becomes stopped.
    One that backs a deployment only with ``force=true``.

    Answers once it is stopped, or after ``stop_answer_wait`` if stopping takes longer (it goes
    on; ``trackVia`` shows when it is done): ``202`` either way, as the contract says.
    """
    row, progress = await workloads.stop(
        context.store,
        context.supervisor,
        context.actor,
        workload_id,
        wait=context.settings.timings.stop_answer_wait,
        force=force,
    )
    if progress is Progress.ALREADY:
        return _operation(request, row, "Workload is already stopped.", 200)
    if progress is Progress.REQUESTED:
        return _operation(request, row, "Workload stop has been requested; it is stopping.", 202)
    return _operation(request, row, "Workload has stopped.", 202)


@router.get("/{workload_id}/events", response_model=Page[Event])
async def workload_events(
    workload_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """The workload's lifecycle and audit trail (its artifact's too), newest first; still
    there once it is deleted, ending with its delete (a local-server extension)."""
    return trail_answer(
        request, context, EntityType.WORKLOAD, workload_id, offset=offset, limit=limit
    )
