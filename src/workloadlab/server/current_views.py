"""Stored rows as the current API generation's JSON (``workload-api-current.md`` §4).

The rows are v2.41's; what differs is said here: the vocabulary (an artifact is ``locked``,
not ``registered``; a workload on its way up is ``launching``), the repository an artifact is
in, a workload's description, importance and group runtime, and the fields this generation
adds (``protonId``, ``replacement``, ``owners``...). A workload starts from v2.41's own JSON
(:func:`~workloadlab.server.views.workload_json`), which both generations share.
"""

from __future__ import annotations

import hashlib
from typing import Any

from workloadlab.models import ArtifactStatus, WorkloadStatus
from workloadlab.server import views
from workloadlab.server.operations.lockable import wire_spec
from workloadlab.server.store import ArtifactRow, EventRow, RepositoryRow, Store, WorkloadRow
from workloadlab.server.views import API_PREFIX, workload_json


class Vocabulary:
    """Status values this generation says in its own words (the rest as stored)."""

    def __init__(self, words: dict[str, str]) -> None:
        self._words = words
        self._stored = {word: status for status, word in words.items()}

    def word(self, status: str) -> str:
        """A stored status in this generation's words."""
        return self._words.get(status, status)

    def stored(self, words: list[str] | None) -> list[str] | None:
        """Status filter values as stored."""
        return None if words is None else [self._stored.get(word, word) for word in words]


WORKLOAD_WORDS = Vocabulary({WorkloadStatus.INITIALIZING.value: "launching"})
"""A workload on its way up is ``launching``."""
ARTIFACT_WORDS = Vocabulary({ArtifactStatus.REGISTERED.value: "locked"})
"""A frozen artifact is ``locked``."""
PERMISSIONS = ["CAN_VIEW", "CAN_UPDATE", "CAN_DELETE", "CAN_SHARE"]
"""What the local server's one user may do with everything."""
DEFAULT_GROUP_RUNTIME = {"name": "default", "replicaCount": 1}
"""The runtime of a workload made through v2.41 (which has none of this generation's)."""
LEFT_OUT = ("internalUrl", "runningSince", "runningArtifact", "rollout")
"""v2.41 workload fields this generation does not have."""


def proton_id(row: WorkloadRow) -> str | None:
    """The id of the instance serving a workload (one per start), or ``None`` if none runs."""
    if row.runtime_state is None:
        return None
    return hashlib.sha256(f"{row.id}:{row.generation}".encode()).hexdigest()[:24]


def artifact_ref(artifact: ArtifactRow | None) -> dict[str, Any] | None:
    """The artifact summary a workload carries."""
    if artifact is None:
        return None
    return {
        "id": artifact.id,
        "name": artifact.name,
        "status": ARTIFACT_WORDS.word(artifact.status),
        "type": artifact.type,
        "version": artifact.version,
        "artifactRepositoryId": artifact.collection_id,
    }


def artifact_json(row: ArtifactRow, store: Store) -> dict[str, Any]:
    """An artifact as this generation returns it (``ArtifactFormatted``): v2.41's, in this
    generation's words, with its repository and its spec as written."""
    shared = views.artifact_json(row)
    for key in ("artifactCollectionId", "specDigest"):
        shared.pop(key)
    return {
        **shared,
        "status": ARTIFACT_WORDS.word(row.status),
        "artifactRepositoryId": row.collection_id,
        "spec": {**wire_spec(store, row), "type": row.type},
        "tags": [],
        "permissions": PERMISSIONS,
    }


def repository_json(row: RepositoryRow) -> dict[str, Any]:
    """An artifact repository as this generation returns it."""
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "numArtifacts": row.num_artifacts,
        "lastVersionNumber": row.last_version_number,
        "tags": [],
        "permissions": PERMISSIONS,
        "creator": row.creator,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


def current_workload_json(
    row: WorkloadRow,
    store: Store,
    base_url: str,
    *,
    draft_ttl: float,
    log_tail_lines: int,
    replacement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A workload as this generation returns it (``WorkloadFormatted``)."""
    shared = workload_json(row, store, base_url, draft_ttl=draft_ttl, log_tail_lines=log_tail_lines)
    for key in LEFT_OUT:
        shared.pop(key, None)
    artifact = store.get_artifact(row.artifact_id)
    settings = store.workload_settings(row.id)
    return {
        **shared,
        "description": settings.description,
        "status": WORKLOAD_WORDS.word(row.status),
        "importance": settings.importance,
        "type": artifact.type if artifact is not None else None,
        "artifact": artifact_ref(artifact),
        "protonId": proton_id(row),
        "runtime": settings.runtime or {"containerGroups": [DEFAULT_GROUP_RUNTIME]},
        "replacement": replacement,
        "requestStats": None,
        "lastResponse": None,
        "owners": [row.creator],
        "permissions": PERMISSIONS,
        "tags": [],
    }


def operation_json(row: WorkloadRow, message: str, base_url: str) -> dict[str, Any]:
    """A start or stop's answer (``WorkloadOperationResponse``)."""
    track = f"{base_url}{API_PREFIX}/workloads/{row.id}/"
    return {"status": message, "workloadId": row.id, "trackVia": track}


WARNINGS = {"workload.expired", "workload.rolloutAbandoned", "workload.replacementFailed"}
REASONS = {
    "workload.created": "Created",
    "workload.started": "Started",
    "workload.stopped": "Stopped",
    "workload.deleted": "Deleted",
    "workload.expired": "Expired",
    "workload.updated": "Updated",
    "workload.settingsUpdated": "SettingsUpdated",
    "workload.replaced": "Replaced",
    "workload.promoted": "Promoted",
    "artifact.updated": "ArtifactUpdated",
    "artifact.locked": "ArtifactLocked",
}
STATUS_REASONS = {
    "running": "Ready",
    "initializing": "Launching",
    "stopped": "Stopped",
    "stopping": "Stopping",
    "submitted": "Submitted",
}


def event_json(row: EventRow, workload_id: str) -> dict[str, Any]:
    """A workload's event (``WorkloadEvent``) with the Kubernetes-like ``type``, ``reason``
    and ``message`` that diagnostic tools read."""
    details = row.details
    kind, reason = "Normal", REASONS.get(row.event_type, _camel(row.event_type))
    message = details.get("message") or row.event_type
    if row.event_type == "workload.statusChanged":
        to = str(details.get("to"))
        reason = STATUS_REASONS.get(to, _camel(to))
        message = f"{WORKLOAD_WORDS.word(str(details.get('from')))} -> {WORKLOAD_WORDS.word(to)}"
        if details.get("message"):
            message = f"{message}: {details['message']}"
        if to == WorkloadStatus.ERRORED:
            kind, reason = "Warning", "BackOff" if "restart" in message else "Failed"
        elif "restarting" in str(details.get("message", "")):
            kind, reason = "Warning", "BackOff"
        elif "probe" in str(details.get("message", "")):
            kind, reason = "Warning", "ProbeFailed"
    elif row.event_type in WARNINGS:
        kind = "Warning"
    return {
        "id": row.id,
        "workloadId": workload_id,
        "eventType": row.event_type,
        "timestamp": row.timestamp,
        "actorId": row.actor_id,
        "details": details,
        "type": kind,
        "reason": reason,
        "message": str(message).splitlines()[0] if message else row.event_type,
    }


def _camel(text: str) -> str:
    last = text.rsplit(".", 1)[-1]
    return last[:1].upper() + last[1:]
