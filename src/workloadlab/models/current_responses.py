"""Responses of DataRobot's current Workload API generation (``workload-api-current.md`` §3, §4),
as the local server's ``--api current`` profile answers them.

Tolerant (unknown keys ignored) and loose where DataRobot's answers vary (statuses are
strings; runtimes, specs and configs are kept as the JSON they are): these describe the answers
in the local server's OpenAPI document and read them in tests and tools.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from workloadlab.models.base import WireModel
from workloadlab.models.resources import Creator, StatusDetails


class CurrentArtifactRef(WireModel):
    """The artifact summary a workload carries."""

    id: str
    name: str | None = None
    status: str | None = None
    type: str | None = None
    version: int | None = None
    artifact_repository_id: str | None = None


class ReplacementSummary(WireModel):
    """A workload's replacement under way, as the workload shows it."""

    candidate_proton_ids: list[str] = Field(default_factory=list)
    status: str
    strategy: str | None = None


class WorkloadFormatted(WireModel):
    """A workload of the current generation."""

    id: str
    name: str
    description: str | None = ""
    status: str = "unknown"
    importance: str | None = None
    type: str | None = None
    artifact_id: str | None = None
    artifact: CurrentArtifactRef | None = None
    proton_id: str | None = None
    endpoint: str | None = None
    runtime: dict[str, Any] | None = None
    replacement: ReplacementSummary | None = None
    request_stats: dict[str, Any] | None = None
    last_response: dict[str, Any] | None = None
    creator: Creator | None = None
    owners: list[Creator] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    tags: list[Any] = Field(default_factory=list)
    status_details: StatusDetails | None = None
    expires_at: dt.datetime | None = Field(
        default=None, description="Local extension: when a draft's workload is removed."
    )
    restart_count: int | None = Field(default=None, description="Local extension.")
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class ArtifactFormatted(WireModel):
    """An artifact of the current generation: its spec as written, plus its ``type``."""

    id: str
    name: str
    description: str = ""
    type: str = "service"
    status: str
    version: int | None = None
    artifact_repository_id: str | None = None
    spec: dict[str, Any]
    creator: Creator | None = None
    tags: list[Any] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class ArtifactRepositoryFormatted(WireModel):
    """An artifact repository: the versions of one artifact."""

    id: str
    name: str
    type: str | None = None
    num_artifacts: int = 0
    last_version_number: int | None = None
    tags: list[Any] = Field(default_factory=list)
    permissions: list[str] = Field(default_factory=list)
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class Replacement(WireModel):
    """A rolling change of a workload: settings, replacement or promote."""

    id: str
    name: str | None = None
    workload_id: str
    candidate_artifact_id: str
    candidate_proton_ids: list[str] = Field(default_factory=list)
    previous_proton_ids: list[str] = Field(default_factory=list)
    strategy: str | None = None
    config: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    status: str
    message: str | None = None
    switched_at: dt.datetime | None = None
    is_deleted: bool = False
    deleted_at: dt.datetime | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class WorkloadSettingsAnswer(WireModel):
    """``GET /workloads/{id}/settings``."""

    runtime: dict[str, Any] | None = None


class WorkloadEvent(WireModel):
    """A workload's event, with the Kubernetes-like fields diagnostic tools read."""

    id: str | None = None
    workload_id: str | None = None
    event_type: str | None = None
    timestamp: dt.datetime
    actor_id: str | None = None
    details: dict[str, Any] | None = None
    type: str | None = Field(default=None, description="`Normal` or `Warning`.")
    reason: str | None = None
    message: str | None = None


class ProtonFormatted(WireModel):
    """One running version of a workload: the active instance, or a replacement's candidate."""

    id: str
    name: str | None = None
    workload_id: str
    artifact_id: str
    role: str = Field(description="`active` or `candidate`.")
    status: str
    status_details: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    endpoint: str | None = None
    running_since: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


class ProtonStatusDetails(WireModel):
    """A proton's snapshot: its overall state and one replica per instance."""

    overall_status: dict[str, Any]
    replicas: list[dict[str, Any]] = Field(default_factory=list)


class AccountLimits(WireModel):
    """The account's limits (``0``: unlimited)."""

    max_concurrent_workloads: int = 0
    max_workload_replicas: int = 0


class AccountInfo(WireModel):
    """``GET /account/info``."""

    uid: str
    email: str | None = None
    org_id: str | None = None
    tenant_id: str | None = None
    limits: AccountLimits
