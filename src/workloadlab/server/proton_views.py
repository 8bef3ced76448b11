"""A workload's protons and their status snapshot, as the current generation's diagnostic
endpoints answer them (``workload-api-current.md`` §3.4), from what the server already knows.

A *proton* is one running version of a workload: the active instance (while one runs), plus a
replacement's candidate while the replacement is under way (listed from its request on; its
snapshot is ``204`` until its instance exists). The snapshot (``statusDetails``) has one
replica per instance, its conditions, and its containers as the artifact's spec names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workloadlab.models import RolloutStatus, WorkloadStatus
from workloadlab.server.current_views import (
    WORKLOAD_WORDS,
    candidate_proton_id,
    proton_id,
    replacement_status,
)
from workloadlab.server.operations.lockable import wire_spec
from workloadlab.server.store import ReplacementRow, Store, WorkloadRow
from workloadlab.server.views import API_PREFIX

REPLICA_STATUS = {
    WorkloadStatus.RUNNING.value: "running",
    WorkloadStatus.SUBMITTED.value: "pending",
    WorkloadStatus.INITIALIZING.value: "pending",
    WorkloadStatus.ERRORED.value: "failed",
    WorkloadStatus.STOPPED.value: "succeeded",
}
"""A replica's status (Kubernetes' pod phases) from its instance's."""


@dataclass
class Proton:
    """One running version of a workload, as the server knows it."""

    id: str
    role: str
    artifact_id: str
    status: str
    """Stored status (``initializing``...), said in this generation's words when answered."""
    runtime: dict[str, Any] | None
    state: dict[str, Any] | None
    """The instance's runtime state (``None``: no instance yet)."""
    running_since: str | None
    created_at: str
    updated_at: str
    conditions: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    restart_count: int = 0


def protons(row: WorkloadRow, store: Store) -> list[Proton]:
    """The workload's protons: the active one (if an instance runs), then the candidate of the
    replacement under way (if any)."""
    changes = store.replacements_of(row.id)
    found: list[Proton] = []
    active = proton_id(row, changes)
    settings = store.workload_settings(row.id)
    if active is not None:
        running = store.running_artifact(row.id)
        found.append(
            Proton(
                id=active,
                role="active",
                artifact_id=row.artifact_id,
                status=row.status,
                runtime=settings.runtime,
                state=row.runtime_state,
                running_since=row.running_since,
                created_at=running.started_at if running else row.started_at,
                updated_at=row.updated_at,
                conditions=row.status_details.get("conditions", []),
                message=row.status_details.get("message"),
                restart_count=row.restart_count,
            )
        )
    under_way = next((c for c in changes if c.change.status is RolloutStatus.IN_PROGRESS), None)
    if under_way is not None:
        found.append(_candidate(row, under_way, settings.runtime))
    return found


def _candidate(row: WorkloadRow, change: ReplacementRow, runtime: Any) -> Proton:
    rollout = change.change
    started = rollout.runtime_state is not None
    status = WorkloadStatus.INITIALIZING if started else WorkloadStatus.SUBMITTED
    return Proton(
        id=candidate_proton_id(row, change),
        role="candidate",
        artifact_id=rollout.to_artifact_id,
        status=status,
        runtime=change.runtime or runtime,
        state=rollout.runtime_state,
        running_since=None,
        created_at=rollout.created_at,
        updated_at=rollout.updated_at,
        message=f"replacement {rollout.id} is {replacement_status(change)}",
    )


def proton_json(
    proton: Proton, row: WorkloadRow, store: Store, base_url: str, *, log_tail_lines: int
) -> dict[str, Any]:
    """A proton as this generation returns it (``ProtonFormatted``); the active one's
    ``logTail`` is the workload's."""
    tail = store.log_tail(row.id, log_tail_lines) if proton.role == "active" else []
    return {
        "id": proton.id,
        "name": f"{row.name}-{proton.role}",
        "workloadId": row.id,
        "artifactId": proton.artifact_id,
        "role": proton.role,
        "status": WORKLOAD_WORDS.word(proton.status),
        "statusDetails": {"logTail": tail},
        "runtime": proton.runtime,
        "endpoint": f"{base_url}{API_PREFIX}/endpoints/workloads/{row.id}/",
        "runningSince": proton.running_since,
        "createdAt": proton.created_at,
        "updatedAt": proton.updated_at,
    }


def status_details_json(proton: Proton, row: WorkloadRow, store: Store) -> dict[str, Any] | None:
    """A proton's snapshot: its state and one replica per instance (``None``: no instance
    exists yet, answered ``204``)."""
    if proton.state is None:
        return None
    artifact = store.get_artifact(proton.artifact_id)
    containers = []
    if artifact is not None:
        for group in wire_spec(store, artifact)["containerGroups"]:
            containers.extend(group["containers"])
    ready = proton.status == WorkloadStatus.RUNNING
    port = proton.state.get("port")
    started = proton.created_at
    replica = {
        "name": f"{row.name}-{proton.role}-0",
        "address": f"127.0.0.1:{port}" if port else None,
        "startedAt": started,
        "status": REPLICA_STATUS.get(proton.status, "unknown"),
        "conditions": [
            {"type": c.get("type"), "met": c.get("value") == "True", "since": proton.updated_at}
            for c in proton.conditions
        ],
        "containers": [
            {
                "name": container.get("name"),
                "image": container.get("imageUri"),
                "ready": ready,
                "restartCount": proton.restart_count,
                "startedAt": started,
                "status": "running" if ready else "waiting",
            }
            for container in containers
        ],
    }
    summary = proton.message or ("1 of 1 replicas ready" if ready else "0 of 1 replicas ready")
    return {
        "overallStatus": {
            "state": WORKLOAD_WORDS.word(proton.status),
            "summary": summary,
            "lastUpdated": proton.updated_at,
        },
        "replicas": [replica],
    }
