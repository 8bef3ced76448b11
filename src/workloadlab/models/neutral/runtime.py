"""The neutral runtime: how many replicas run, how they scale and on what resources.

v2.41 puts ``replicaCount``, ``autoscaling`` and ``resources`` (bundles) at the top; the current
generation has one entry per container group (``containerGroups``) with its replicas, scaling,
``resourceBundles`` and per-container ``resourceAllocation`` (``workload-api-current.md`` §4).
:class:`Runtime` holds both shapes as they came; nothing is moved from one to the other, so a
runtime read from ``GET …/settings`` or a workload goes back unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, model_validator

from workloadlab.models.lossless import LosslessModel, NonNegativeInt, Number, PositiveNumber
from workloadlab.models.units import Memory


class ScalingPolicy(LosslessModel):
    """One autoscaling policy (v2.41's per-policy counts are kept as they came)."""

    scaling_metric: str
    target: Number
    min_count: NonNegativeInt | None = None
    max_count: StrictInt | None = Field(default=None, ge=1)
    priority: NonNegativeInt | None = None


class Autoscaling(LosslessModel):
    """Autoscaling of a runtime or of a container group."""

    enabled: StrictBool | None = None
    min_replica_count: NonNegativeInt | None = None
    max_replica_count: StrictInt | None = Field(default=None, ge=1)
    policies: list[ScalingPolicy] | None = None


class ResourceAllocation(LosslessModel):
    """A container's resources in the current generation: cores, memory (bytes or a unit
    string), GPUs and GPU memory (current only)."""

    cpu: PositiveNumber | None = None
    memory: Memory | None = None
    gpu: NonNegativeInt | None = None
    gpu_memory: Memory | None = None


class ContainerRuntime(LosslessModel):
    """The resources of one container of a group, by the container's name."""

    name: str | None = None
    resource_allocation: ResourceAllocation | None = None


class GroupRuntime(LosslessModel):
    """The runtime of one container group (current generation), matched by ``name``."""

    name: str | None = None
    replica_count: StrictInt | None = Field(default=None, ge=1)
    autoscaling: Autoscaling | None = None
    resource_bundles: list[str] | None = None
    bundle_selection_policy: str | None = None
    resolved_bundle: Any = None
    containers: list[ContainerRuntime] | None = None


class BundleRef(LosslessModel):
    """A v2.41 resource bundle reference."""

    type: str | None = None
    resource_bundle_id: str | None = None


class Runtime(LosslessModel):
    """A workload's runtime in either generation's shape (or both)."""

    replica_count: StrictInt | None = Field(default=None, ge=1)
    autoscaling: Autoscaling | None = None
    resources: list[BundleRef] | None = None
    container_groups: list[GroupRuntime] | None = None

    @model_validator(mode="after")
    def _replicas_or_autoscaling(self) -> Runtime:
        for where in (self, *(self.container_groups or ())):
            scaling = where.autoscaling
            if where.replica_count is not None and scaling is not None and scaling.enabled:
                raise ValueError("give either replicaCount or autoscaling, not both")
        return self

    @property
    def allocations(self) -> list[ResourceAllocation]:
        """Every container's resource allocation (current generation), in order."""
        return [
            container.resource_allocation
            for group in self.container_groups or ()
            for container in group.containers or ()
            if container.resource_allocation is not None
        ]
