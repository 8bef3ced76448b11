"""``/console/deployments/``: governed production deployments of registered workloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import CreateDeployment, Deployment, Event, Page, UpdateDeployment
from workloadlab.server.context import Context, Limit, Offset, ServerContext, base_url
from workloadlab.server.problems import Invalid, NotFound, answers
from workloadlab.server.routing import api_router
from workloadlab.server.store import DeploymentRow
from workloadlab.server.views import deployment_json, event_json, paged

router = api_router("/console/deployments", "deployments")


def find_deployment(context: ServerContext, deployment_id: str) -> DeploymentRow:
    """The deployment, or a ``404``."""
    row = context.store.get_deployment(deployment_id)
    if row is None:
        raise NotFound(f"Deployment {deployment_id} not found")
    return row


@router.post("", status_code=201, response_model=Deployment, responses=answers(404))
async def create_deployment(body: CreateDeployment, request: Request, context: Context) -> Response:
    """Deploy a workload whose artifact is registered."""
    store = context.store
    with store.transaction():
        workload = store.get_workload(body.workload_id)
        if workload is None:
            raise NotFound(f"Workload {body.workload_id} not found")
        artifact = store.get_artifact(workload.artifact_id)
        if artifact is None or artifact.status == "draft":
            raise Invalid(
                f"Workload {workload.id} runs a draft artifact ({workload.artifact_id}): "
                "register it first (PATCH /registry/artifacts/{id} "
                'with {"status": "registered"})'
            )
        row = store.insert_deployment(
            name=body.name,
            description=body.description,
            importance=body.importance.value,
            workload_id=workload.id,
            artifact_id=artifact.id,
            creator=context.user,
        )
        context.audit(
            "deployment.created",
            row.id,
            workload_id=workload.id,
            artifact_id=artifact.id,
            details={
                "name": row.name,
                "importance": row.importance,
                "artifactVersion": artifact.version,
            },
        )
    return JSONResponse(deployment_json(row, store, base_url(request)), status_code=201)


@router.get("", response_model=Page[Deployment])
async def list_deployments(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    workload_id: Annotated[str | None, Query(alias="workloadId")] = None,
) -> Response:
    """A page of deployments, newest first, filtered by name and workload."""
    rows, total = context.store.list_deployments(
        offset=offset, limit=limit, search=search, workload_id=workload_id
    )
    base = base_url(request)
    return paged(
        request,
        [deployment_json(row, context.store, base) for row in rows],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{deployment_id}", response_model=Deployment)
async def get_deployment(deployment_id: str, request: Request, context: Context) -> Response:
    """One deployment; its status mirrors its workload's."""
    row = find_deployment(context, deployment_id)
    return JSONResponse(deployment_json(row, context.store, base_url(request)))


@router.patch("/{deployment_id}", response_model=Deployment)
async def update_deployment(
    deployment_id: str, body: UpdateDeployment, request: Request, context: Context
) -> Response:
    """Change a deployment's name, description or importance."""
    store = context.store
    with store.transaction():
        row = find_deployment(context, deployment_id)
        changes = {
            key: value
            for key, value in body.model_dump(exclude_none=True, mode="json").items()
            if value != getattr(row, key)
        }
        if changes:
            store.update_deployment(row.id, **changes)
            context.audit("deployment.updated", row.id, details={"changedFields": sorted(changes)})
        row = find_deployment(context, deployment_id)
    return JSONResponse(deployment_json(row, store, base_url(request)))


@router.delete("/{deployment_id}", status_code=204)
async def delete_deployment(deployment_id: str, context: Context) -> Response:
    """Remove a deployment; the workload stays."""
    store = context.store
    with store.transaction():
        row = find_deployment(context, deployment_id)
        store.delete_deployment(row.id)
        context.audit(
            "deployment.deleted",
            row.id,
            workload_id=row.workload_id,
            details={"name": row.name},
        )
    return Response(status_code=204)


@router.get("/{deployment_id}/events", response_model=Page[Event])
async def deployment_events(
    deployment_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """The deployment's audit trail: its own events and its workload's since it was created."""
    row = find_deployment(context, deployment_id)
    events, total = context.store.list_events(
        where="deployment_id = ? OR (workload_id = ? AND timestamp >= ?)",
        params=[row.id, row.workload_id, row.created_at],
        offset=offset,
        limit=limit,
    )
    return paged(request, [event_json(e) for e in events], total=total, offset=offset, limit=limit)
