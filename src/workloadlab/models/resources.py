"""Workloads, artifacts, deployments, events and logs: request bodies and responses.

Request bodies (``Create*``, ``Update*``, :class:`InputArtifact`) are strict; responses are
tolerant and keep only what this package uses, so a DataRobot response with more fields parses.
Fields that only workloadlab's local server sends (``expiresAt``, ``restartCount``,
``statusDetails.message``, ``runningArtifact``, an artifact's ``specDigest``) are optional: a
client must not need them.

Numbers have both bounds: ``replicaCount`` 1 … 1000; autoscaling ``target`` > 0 … 10000,
``minCount`` 0 … 1000, ``maxCount`` 1 … 1000, ``priority`` 0 … 1000; in responses ``version``
and ``restartCount`` 0 … 2**31 - 1, ``exitCode`` -255 … 255, a page's ``count`` 0 … 1000 and
``totalCount`` 0 … 2**63 - 1.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from workloadlab.models.base import Number, RequestModel, Text, WireModel
from workloadlab.models.spec import ArtifactSpec
from workloadlab.models.status import (
    ArtifactStatus,
    ObservedStatus,
    WorkloadStatus,
)
from workloadlab.models.tables import Displayed

T = TypeVar("T")

MAX_REPLICAS = 1000
MAX_SCALING_TARGET = 10_000.0
MAX_PRIORITY = 1000
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
MAX_PAGE = 1000
"""The largest page a list answers (logs; the other lists stop at 100)."""


class RolloutStatus(StrEnum):
    """Where a deployment's move to another artifact version stands (a local-server extension,
    ``workload-api.md`` §8): the new instance starts beside the old one and takes over once ready,
    or the change is abandoned and the old one goes on serving."""

    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    ABANDONED = "abandoned"

    @property
    def finished(self) -> bool:
        """Whether the change is over (switched, or abandoned)."""
        return self is not RolloutStatus.IN_PROGRESS


class Importance(StrEnum):
    """How important a deployment is, for governance."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"


class EntityType(StrEnum):
    """What an audit-trail event is about (its ``entityType``)."""

    WORKLOAD = "workload"
    ARTIFACT = "artifact"
    DEPLOYMENT = "deployment"
    CREDENTIAL = "credential"


# ---------------------------------------------------------------------------------------------
# Requests


EXAMPLE_CONTAINER: dict[str, Any] = {
    "name": "primary",
    "imageUri": "python:3.12-slim",
    "primary": True,
    "port": 8080,
    "entrypoint": ["python", "-m", "workloadlab.examples.hello"],
    "environmentVars": [{"name": "GREETING", "value": "hello"}],
    "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
}
EXAMPLE_ARTIFACT: dict[str, Any] = {
    "name": "hello",
    "description": "workloadlab's example app",
    "spec": {"containerGroups": [{"containers": [EXAMPLE_CONTAINER]}]},
}
"""A valid artifact, shown in the OpenAPI schema (Swagger UI's "Try it out" starts from it)."""


class InputArtifact(RequestModel):
    """Body of ``POST /registry/artifacts/`` and ``PUT /registry/artifacts/{id}``, and the
    inline artifact of ``POST /console/workloads/``. ``name`` is optional, as v2.41 marks it."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_ARTIFACT]})

    name: Text | None = Field(
        default=None,
        min_length=1,
        max_length=5000,
        description="Optional. Left out (or null): `artifact-` and the last 8 characters of its"
        " id for a new artifact, its workload's name for an inline one, the name it has for a"
        " `PUT`. Registered artifacts of one name form a collection.",
    )
    description: Text = ""
    type: Literal["generic"] = "generic"
    status: Literal["draft", "registered"] = "draft"
    spec: ArtifactSpec


class UpdateArtifact(RequestModel):
    """Body of ``PATCH /registry/artifacts/{id}``: metadata and status only."""

    name: Text | None = Field(default=None, min_length=1, max_length=5000)
    description: Text | None = None
    status: Literal["draft", "registered"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _spec_needs_put(cls, data: Any) -> Any:
        if isinstance(data, dict) and "spec" in data:
            raise ValueError(
                "the container spec cannot be changed with PATCH: "
                "send the whole artifact with PUT /registry/artifacts/{id}"
            )
        return data


class ResourceBundle(RequestModel):
    """A resource bundle reference of a runtime."""

    type: Literal["resource_bundle"] = "resource_bundle"
    resource_bundle_id: Text = Field(min_length=1)


class AutoscalingPolicy(RequestModel):
    """One autoscaling policy."""

    scaling_metric: Literal["cpuAverageUtilization", "httpRequestsConcurrency"]
    target: Number = Field(gt=0, le=MAX_SCALING_TARGET)
    min_count: StrictInt = Field(ge=0, le=MAX_REPLICAS)
    max_count: StrictInt = Field(ge=1, le=MAX_REPLICAS)
    priority: StrictInt | None = Field(default=None, ge=0, le=MAX_PRIORITY)


class Autoscaling(RequestModel):
    """Autoscaling settings of a runtime."""

    enabled: StrictBool = True
    policies: list[AutoscalingPolicy] = Field(default_factory=list)


class Runtime(RequestModel):
    """How many replicas run (or how they scale) and on what resources."""

    replica_count: StrictInt | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    autoscaling: Autoscaling | None = None
    resources: list[ResourceBundle] | None = None

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> Runtime:
        if self.replica_count is not None and self.autoscaling is not None:
            raise ValueError("give either replicaCount or autoscaling, not both")
        return self


class CreateWorkload(RequestModel):
    """Body of ``POST /console/workloads/``: exactly one of ``artifact`` or ``artifactId``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "hello", "artifact": EXAMPLE_ARTIFACT}]}
    )

    name: Text = Field(min_length=1, max_length=5000)
    artifact: InputArtifact | None = None
    artifact_id: Text | None = None
    runtime: Runtime | None = None

    @model_validator(mode="after")
    def _exactly_one_artifact(self) -> CreateWorkload:
        if (self.artifact is None) == (self.artifact_id is None):
            raise ValueError("give exactly one of artifact (inline) or artifactId")
        return self


class CreateDeployment(RequestModel):
    """Body of ``POST /console/deployments/``."""

    workload_id: Text = Field(min_length=1)
    name: Text = Field(min_length=1, max_length=5000)
    description: Text = ""
    importance: Importance = Importance.LOW


class UpdateDeployment(RequestModel):
    """Body of ``PATCH /console/deployments/{id}/``. ``artifactId`` (the local server's
    extension) moves the deployment to another registered version of its artifact's collection,
    as a rolling change."""

    name: Text | None = Field(default=None, min_length=1, max_length=5000)
    description: Text | None = None
    importance: Importance | None = None
    artifact_id: Text | None = Field(default=None, min_length=1)


# ---------------------------------------------------------------------------------------------
# Responses


class Creator(WireModel):
    """Who created a resource."""

    id: str
    username: str | None = None
    email: str | None = None


class ArtifactRef(WireModel):
    """The artifact summary embedded in workloads and deployments."""

    id: str
    name: str | None = None
    status: ArtifactStatus | None = None
    version: int | None = Field(default=None, ge=0, le=MAX_INT32)


class Artifact(WireModel):
    """An artifact: a container spec, a draft until registered."""

    id: str
    name: str
    description: str = ""
    type: str = "generic"
    status: ArtifactStatus
    version: int | None = Field(default=None, ge=0, le=MAX_INT32)
    artifact_collection_id: str | None = None
    spec: ArtifactSpec
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    spec_digest: str | None = Field(
        default=None,
        description="Local-server extension: `sha256:` and the SHA-256 of the canonical JSON of"
        " `spec` (keys sorted, no whitespace, UTF-8).",
    )

    @property
    def digest(self) -> str:
        """The spec's digest: the server's, else computed (:meth:`ArtifactSpec.digest`)."""
        return self.spec_digest or self.spec.digest()

    @property
    def is_registered(self) -> bool:
        """Whether the spec is frozen (registered, or locked in the newer API)."""
        return self.status is not ArtifactStatus.DRAFT

    def to_input(self) -> InputArtifact:
        """The body that would PUT this artifact back as it is (a copy: edit it freely)."""
        return InputArtifact(
            name=self.name,
            description=self.description,
            status="draft" if self.status is ArtifactStatus.DRAFT else "registered",
            spec=self.spec.model_copy(deep=True),
        )


class Condition(WireModel):
    """One status condition of a workload's container."""

    type: str
    name: str | None = None
    value: str


class StatusDetails(WireModel):
    """Why a workload has its status: conditions, the log tail, and a message."""

    conditions: list[Condition] = Field(default_factory=list)
    log_tail: list[str] = Field(default_factory=list)
    message: str | None = None
    exit_code: int | None = Field(default=None, ge=-255, le=255)


class RunningArtifact(WireModel):
    """Which artifact spec a workload's running instance runs (a local-server extension)."""

    id: str = Field(description="The artifact's id.")
    version: int | None = Field(
        default=None,
        ge=0,
        le=MAX_INT32,
        description="The registered version whose spec it runs; null for a draft's spec.",
    )
    spec_digest: str = Field(
        description="`sha256:` and the SHA-256 of the canonical JSON of the spec it was started"
        " with (keys sorted, no whitespace, UTF-8): compare with the artifact's `specDigest`."
    )
    started_at: dt.datetime | None = Field(default=None, description="When it was started.")


class Rollout(WireModel):
    """A deployment's move to another version of its artifact (a local-server extension):
    from which artifact to which, how it stands, and why it was abandoned if it was."""

    id: str
    status: RolloutStatus = Field(
        description="`inProgress` while the new instance gets ready; `completed` once the"
        " deployment switched to it; `abandoned` if it did not (`message` says why)."
    )
    deployment_id: str | None = None
    workload_id: str | None = None
    from_artifact_id: str = Field(description="The artifact the deployment ran before.")
    to_artifact_id: str = Field(description="The artifact it is moved to.")
    from_version: int | None = Field(default=None, ge=0, le=MAX_INT32)
    to_version: int | None = Field(default=None, ge=0, le=MAX_INT32)
    message: str | None = Field(
        default=None, description="Why it was abandoned (or how it was done); null meanwhile."
    )
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class Workload(WireModel):
    """A workload: containers running an artifact."""

    id: str
    name: str
    status: ObservedStatus = WorkloadStatus.UNKNOWN
    artifact_id: str | None = None
    artifact: ArtifactRef | None = None
    runtime: Runtime | None = None
    endpoint: str | None = None
    internal_url: str | None = None
    status_details: StatusDetails | None = None
    running_since: dt.datetime | None = None
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    restart_count: int | None = Field(default=None, ge=0, le=MAX_INT32)
    running_artifact: RunningArtifact | None = Field(
        default=None,
        description="Local-server extension: which artifact spec its running instance runs;"
        " null while no instance runs.",
    )
    rollout: Rollout | None = Field(
        default=None,
        description="Local-server extension: its move to another artifact version under way"
        " (`PATCH /console/deployments/{id}` with `artifactId`); null when none is.",
    )


class Deployment(Displayed, WireModel):
    """A governed production deployment of a workload."""

    id: str
    name: str
    description: str | None = ""
    importance: Importance | None = None
    status: ObservedStatus = WorkloadStatus.UNKNOWN
    workload_id: str
    artifact_id: str | None = None
    artifact: ArtifactRef | None = None
    endpoint: str | None = None
    creator: Creator | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    rollout: Rollout | None = Field(
        default=None,
        description="Local-server extension: its latest move to another artifact version, under"
        " way or finished; null if it never moved.",
    )


class Operation(WireModel):
    """The answer to start and stop: a message and where to follow the workload."""

    status: str
    workload_id: str | None = None
    track_via: str | None = None


class Event(Displayed, WireModel):
    """One entry of the audit trail."""

    id: str
    timestamp: dt.datetime
    event_type: str
    actor_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class LogRecord(Displayed, WireModel):
    """One line a workload's container wrote."""

    timestamp: dt.datetime
    level: str = "info"
    message: str
    container_name: str | None = None
    stream: str | None = None


class Page(Displayed, WireModel, Generic[T]):
    """One page of a list response."""

    count: int = Field(ge=0, le=MAX_PAGE)
    total_count: int | None = Field(default=None, ge=0, le=MAX_INT64)
    next: str | None = None
    previous: str | None = None
    data: list[T]
