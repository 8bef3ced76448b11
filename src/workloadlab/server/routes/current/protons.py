"""``/workloads/{id}/protons``: a workload's running versions and their status snapshot, which
DataRobot's diagnostic scripts read (current generation)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import Page
from workloadlab.models.current_responses import ProtonFormatted, ProtonStatusDetails
from workloadlab.server.context import Context, ServerContext, base_url
from workloadlab.server.operations import workloads
from workloadlab.server.problems import NotFound
from workloadlab.server.proton_views import Proton, proton_json, protons, status_details_json
from workloadlab.server.routing import api_router
from workloadlab.server.store import WorkloadRow
from workloadlab.server.views import paged

router = api_router("/workloads", "workloads")


def _find(context: ServerContext, workload_id: str, proton_id: str) -> tuple[WorkloadRow, Proton]:
    row = workloads.find(context.store, workload_id)
    for proton in protons(row, context.store):
        if proton.id == proton_id:
            return row, proton
    raise NotFound(f"Proton {proton_id} of workload {row.id} not found")


@router.get("/{workload_id}/protons", response_model=Page[ProtonFormatted])
async def list_protons(workload_id: str, request: Request, context: Context) -> Response:
    """The active instance (while one runs) and a replacement's candidate (while one is under
    way)."""
    row = workloads.find(context.store, workload_id)
    base = base_url(request)
    lines = context.settings.log_tail_lines
    data = [
        proton_json(p, row, context.store, base, log_tail_lines=lines)
        for p in protons(row, context.store)
    ]
    return paged(request, data, total=len(data), offset=0, limit=100)


@router.get("/{workload_id}/protons/{proton_id}", response_model=ProtonFormatted)
async def get_proton(
    workload_id: str, proton_id: str, request: Request, context: Context
) -> Response:
    """One proton."""
    row, proton = _find(context, workload_id, proton_id)
    lines = context.settings.log_tail_lines
    body = proton_json(proton, row, context.store, base_url(request), log_tail_lines=lines)
    return JSONResponse(body)


@router.get(
    "/{workload_id}/protons/{proton_id}/statusDetails",
    response_model=ProtonStatusDetails,
    responses={204: {"description": "No instance of the proton exists yet."}},
)
async def proton_status_details(workload_id: str, proton_id: str, context: Context) -> Response:
    """The proton's snapshot: its state and one replica per instance (``204`` before its
    first instance exists)."""
    row, proton = _find(context, workload_id, proton_id)
    snapshot = status_details_json(proton, row, context.store)
    if snapshot is None:
        return Response(status_code=204)
    return JSONResponse(snapshot)
