"""What the governed routes share: the ``force`` parameter of the actions that a deployment
protects, and the ``409`` answers they document (:mod:`~workloadlab.server.operations.governance`
has the rules). Local-server extensions: the OpenAPI document says so."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from workloadlab.server.problems import ErrorBody

Force = Annotated[
    bool,
    Query(
        description="Local-server extension: act on a workload even though it backs a"
        " deployment (without it: `409` naming the deployment). The audit trail records the"
        ' action as forced (`details: {"forced": true, "deploymentIds": [...]}`), with its'
        " actor, in the workload's and the deployment's trail."
    ),
]
"""The ``force`` query parameter of stop, start and delete of a workload."""

BACKS = "it backs a deployment (local-server extension: pass `force=true`)"
STOP_CONFLICT = f"Not stopped: {BACKS}."
START_CONFLICT = f"Not started: it is stopping, or {BACKS}."
DELETE_CONFLICT = (
    f"Not deleted: {BACKS}; a forced delete deletes its deployment too, both trails say so."
)
DEPLOY_CONFLICT = (
    "Not deployed (local-server extension): the workload already backs a deployment, is not"
    " running and ready, or does not run its artifact's registered spec (restart it first);"
    " the detail names what it compared (versions and spec digests)."
)


def guarded(description: str) -> dict[int | str, dict[str, Any]]:
    """The ``409`` answer of a governed route, described."""
    return {409: {"model": ErrorBody, "description": description}}
