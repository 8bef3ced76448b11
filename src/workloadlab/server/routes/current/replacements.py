"""``/workloads/{id}/settings``, ``…/replacement``, ``…/history`` and ``…/promote``: applying
edits to a running workload without stopping it (current generation)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import Page
from workloadlab.models.current import CreateReplacement, WorkloadSettings
from workloadlab.models.current_responses import (
    Replacement,
    WorkloadFormatted,
    WorkloadSettingsAnswer,
)
from workloadlab.server.context import Context, Limit, Offset, ServerContext
from workloadlab.server.current_views import proton_id, replacement_json
from workloadlab.server.operations import replacements, workloads
from workloadlab.server.problems import answers
from workloadlab.server.routes.current.workloads import render
from workloadlab.server.routing import api_router
from workloadlab.server.store import ReplacementRow
from workloadlab.server.views import paged

router = api_router("/workloads", "workloads")


def serving(context: ServerContext, workload_id: str) -> str | None:
    """The id of the instance serving the workload now (``404`` for an unknown one)."""
    row = workloads.find(context.store, workload_id)
    return proton_id(row, context.store.replacements_of(row.id))


def answer(context: ServerContext, workload_id: str, change: ReplacementRow) -> Response:
    """A replacement, ``202``: it goes on in the background."""
    row = workloads.find(context.store, workload_id)
    return JSONResponse(replacement_json(row, change), status_code=202)


@router.get("/{workload_id}/settings", response_model=WorkloadSettingsAnswer)
async def get_settings(workload_id: str, context: Context) -> Response:
    """The workload's runtime (what ``PATCH …/settings`` takes back)."""
    return JSONResponse(replacements.settings(context.store, workload_id))


@router.patch(
    "/{workload_id}/settings",
    status_code=202,
    response_model=Replacement,
    responses=answers(409),
)
async def update_settings(workload_id: str, body: WorkloadSettings, context: Context) -> Response:
    """Replace the runtime: a rolling restart onto the workload's current spec (its artifact's
    edits too); invoke keeps answering from the old instance until the new one is ready."""
    change = replacements.start(
        context.store,
        context.supervisor,
        context.actor,
        workload_id,
        artifact_id=None,
        runtime=body.runtime,
        proton_id=serving(context, workload_id),
    )
    return answer(context, workload_id, change)


@router.post(
    "/{workload_id}/replacement",
    status_code=202,
    response_model=Replacement,
    responses=answers(404, 409),
)
async def create_replacement(
    workload_id: str, body: CreateReplacement, context: Context
) -> Response:
    """Roll the workload onto another artifact (draft to draft, locked to locked)."""
    change = replacements.start(
        context.store,
        context.supervisor,
        context.actor,
        workload_id,
        artifact_id=body.artifact_id,
        runtime=body.runtime,
        request=body,
        proton_id=serving(context, workload_id),
    )
    return answer(context, workload_id, change)


@router.get("/{workload_id}/replacement", response_model=Replacement, responses=answers(404))
async def get_replacement(workload_id: str, context: Context) -> Response:
    """The replacement under way (or just ended); ``404`` when there is none."""
    linger = context.settings.timings.replacement_linger
    change = replacements.current_replacement(context.store, workload_id, linger)
    row = workloads.find(context.store, workload_id)
    return JSONResponse(replacement_json(row, change))


@router.delete("/{workload_id}/replacement", status_code=202, responses=answers(404))
async def cancel_replacement(workload_id: str, context: Context) -> Response:
    """Cancel the replacement under way: its candidate stops, the old instance serves on."""
    replacements.cancel(context.store, context.supervisor, context.actor, workload_id)
    return Response(status_code=202)


@router.get("/{workload_id}/history", response_model=Page[Replacement])
async def replacement_history(
    workload_id: str, request: Request, context: Context, offset: Offset = 0, limit: Limit = 100
) -> Response:
    """Every replacement of the workload, promotes included, newest first."""
    changes = replacements.history(context.store, workload_id)
    row = workloads.find(context.store, workload_id)
    data = [replacement_json(row, change) for change in changes[offset : offset + limit]]
    return paged(request, data, total=len(changes), offset=offset, limit=limit)


@router.post(
    "/{workload_id}/promote",
    status_code=202,
    response_model=WorkloadFormatted,
    responses=answers(404),
)
async def promote_workload(workload_id: str, request: Request, context: Context) -> Response:
    """Lock the draft the running workload serves, in place: a version, no TTL, no restart."""
    row = replacements.promote(
        context.store, context.actor, workload_id, serving(context, workload_id)
    )
    return JSONResponse(render(context, row, request), status_code=202)
