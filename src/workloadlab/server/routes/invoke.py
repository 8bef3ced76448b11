"""``/endpoints/{workloads,deployments}/{id}/...``: the invoke proxy to a workload's port.

Requests are streamed both ways with the prefix stripped. The caller's ``Authorization`` header
(the server's token) is never forwarded to the app; hop-by-hop headers are dropped.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from workloadlab.server.context import Context, ServerContext
from workloadlab.server.problems import Unavailable
from workloadlab.server.routes.deployments import find_deployment
from workloadlab.server.routes.workloads import find_workload

router = APIRouter(prefix="/endpoints", tags=["invoke"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "authorization",
}


async def forward(
    context: ServerContext, workload_id: str, path: str, request: Request
) -> StreamingResponse:
    """Stream the request to the workload's primary port and its answer back."""
    row = find_workload(context, workload_id)
    target = context.supervisor.target(row.id) if row.status == "running" else None
    if target is None:
        raise Unavailable(f"Workload {row.id} is {row.status}, not running: nothing to invoke")
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    method = request.method
    body = request.stream() if method not in ("GET", "HEAD", "OPTIONS") else None
    upstream = context.proxy.build_request(
        method,
        f"{target}/{path}",
        params=request.url.query,
        headers=headers,
        content=body,
    )
    try:
        response = await context.proxy.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        raise Unavailable(f"Workload {row.id} did not answer: {exc.__class__.__name__}") from exc
    return StreamingResponse(
        response.aiter_raw(),
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP},
        background=BackgroundTask(response.aclose),
    )


@router.api_route("/workloads/{workload_id}", methods=METHODS, include_in_schema=False)
@router.api_route("/workloads/{workload_id}/{path:path}", methods=METHODS)
async def invoke_workload(
    workload_id: str, request: Request, context: Context, path: str = ""
) -> StreamingResponse:
    """Forward a request to the workload's app, with ``/endpoints/workloads/{id}`` stripped."""
    return await forward(context, workload_id, path, request)


@router.api_route("/deployments/{deployment_id}", methods=METHODS, include_in_schema=False)
@router.api_route("/deployments/{deployment_id}/{path:path}", methods=METHODS)
async def invoke_deployment(
    deployment_id: str, request: Request, context: Context, path: str = ""
) -> StreamingResponse:
    """Forward a request to the deployment's workload, with the prefix stripped."""
    row = find_deployment(context, deployment_id)
    return await forward(context, row.workload_id, path, request)
