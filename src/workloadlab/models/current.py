"""Request bodies of DataRobot's current Workload API generation (``workload-api-current.md`` §4).

The current generation describes an artifact's containers much as v2.41 does (one primary with a
port, probes, the three kinds of environment variable), adds fields the local server keeps
(``securityContext``, which its container runtime applies; ``imageBuildConfig`` and ``storage``,
which nothing acts on), and moves replicas
and resources out of the artifact into the workload's ``runtime``, per container group and
container, by name. These models check the shape of each body (unknown keys are errors, with
their field paths); the rules shared with v2.41 (one primary, its port, unique names, probe
bounds) are checked on the runnable projection of the spec, by
:class:`~workloadlab.models.spec.ArtifactSpec`, so both generations refuse the same mistakes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, field_validator, model_validator

from workloadlab.models.base import RequestModel, Text
from workloadlab.models.local import LocalMount, local_mounts_field
from workloadlab.models.resources import MAX_PRIORITY, MAX_REPLICAS, MAX_SCALING_TARGET, Importance
from workloadlab.models.spec import MAX_CPU, MAX_GPU, MAX_MEMORY, AnyEnvironmentVar, Probe
from workloadlab.models.units import Memory, memory_bytes

ArtifactType = Literal["service", "nim", "agent"]
"""What an artifact is for (all run alike on the local server)."""
LockStatus = Literal["draft", "locked"]
"""An artifact's status as the current generation says it."""
Name = Text
DEFAULT_GROUP = "default"
"""The name of a container group (and of its runtime entry) that names none."""


class Capabilities(RequestModel):
    """Linux capabilities added to or dropped from a container."""

    add: list[Text] | None = None
    drop: list[Text] | None = None


class SeccompProfile(RequestModel):
    """A container's seccomp profile."""

    type: Literal["RuntimeDefault", "Unconfined", "Localhost"]
    localhost_profile: Text | None = None


class SecurityContext(RequestModel):
    """A container's security settings (kept; applied where the container engine can)."""

    allow_privilege_escalation: StrictBool | None = None
    capabilities: Capabilities | None = None
    read_only_root_filesystem: StrictBool | None = None
    seccomp_profile: SeccompProfile | None = None


class CurrentContainer(RequestModel):
    """One container of a current-generation artifact."""

    name: Text | None = Field(default=None, min_length=1, max_length=253)
    description: Text = ""
    image_uri: Text | None = Field(default=None, min_length=1)
    primary: StrictBool = False
    port: StrictInt | None = None
    entrypoint: list[Text] | None = None
    environment_vars: list[AnyEnvironmentVar] = Field(default_factory=list)
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    security_context: SecurityContext | None = None
    image_build_config: dict[str, Any] | None = None
    """The build input: accepted as any object and returned unchanged; nothing is built."""
    build: dict[str, Any] | None = None
    """Read-only (the last build); ignored on write."""
    local_mounts: list[LocalMount] | None = local_mounts_field()


class CurrentContainerGroup(RequestModel):
    """A named group of containers (``runtime`` entries match it by name)."""

    name: Text = Field(default=DEFAULT_GROUP, min_length=1, max_length=253)
    containers: list[CurrentContainer] = Field(min_length=1)


class Storage(RequestModel):
    """Storage of a ``nim`` artifact (kept, not provisioned locally)."""

    mode: Literal["dedicatedPvc", "nimCache"]
    pvc_size: Text | StrictInt | None = None


class CurrentArtifactSpec(RequestModel):
    """An artifact's ``spec``: its container groups (one locally) and what its type adds."""

    container_groups: list[CurrentContainerGroup] = Field(min_length=1, max_length=1)
    storage: Storage | None = None
    template_id: Text | None = None
    a2a_enabled: StrictBool | None = None
    type: ArtifactType | None = None
    """Responses carry the artifact's type here; a ``PUT`` may send it back (equal to ``type``)."""


class CurrentInputArtifact(RequestModel):
    """Body of ``POST /artifacts/`` and ``PUT /artifacts/{id}`` (and an inline artifact)."""

    name: Text = Field(min_length=1, max_length=5000)
    spec: CurrentArtifactSpec
    description: Text = ""
    type: ArtifactType = "service"
    status: LockStatus = "draft"
    artifact_repository_id: Text | None = Field(default=None, min_length=1, max_length=256)

    @model_validator(mode="after")
    def _spec_type_matches(self) -> CurrentInputArtifact:
        if self.spec.type is not None and self.spec.type != self.type:
            raise ValueError(f"spec.type ({self.spec.type}) differs from type ({self.type})")
        return self


class CurrentUpdateArtifact(RequestModel):
    """Body of ``PATCH /artifacts/{id}``: any of these; ``spec`` replaces the whole spec."""

    name: Text | None = Field(default=None, min_length=1, max_length=5000)
    description: Text | None = None
    spec: CurrentArtifactSpec | None = None
    status: LockStatus | None = None

    @field_validator("spec")
    @classmethod
    def _no_spec_type(cls, value: CurrentArtifactSpec | None) -> CurrentArtifactSpec | None:
        if value is not None and value.type is not None:
            raise ValueError("spec.type cannot be changed with PATCH (the artifact's type)")
        return value


class CloneArtifact(RequestModel):
    """Body of ``POST /artifacts/{id}/clone``."""

    name: Text = Field(min_length=1, max_length=5000)


class ResourceAllocation(RequestModel):
    """What one container gets: cores, memory (bytes or ``"512MB"``), GPUs."""

    cpu: StrictFloat | None = Field(default=None, gt=0, le=MAX_CPU)
    memory: Memory | None = None
    gpu: StrictInt | None = Field(default=None, ge=0, le=MAX_GPU)
    gpu_memory: Memory | None = None

    @field_validator("memory", "gpu_memory")
    @classmethod
    def _at_most(cls, value: int | str | None) -> int | str | None:
        if value is not None and memory_bytes(value) > MAX_MEMORY:
            raise ValueError(f"memory must be at most {MAX_MEMORY} bytes")
        return value


class ContainerRuntime(RequestModel):
    """A container's share of its group's runtime, by the container's name."""

    name: Text = Field(min_length=1, max_length=253)
    resource_allocation: ResourceAllocation | None = None


ScalingMetric = Literal[
    "cpuAverageUtilization",
    "httpRequestsConcurrency",
    "gpuCacheUtilization",
    "gpuRequestQueueDepth",
]


class GroupScalingPolicy(RequestModel):
    """One autoscaling rule (per-policy counts are accepted and hoisted)."""

    scaling_metric: ScalingMetric
    target: StrictFloat = Field(gt=0, le=MAX_SCALING_TARGET)
    min_count: StrictInt | None = Field(default=None, ge=0, le=MAX_REPLICAS)
    max_count: StrictInt | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    priority: StrictInt | None = Field(default=None, ge=0, le=MAX_PRIORITY)


class GroupAutoscaling(RequestModel):
    """A group's autoscaling (kept; the local server runs ``minReplicaCount``, at least one)."""

    enabled: StrictBool = True
    min_replica_count: StrictInt = Field(default=0, ge=0, le=MAX_REPLICAS)
    max_replica_count: StrictInt = Field(default=1, ge=1, le=MAX_REPLICAS)
    policies: list[GroupScalingPolicy] = Field(default_factory=list)


class GroupRuntime(RequestModel):
    """How one container group runs: replicas (or autoscaling), bundles, per-container shares."""

    name: Text = Field(default=DEFAULT_GROUP, min_length=1, max_length=253)
    replica_count: StrictInt | None = Field(default=None, ge=1, le=MAX_REPLICAS)
    autoscaling: GroupAutoscaling | None = None
    resource_bundles: list[Text] | None = None
    bundle_selection_policy: Text | None = None
    resolved_bundle: Any = None
    """Read-only; ignored on write."""
    containers: list[ContainerRuntime] | None = None

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> GroupRuntime:
        if self.replica_count is not None and self.autoscaling and self.autoscaling.enabled:
            raise ValueError("give either replicaCount or autoscaling, not both")
        return self

    @property
    def replicas(self) -> int:
        """How many instances the local server runs for this group."""
        if self.replica_count is not None:
            return self.replica_count
        if self.autoscaling is not None and self.autoscaling.enabled:
            return max(1, self.autoscaling.min_replica_count)
        return 1


class WorkloadRuntime(RequestModel):
    """A workload's runtime: one entry per container group (enclaves kept, ignored)."""

    container_groups: list[GroupRuntime] = Field(min_length=1)
    enclave_selection_policy: Any = None
    enclaves: Any = None


class CreateCurrentWorkload(RequestModel):
    """Body of ``POST /workloads/``: exactly one of ``artifact`` and ``artifactId``."""

    name: Text = Field(min_length=1, max_length=5000)
    artifact: CurrentInputArtifact | None = None
    artifact_id: Text | None = None
    description: Text = ""
    importance: Importance = Importance.LOW
    runtime: WorkloadRuntime | None = None

    @model_validator(mode="after")
    def _exactly_one_artifact(self) -> CreateCurrentWorkload:
        if (self.artifact is None) == (self.artifact_id is None):
            raise ValueError("give exactly one of artifact (inline) or artifactId")
        return self


class UpdateCurrentWorkload(RequestModel):
    """Body of ``PATCH /workloads/{id}``: metadata only (no restart)."""

    name: Text | None = Field(default=None, min_length=1, max_length=5000)
    description: Text | None = None
    importance: Importance | None = None


class WorkloadSettings(RequestModel):
    """Body of ``PATCH /workloads/{id}/settings``."""

    runtime: WorkloadRuntime


class ReplacementConfig(RequestModel):
    """How a replacement waits (kept, not waited on locally)."""

    warmup_duration_minutes: StrictInt = Field(default=0, ge=0, le=10_000)
    keep_old_version_minutes: StrictInt = Field(default=0, ge=0, le=10_000)


class CreateReplacement(RequestModel):
    """Body of ``POST /workloads/{id}/replacement``."""

    artifact_id: Text = Field(min_length=1, max_length=256)
    strategy: Literal["rolling"]
    """Required, as DataRobot requires it (its one strategy)."""
    config: ReplacementConfig | None = None
    runtime: WorkloadRuntime | None = None
