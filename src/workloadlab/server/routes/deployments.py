"""``/console/deployments/``: governed production deployments of registered workloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import (
    CreateDeployment,
    Deployment,
    EntityType,
    Event,
    Page,
    UpdateDeployment,
)
from workloadlab.server.context import Context, Limit, Offset, ServerContext, base_url
from workloadlab.server.operations import deployments
from workloadlab.server.problems import answers
from workloadlab.server.routes.events import trail_answer
from workloadlab.server.routes.governance import DEPLOY_CONFLICT, guarded
from workloadlab.server.routes.listing import (
    DeploymentOrderBy,
    DeploymentSort,
    Ids,
    wanted_ids,
)
from workloadlab.server.routing import api_router
from workloadlab.server.store import DeploymentRow
from workloadlab.server.views import deployment_json, paged

router = api_router("/console/deployments", "deployments")


def find_deployment(context: ServerContext, deployment_id: str) -> DeploymentRow:
    """The deployment, or a ``404`` (for the routes of other resources that reach one)."""
    return deployments.find(context.store, deployment_id)


@router.post(
    "",
    status_code=201,
    response_model=Deployment,
    responses={**answers(404), **guarded(DEPLOY_CONFLICT)},
)
async def create_deployment(body: CreateDeployment, request: Request, context: Context) -> Response:
    """Deploy a workload whose artifact is registered, that runs and runs its registered spec,
    and that backs no other deployment."""
    row = deployments.create(context.store, context.actor, body)
    return JSONResponse(deployment_json(row, context.store, base_url(request)), status_code=201)


@router.get("", response_model=Page[Deployment])
async def list_deployments(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    workload_id: Annotated[
        str | None, Query(alias="workloadId", description="Only the deployment of this workload.")
    ] = None,
    wid: Annotated[
        str | None,
        Query(
            description="Another spelling of `workloadId`, the one DataRobot's clients send"
            " (with both, a deployment must match both)."
        ),
    ] = None,
    artifact_id: Annotated[
        list[str] | None,
        Query(
            alias="artifactId",
            description="Only deployments of these artifacts (repeatable). A local-server"
            " extension.",
        ),
    ] = None,
    ids: Ids = None,
    order_by: DeploymentOrderBy = None,
    sort: DeploymentSort = None,
) -> Response:
    """A page of deployments, newest first unless ``orderBy`` says otherwise, filtered by
    name, workload, artifact and id."""
    rows, total = deployments.page(
        context.store,
        offset=offset,
        limit=limit,
        search=search,
        workload_ids=[value for value in (workload_id, wid) if value],
        artifact_ids=artifact_id,
        ids=wanted_ids(ids),
        order=order_by or sort,
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
    row = deployments.find(context.store, deployment_id)
    return JSONResponse(deployment_json(row, context.store, base_url(request)))


@router.patch("/{deployment_id}", response_model=Deployment, responses=answers(409))
async def update_deployment(
    deployment_id: str, body: UpdateDeployment, request: Request, context: Context
) -> Response:
    """Change a deployment's name, description or importance.

    A local-server extension: `artifactId` moves the deployment to another registered version
    of its artifact's collection as a rolling change. A new instance of the workload starts
    beside the one serving; once it is ready, the endpoint switches to it and the old one
    stops, so the endpoint keeps answering throughout. If the new instance fails (it exits,
    its startup probe fails, or it is not ready within `--rollout-timeout`), the change is
    abandoned and the old one goes on serving. The answer comes at once, with the change in
    `rollout` (`inProgress`, then `completed` or `abandoned` with a `message`); the trail has
    `deployment.rolloutStarted`, then `workload.rolledOut` and `deployment.artifactChanged`, or
    `workload.rolloutAbandoned`. A stopped or errored workload moves at once. `422`: the
    artifact does not exist, is a draft, or belongs to another collection; `409`: it is the
    one deployed, another change is under way, or the workload is starting or stopping.
    """
    row = deployments.update(context.store, context.supervisor, context.actor, deployment_id, body)
    return JSONResponse(deployment_json(row, context.store, base_url(request)))


@router.delete("/{deployment_id}", status_code=204)
async def delete_deployment(deployment_id: str, context: Context) -> Response:
    """Remove a deployment; the workload stays."""
    deployments.delete(context.store, context.actor, deployment_id)
    return Response(status_code=204)


@router.get("/{deployment_id}/events", response_model=Page[Event])
async def deployment_events(
    deployment_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """The deployment's audit trail: its own events and its workload's since it was created;
    still there once it is deleted, ending with its delete (a local-server extension)."""
    return trail_answer(
        request, context, EntityType.DEPLOYMENT, deployment_id, offset=offset, limit=limit
    )
