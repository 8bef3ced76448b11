"""``/console/workloads/``: create, list, get, delete, start, stop and the audit trail."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import (
    CreateWorkload,
    Event,
    Operation,
    Page,
    Workload,
    format_timestamp,
    utcnow,
)
from workloadlab.server.changes import Rendered, matches, preferred_wait, wait_for_change
from workloadlab.server.context import Context, Limit, Offset, ServerContext, base_url
from workloadlab.server.problems import DESCRIPTIONS, Conflict, NotFound, answers
from workloadlab.server.routes.artifacts import create_artifact_row
from workloadlab.server.routing import api_router
from workloadlab.server.store import WorkloadRow
from workloadlab.server.supervisor import record_status
from workloadlab.server.views import API_PREFIX, event_json, paged

router = api_router("/console/workloads", "workloads")


ALREADY = "Nothing to do: it already is (or is on its way to) what was asked."


def find_workload(context: ServerContext, workload_id: str) -> WorkloadRow:
    """The workload, or a ``404``."""
    row = context.store.get_workload(workload_id)
    if row is None:
        raise NotFound(f"Workload {workload_id} not found")
    return row


def _operation(request: Request, row: WorkloadRow, message: str, status: int) -> JSONResponse:
    track = f"{base_url(request)}{API_PREFIX}/console/workloads/{row.id}/"
    return JSONResponse(
        {"status": message, "workloadId": row.id, "trackVia": track}, status_code=status
    )


@router.post("", status_code=201, response_model=Workload, responses=answers(404, 409))
async def create_workload(body: CreateWorkload, request: Request, context: Context) -> Response:
    """Create a workload (and, with an inline artifact, its draft artifact) and start it."""
    store = context.store
    with store.transaction():
        if body.artifact is not None:
            artifact = create_artifact_row(context, body.artifact)
        else:
            assert body.artifact_id is not None
            found = store.get_artifact(body.artifact_id)
            if found is None:
                raise NotFound(f"Artifact {body.artifact_id} not found")
            if found.status == "draft" and store.workloads_using(found.id):
                raise Conflict(
                    f"Artifact {found.id} is a draft already used by another workload; "
                    "a draft can back one workload at a time (register it to share it)"
                )
            artifact = found
        runtime = body.runtime.to_wire() if body.runtime is not None else None
        row = store.insert_workload(
            name=body.name, artifact_id=artifact.id, runtime=runtime, creator=context.user
        )
        context.audit(
            "workload.created",
            row.id,
            artifact_id=artifact.id,
            details={"name": row.name, "artifactId": artifact.id},
        )
    context.supervisor.kick(row.id)
    return JSONResponse(context.workload_json(row, base_url(request)), status_code=201)


@router.get("", response_model=Page[Workload])
async def list_workloads(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """A page of workloads, newest first, filtered by name and status."""
    rows, total = context.store.list_workloads(
        offset=offset, limit=limit, search=search, statuses=status
    )
    base = base_url(request)
    data = [context.workload_json(row, base) for row in rows]
    return paged(request, data, total=total, offset=offset, limit=limit)


@router.get(
    "/{workload_id}",
    response_model=Workload,
    responses={304: {"description": DESCRIPTIONS[304]}},
    openapi_extra={
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The `ETag` of the workload as last seen: `304` if unchanged.",
            },
            {
                "name": "Prefer",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "`wait=N` (RFC 7240; at most 60): with `If-None-Match`, wait up"
                " to N seconds for the workload to change, and answer as soon as it does"
                " (`200`), or with `304` after N seconds. A local-server extension: one"
                " request replaces a polling loop.",
            },
        ]
    },
)
async def get_workload(workload_id: str, request: Request, context: Context) -> Response:
    """One workload with its status details and log tail; with ``If-None-Match`` and
    ``Prefer: wait=N``, answered as soon as it changes (at most N seconds)."""
    base = base_url(request)

    def render() -> Rendered:
        rendered = context.workload_body(workload_id, base)
        if rendered is None:
            raise NotFound(f"Workload {workload_id} not found")
        return rendered

    rendered = render()
    headers = {"ETag": rendered.etag}
    wait = preferred_wait(request.headers.get("prefer"))
    if wait is not None:  # said on every answer, so a client learns it can wait here
        headers["Preference-Applied"] = f"wait={wait:g}"
    seen = request.headers.get("if-none-match")
    if seen is None or not matches(seen, rendered.etag):
        return Response(rendered.body, media_type="application/json", headers=headers)
    if wait is not None:
        changed = await wait_for_change(request, context.changes, render, rendered.etag, wait)
        if changed is not None:
            headers["ETag"] = changed.etag
            return Response(changed.body, media_type="application/json", headers=headers)
    return Response(status_code=304, headers=headers)


@router.delete("/{workload_id}", status_code=204, responses=answers(409))
async def delete_workload(workload_id: str, context: Context) -> Response:
    """Stop and remove a workload; its artifact and the audit trail stay."""
    row = find_workload(context, workload_id)
    deployments, count = context.store.list_deployments(
        offset=0, limit=1, search=None, workload_id=row.id
    )
    if count:
        raise Conflict(
            f"Workload {row.id} has {count} deployment(s) (e.g. {deployments[0].id}); "
            "delete them first"
        )
    # The row goes first: a start that comes while the instance stops then finds nothing to
    # start (404), and the workload's task, retired next, cannot be replaced by a new one.
    with context.store.transaction():
        context.store.delete_workload(row.id)
        context.audit(
            "workload.deleted",
            row.id,
            artifact_id=row.artifact_id,
            details={"name": row.name},
        )
    await context.supervisor.remove(row.id)
    return Response(status_code=204)


@router.post(
    "/{workload_id}/start",
    response_model=Operation,
    status_code=202,
    responses={200: {"model": Operation, "description": ALREADY}, **answers(409)},
)
async def start_workload(workload_id: str, request: Request, context: Context) -> Response:
    """Start a stopped or errored workload with its artifact's current spec."""
    row = find_workload(context, workload_id)
    if row.desired == "running" and row.status not in ("stopped", "errored"):
        return _operation(request, row, "Workload is already running or starting.", 200)
    if row.status not in ("stopped", "errored"):
        raise Conflict(
            f"Workload {row.id} is {row.status}: it must be stopped before it can be started"
        )
    with context.store.transaction():
        record_status(
            context.store,
            row,
            "submitted",
            actor=context.actor,
            conditions=[],
            running_since=None,
            desired="running",
            generation=row.generation + 1,
            started_at=format_timestamp(utcnow()),
            restart_count=0,
        )
        context.audit("workload.started", row.id)
    context.supervisor.kick(row.id)
    # Let the workload's task, woken by the kick, spawn it before this answer is written: the
    # app's own start-up, the longest part of any start, then begins ~1 ms earlier.
    await asyncio.sleep(0)
    return _operation(request, row, "Workload start has been requested.", 202)


@router.post(
    "/{workload_id}/stop",
    response_model=Operation,
    status_code=202,
    responses={200: {"model": Operation, "description": ALREADY}},
)
async def stop_workload(workload_id: str, request: Request, context: Context) -> Response:
    """Stop a workload (SIGTERM, grace period, SIGKILL); its desired state becomes stopped.

    Answers once it is stopped, or after ``stop_answer_wait`` if stopping takes longer (it goes
    on; ``trackVia`` shows when it is done): ``202`` either way, as the contract says.
    """
    row = find_workload(context, workload_id)
    if row.status == "stopped":
        return _operation(request, row, "Workload is already stopped.", 200)
    if row.desired != "stopped":
        context.supervisor.terminate(row.id)  # its shutdown overlaps the commit's fsync
        with context.store.transaction():
            record_status(context.store, row, "stopping", actor=context.actor, desired="stopped")
            context.audit("workload.stopped", row.id)
        context.supervisor.kick(row.id)
    try:
        async with asyncio.timeout(context.settings.timings.stop_answer_wait):
            await context.supervisor.wait_stopped(row.id)
    except TimeoutError:
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
    """The workload's lifecycle and audit trail (its artifact's too), newest first."""
    row = find_workload(context, workload_id)
    events, total = context.store.list_events(
        where="workload_id = ? OR artifact_id = ?",
        params=[row.id, row.artifact_id],
        offset=offset,
        limit=limit,
    )
    data: list[dict[str, Any]] = [event_json(e) for e in events]
    return paged(request, data, total=total, offset=offset, limit=limit)
