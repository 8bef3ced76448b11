"""What the local server does not serve in the current generation (``501``), and ``/account``.

Builds, sharing, stats, related objects, OTel traces and metrics need DataRobot's cloud: their
paths answer ``501`` with what is missing, not ``404`` (which would say the API has no such
thing). This router is mounted before ``/workloads/{id}``, so ``/workloads/stats`` is not read
as a workload id.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from workloadlab.models.current_responses import AccountInfo
from workloadlab.server.context import Context
from workloadlab.server.problems import ErrorBody
from workloadlab.server.routing import api_router

router = api_router("", "not served locally")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
NOT_SERVED = {
    "/workloads/stats": "Workload stats",
    "/workloads/stats/{rest:path}": "Workload stats",
    "/workloads/{workload_id}/stats": "Workload stats",
    "/workloads/{workload_id}/stats/{rest:path}": "Workload stats",
    "/workloads/{workload_id}/sharedRoles": "Sharing (sharedRoles)",
    "/workloads/{workload_id}/related": "Related objects",
    "/artifacts/{artifact_id}/builds": "Artifact builds",
    "/artifacts/{artifact_id}/builds/{rest:path}": "Artifact builds",
    "/artifacts/{artifact_id}/sharedRoles": "Sharing (sharedRoles)",
    "/artifacts/{artifact_id}/related": "Related objects",
    "/artifactRepositories/{repository_id}/sharedRoles": "Sharing (sharedRoles)",
    "/otel/workload/{workload_id}/traces": "OTel traces",
    "/otel/workload/{workload_id}/traces/{rest:path}": "OTel traces",
    "/otel/workload/{workload_id}/metrics": "OTel metrics",
    "/otel/workload/{workload_id}/metrics/{rest:path}": "OTel metrics",
}
"""Each path not served, and the feature it belongs to (said in the ``501``)."""


def _not_served(feature: str) -> Any:
    async def not_served() -> Response:
        detail = f"{feature} is not implemented by workloadlab serve"
        return JSONResponse({"detail": detail}, status_code=501)

    not_served.__doc__ = f"{feature}: not served by the local server (``501``)."
    return not_served


for _path, _feature in NOT_SERVED.items():
    _name = "not_served_" + "_".join(
        part
        for part in _path.replace("{", "").replace("}", "").replace(":", "_").split("/")
        if part
    )
    router.add_api_route(
        _path,
        _not_served(_feature),
        methods=METHODS,
        status_code=501,
        name=_name,
        responses={501: {"model": ErrorBody, "description": f"{_feature} is not served locally."}},
    )


@router.get("/account/info", response_model=AccountInfo)
async def account_info(context: Context) -> Response:
    """Who the local user is, and the account's limits (``0``: unlimited)."""
    user = context.user
    return JSONResponse(
        {
            "uid": user["id"],
            "email": user["username"],
            "orgId": None,
            "tenantId": None,
            "limits": {"maxConcurrentWorkloads": 0, "maxWorkloadReplicas": 0},
        }
    )
