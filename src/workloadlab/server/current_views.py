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

from workloadlab.models import ArtifactStatus, RolloutStatus, WorkloadStatus
from workloadlab.server import views
from workloadlab.server.operations.lockable import wire_spec
from workloadlab.server.store import (
    ArtifactRow,
    EventRow,
    ReplacementRow,
    RepositoryRow,
    Store,
    WorkloadRow,
)
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


def _proton(workload_id: str, generation: int, change_id: str) -> str:
    return hashlib.sha256(f"{workload_id}:{generation}:{change_id}".encode()).hexdigest()[:24]


def proton_id(row: WorkloadRow, changes: list[ReplacementRow]) -> str | None:
    """The id of the instance serving a workload (``None``: none runs): one per start, and a
    new one at each switch of a replacement since (the candidate's id: ``changes`` are the
    workload's replacements, newest first)."""
    if row.runtime_state is None:
        return None
    for change in changes:
        switched = change.change.status is RolloutStatus.COMPLETED and change.kind != "promote"
        if switched and change.change.created_at >= row.started_at:
            return _proton(row.id, row.generation, change.change.id)
    return _proton(row.id, row.generation, "")


def candidate_proton_id(row: WorkloadRow, change: ReplacementRow) -> str:
    """The id of a replacement's candidate instance (the active one's after its switch)."""
    return _proton(row.id, row.generation, change.change.id)


def candidate_ids(row: WorkloadRow, change: ReplacementRow) -> list[str]:
    """The candidate instance of a replacement (once it has started; after it, as it was)."""
    started = change.change.runtime_state is not None
    if change.kind == "promote" or not (started or change.change.status.finished):
        return []
    if change.change.status is RolloutStatus.ABANDONED and not started:
        return []
    return [candidate_proton_id(row, change)]


REPLACEMENT_WORDS = {RolloutStatus.COMPLETED: "completed", RolloutStatus.ABANDONED: "errored"}


def replacement_status(change: ReplacementRow) -> str:
    """``submitted`` until the candidate starts, ``initializing`` until the switch, then
    ``completed``; ``errored`` if it never got ready (or was cancelled)."""
    status = change.change.status
    if status is RolloutStatus.IN_PROGRESS:
        return "initializing" if change.change.runtime_state is not None else "submitted"
    return REPLACEMENT_WORDS[status]


def replacement_json(row: WorkloadRow, change: ReplacementRow) -> dict[str, Any]:
    """A replacement as this generation returns it (``Replacement``)."""
    rollout = change.change
    completed = rollout.status is RolloutStatus.COMPLETED
    return {
        "id": rollout.id,
        "name": f"{change.kind}-{rollout.id[-6:]}",
        "workloadId": row.id,
        "candidateArtifactId": rollout.to_artifact_id,
        "candidateProtonIds": candidate_ids(row, change),
        "previousProtonIds": [change.previous_proton_id] if change.previous_proton_id else [],
        "strategy": change.strategy,
        "config": change.config,
        "runtime": change.runtime,
        "status": replacement_status(change),
        "message": rollout.message,
        "switchedAt": rollout.finished_at if completed else None,
        "isDeleted": False,
        "deletedAt": None,
        "tenantId": None,
        "userId": rollout.actor_id,
        "createdAt": rollout.created_at,
        "updatedAt": rollout.updated_at,
    }


def replacement_summary(row: WorkloadRow, changes: list[ReplacementRow]) -> dict[str, Any] | None:
    """The ``replacement`` of a workload: the one under way, else ``None``."""
    for change in changes:
        if change.change.status is RolloutStatus.IN_PROGRESS:
            return {
                "candidateProtonIds": candidate_ids(row, change),
                "status": replacement_status(change),
                "strategy": change.strategy,
            }
    return None


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
) -> dict[str, Any]:
    """A workload as this generation returns it (``WorkloadFormatted``)."""
    shared = workload_json(row, store, base_url, draft_ttl=draft_ttl, log_tail_lines=log_tail_lines)
    for key in LEFT_OUT:
        shared.pop(key, None)
    artifact = store.get_artifact(row.artifact_id)
    settings = store.workload_settings(row.id)
    changes = store.replacements_of(row.id)
    return {
        **shared,
        "description": settings.description,
        "status": WORKLOAD_WORDS.word(row.status),
        "importance": settings.importance,
        "type": artifact.type if artifact is not None else None,
        "artifact": artifact_ref(artifact),
        "protonId": proton_id(row, changes),
        "runtime": settings.runtime or {"containerGroups": [DEFAULT_GROUP_RUNTIME]},
        "replacement": replacement_summary(row, changes),
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
