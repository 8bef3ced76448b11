"""Replica counts and resource allocations read from a workload's runtime, in both shapes."""

from __future__ import annotations

import pytest

from workloadlab.models import ArtifactSpec
from workloadlab.server.supervisor.sizing import memory_bytes, replica_count, sized


@pytest.mark.parametrize(
    ("runtime", "count"),
    [
        (None, 1),
        ({}, 1),
        ({"replicaCount": 3}, 3),
        ({"containerGroups": [{"name": "default", "replicaCount": 4}]}, 4),
        ({"containerGroups": [{"name": "default"}]}, 1),
        ({"autoscaling": {"enabled": True, "policies": [{"minCount": 2, "maxCount": 5}]}}, 2),
        ({"containerGroups": [{"autoscaling": {"enabled": True, "minReplicaCount": 0}}]}, 1),
        ({"replicaCount": True}, 1),
    ],
)
def test_replica_count(runtime: dict[str, object] | None, count: int) -> None:
    assert replica_count(runtime) == count


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (1024, 1024),
        ("512MB", 512_000_000),
        ("1Gi", 1024**3),
        ("256MiB", 256 * 1024**2),
        ("1.5GB", 1_500_000_000),
        ("1.5G", None),
        ("2KB", 2000),
        ("12", 12),
        ("lots", None),
        ("5XB", None),
        (0, None),
        (True, None),
    ],
)
def test_memory_bytes(value: object, size: int | None) -> None:
    assert memory_bytes(value) == size


def _spec(**resources: object) -> ArtifactSpec:
    primary: dict[str, object] = {"name": "main", "imageUri": "x", "primary": True, "port": 8080}
    if resources:
        primary["resourceRequest"] = resources
    return ArtifactSpec.model_validate({"containerGroups": [{"containers": [primary]}]})


def test_an_allocation_overrides_the_request_by_container_name() -> None:
    runtime = {
        "containerGroups": [
            {"containers": [{"name": "main", "resourceAllocation": {"memory": "64Mi"}}]}
        ]
    }
    request = sized(_spec(cpu=2.0, memory=1024, gpu=1), runtime).primary.resource_request
    assert request is not None
    assert (request.cpu, request.memory, request.gpu) == (2.0, 64 * 1024**2, 1)
    alone = sized(_spec(), runtime).primary.resource_request
    assert alone is not None
    assert (alone.cpu, alone.memory) == (None, 64 * 1024**2)


def test_without_allocations_the_spec_is_unchanged() -> None:
    spec = _spec(cpu=1.0, memory=1024)
    assert sized(spec, {"replicaCount": 2}) is spec
    other = {"containerGroups": [{"containers": [{"name": "other", "resourceAllocation": {}}]}]}
    assert sized(spec, other).primary.resource_request == spec.primary.resource_request
