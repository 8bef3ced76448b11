"""How many replicas a workload runs, and the resources its containers get, from its ``runtime``.

The workload's ``runtime`` is stored as the API received it, in either generation's shape:

- v2.41: ``{"replicaCount": N, "autoscaling": ..., "resources": [...]}``; a container's own
  ``resourceRequest {cpu, memory}`` (in the artifact's spec) sizes it;
- current: ``{"containerGroups": [{"name", "replicaCount", "containers": [{"name",
  "resourceAllocation": {"cpu", "memory"}}]}]}``, where ``memory`` is int bytes or a unit string
  (``"512MB"``, ``"1Gi"``); an allocation overrides the container's ``resourceRequest``.

Autoscaling is not simulated locally: a workload that asks for it runs its minimum count (at
least one). Resource bundles are not resolved (no bundle catalogue here). Only the container
runtime applies cpu and memory; host processes run unlimited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workloadlab.models import ArtifactSpec, Container, units
from workloadlab.models.spec import ResourceRequest


def _groups(runtime: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    groups = (runtime or {}).get("containerGroups")
    return [g for g in groups if isinstance(g, Mapping)] if isinstance(groups, list) else []


def _count_of(settings: Mapping[str, Any]) -> int | None:
    count = settings.get("replicaCount")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        return count
    scaling = settings.get("autoscaling")
    if isinstance(scaling, Mapping) and scaling.get("enabled", True):
        lows = [scaling.get("minReplicaCount")] + [
            p.get("minCount") for p in scaling.get("policies") or [] if isinstance(p, Mapping)
        ]
        return max([1, *(n for n in lows if isinstance(n, int) and not isinstance(n, bool))])
    return None


def replica_count(runtime: Mapping[str, Any] | None) -> int:
    """How many instances of the workload run (``1`` unless its runtime says more)."""
    for group in _groups(runtime)[:1]:  # one group per artifact locally
        count = _count_of(group)
        if count is not None:
            return count
    return _count_of(runtime or {}) or 1


def memory_bytes(value: object) -> int | None:
    """Memory as int bytes or a unit string (``"512MB"``, ``"1Gi"``: the units of
    :mod:`workloadlab.models.units`); ``None`` if it is neither."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        amount = units.memory_bytes(value)
    except ValueError:
        return None
    return amount if amount > 0 else None


def allocations(runtime: Mapping[str, Any] | None) -> dict[str, tuple[float | None, int | None]]:
    """``{container name: (cpu cores, memory bytes)}`` the runtime allocates."""
    found: dict[str, tuple[float | None, int | None]] = {}
    for group in _groups(runtime)[:1]:
        for entry in group.get("containers") or []:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                continue
            allocation = entry.get("resourceAllocation")
            if not isinstance(allocation, Mapping):
                continue
            cpu = allocation.get("cpu")
            cores = float(cpu) if isinstance(cpu, int | float) and cpu > 0 else None
            found[entry["name"]] = (cores, memory_bytes(allocation.get("memory")))
    return found


def sized(spec: ArtifactSpec, runtime: Mapping[str, Any] | None) -> ArtifactSpec:
    """The spec with the runtime's resource allocations over its containers' requests (in
    memory only, for a start); unchanged without allocations."""
    given = allocations(runtime)
    if not given:
        return spec
    groups = []
    for group in spec.container_groups:
        containers = [_sized(c, given.get(c.name or "primary")) for c in group.containers]
        groups.append(group.model_copy(update={"containers": containers}))
    return spec.model_copy(update={"container_groups": groups})


def _sized(container: Container, allocation: tuple[float | None, int | None] | None) -> Container:
    if allocation is None:
        return container
    cpu, memory = allocation
    request = container.resource_request
    # Constructed, not validated: an allocation may give cpu or memory alone (the container
    # runtime then leaves the other unlimited).
    values: dict[str, Any] = {
        "cpu": cpu if cpu is not None else (request.cpu if request else None),
        "memory": memory if memory is not None else (request.memory if request else None),
        "gpu": request.gpu if request else 0,
        "gpu_type": request.gpu_type if request else None,
    }
    merged = ResourceRequest.model_construct(**values)
    return container.model_copy(update={"resource_request": merged})
