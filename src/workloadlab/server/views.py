"""Stored rows as the API's JSON (``workload-api.md`` §3), with absolute URLs for this server.

Responses are built as plain dicts straight from the rows rather than through response models:
the wire names are the column names' camelCase forms and this is the hottest path of the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse

from workloadlab.models import ArtifactStatus, WorkloadStatus, spec_digest
from workloadlab.server.store import (
    ArtifactRow,
    DeploymentRow,
    EventRow,
    LogLine,
    RolloutRow,
    RunningArtifactRow,
    Store,
    WorkloadRow,
)

API_PREFIX = "/api/v2"
REQUESTED_PATH = "workloadlab.requested_path"
"""The ASGI scope key that holds the path as the client wrote it: routing sees it without its
trailing slash (every path is served with and without one), links repeat it as it was."""


def artifact_json(row: ArtifactRow) -> dict[str, Any]:
    """An artifact as the API returns it."""
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "status": row.status,
        "version": row.version,
        "artifactCollectionId": row.collection_id,
        "spec": row.spec,
        "creator": row.creator,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "specDigest": spec_digest(row.spec),
    }


def running_artifact_json(running: RunningArtifactRow | None) -> dict[str, Any] | None:
    """What a workload's instance runs, as the API returns it (``None``: nothing runs)."""
    if running is None:
        return None
    return {
        "id": running.artifact_id,
        "version": running.version,
        "specDigest": running.spec_digest,
        "startedAt": running.started_at,
    }


def _plus_seconds(timestamp: str, seconds: float) -> str:
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (moment + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def workload_json(
    row: WorkloadRow,
    store: Store,
    base_url: str,
    *,
    draft_ttl: float,
    log_tail_lines: int,
) -> dict[str, Any]:
    """A workload as the API returns it, with its log tail and draft expiry."""
    artifact = store.artifact_ref(row.artifact_id)
    is_draft = artifact is not None and artifact["status"] == ArtifactStatus.DRAFT
    primary_port = (row.runtime_state or {}).get("port")
    details = dict(row.status_details)
    details["logTail"] = store.log_tail(row.id, log_tail_lines)
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "artifactId": row.artifact_id,
        "artifact": artifact,
        "runtime": row.runtime or {"replicaCount": 1},
        "endpoint": f"{base_url}{API_PREFIX}/endpoints/workloads/{row.id}/",
        "internalUrl": f"http://127.0.0.1:{primary_port}" if primary_port else None,
        "statusDetails": details,
        "runningSince": row.running_since,
        "restartCount": row.restart_count,
        "expiresAt": _plus_seconds(row.started_at, draft_ttl) if is_draft else None,
        "creator": row.creator,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "runningArtifact": running_artifact_json(store.running_artifact(row.id)),
        "rollout": rollout_json(store.rollout_under_way(row.id), store),
    }


def deployment_json(row: DeploymentRow, store: Store, base_url: str) -> dict[str, Any]:
    """A deployment as the API returns it; its status mirrors its workload's."""
    workload = store.get_workload(row.workload_id)
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "importance": row.importance,
        "status": workload.status if workload is not None else WorkloadStatus.UNKNOWN,
        "workloadId": row.workload_id,
        "artifactId": row.artifact_id,
        "artifact": store.artifact_ref(row.artifact_id),
        "endpoint": f"{base_url}{API_PREFIX}/endpoints/deployments/{row.id}/",
        "creator": row.creator,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "rollout": rollout_json(store.latest_rollout(row.id), store),
    }


def rollout_json(row: RolloutRow | None, store: Store) -> dict[str, Any] | None:
    """A deployment's move to another artifact version as the API returns it (an extension)."""
    if row is None:
        return None
    versions = {
        key: (ref or {}).get("version")
        for key, ref in (
            ("from", store.artifact_ref(row.from_artifact_id)),
            ("to", store.artifact_ref(row.to_artifact_id)),
        )
    }
    return {
        "id": row.id,
        "status": row.status,
        "deploymentId": row.deployment_id,
        "workloadId": row.workload_id,
        "fromArtifactId": row.from_artifact_id,
        "toArtifactId": row.to_artifact_id,
        "fromVersion": versions["from"],
        "toVersion": versions["to"],
        "message": row.message,
        "startedAt": row.created_at,
        "finishedAt": row.finished_at,
    }


def event_json(row: EventRow) -> dict[str, Any]:
    """An audit-trail entry as the API returns it."""
    return {
        "id": row.id,
        "timestamp": row.timestamp,
        "eventType": row.event_type,
        "actorId": row.actor_id,
        "entityType": row.entity_type,
        "entityId": row.entity_id,
        "details": row.details,
    }


def log_json(line: LogLine) -> dict[str, Any]:
    """A log record as the API returns it."""
    return {
        "timestamp": line.timestamp,
        "level": line.level,
        "message": line.message,
        "containerName": line.container_name,
        "stream": line.stream,
    }


def paged(
    request: Request, data: Sequence[dict[str, Any]], *, total: int, offset: int, limit: int
) -> JSONResponse:
    """A list response: the envelope, with links to this request's own URL (its path as the
    client wrote it, trailing slash included) and filters."""
    path = request.scope.get(REQUESTED_PATH, request.url.path)
    url = f"{str(request.base_url).rstrip('/')}{path}"
    query = list(request.query_params.multi_items())
    return JSONResponse(
        page_json(data, total=total, offset=offset, limit=limit, url=url, query=query)
    )


def page_json(
    data: Sequence[dict[str, Any]],
    *,
    total: int,
    offset: int,
    limit: int,
    url: str,
    query: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """The list envelope, with absolute ``next``/``previous`` links that keep the filters."""
    kept = [(k, v) for k, v in query if k not in ("offset", "limit")]

    def link(new_offset: int) -> str:
        return f"{url}?{urlencode([*kept, ('offset', str(new_offset)), ('limit', str(limit))])}"

    return {
        "count": len(data),
        "totalCount": total,
        "next": link(offset + limit) if offset + len(data) < total else None,
        "previous": link(max(0, offset - limit)) if offset > 0 else None,
        "data": list(data),
    }
