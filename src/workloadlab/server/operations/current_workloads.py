"""Workloads of the current generation: create (with a description, an importance and a runtime
per container group), change their metadata, list them.

Start, stop and delete are v2.41's (:mod:`.workloads`): the same lifecycle. A workload's group
runtime is kept as written (``workload_settings``, what the API answers) and is also what the
supervisor runs (``workloads.runtime``): its sizing reads either generation's shape, so the
replica count and each container's ``resourceAllocation`` apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models.current import CreateCurrentWorkload, UpdateCurrentWorkload, WorkloadRuntime
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import lockable, workloads
from workloadlab.server.operations.specs import group_names, unbuilt_containers, whole_numbers
from workloadlab.server.problems import Invalid
from workloadlab.server.store import ArtifactRow, ListQuery, Store, WorkloadRow
from workloadlab.server.supervisor import Supervisor


def default_runtime(wire: dict[str, Any]) -> dict[str, Any]:
    """One replica of each of the artifact's groups (a create without ``runtime``)."""
    groups = [{"name": name, "replicaCount": 1} for name in group_names(wire)]
    return {"containerGroups": groups}


def check_runtime(runtime: WorkloadRuntime, wire: dict[str, Any], at: Sequence[str | int]) -> None:
    """:class:`Invalid` where ``runtime`` names a group or container the artifact does not
    have (or leaves out the containers of a group of several)."""
    groups = group_names(wire)
    problems: list[dict[str, Any]] = []
    for index, group in enumerate(runtime.container_groups):
        where = [*at, "containerGroups", index]
        containers = groups.get(group.name)
        if containers is None:
            known = ", ".join(sorted(groups))
            message = f"the artifact has no container group {group.name!r} (it has {known})"
            problems.append({"loc": [*where, "name"], "msg": message, "type": "value_error"})
            continue
        if group.containers is None and len(containers) > 1:
            message = "containers is required for a group of several containers"
            problems.append({"loc": [*where, "containers"], "msg": message, "type": "missing"})
        for position, container in enumerate(group.containers or []):
            if container.name not in containers:
                message = f"group {group.name!r} has no container {container.name!r}"
                loc = [*where, "containers", position, "name"]
                problems.append({"loc": loc, "msg": message, "type": "value_error"})
    if problems:
        raise Invalid(problems)


def ready_to_run(store: Store, artifact: ArtifactRow, at: Sequence[str | int]) -> dict[str, Any]:
    """The artifact's stored spec, or :class:`Invalid` if a container has no image to run."""
    wire = lockable.wire_spec(store, artifact)
    unbuilt = unbuilt_containers(wire)
    if unbuilt:
        raise Invalid.at(
            list(at),
            f"container(s) {', '.join(unbuilt)} of artifact {artifact.id} have no imageUri:"
            " workloadlab serve runs images, it does not build them",
        )
    return wire


def create(
    store: Store, supervisor: Supervisor, actor: Actor, body: CreateCurrentWorkload
) -> WorkloadRow:
    """Store a workload (and, inline, its draft artifact) with its settings, and start it."""
    with store.transaction():
        if body.artifact is not None:
            at: tuple[str, ...] = ("body", "artifact")
            artifact = lockable.create(store, actor, body.artifact, at=at)
        else:
            assert body.artifact_id is not None
            at = ("body", "artifactId")
            artifact = workloads.artifact_to_run(store, body.artifact_id)
        wire = ready_to_run(store, artifact, at)
        if body.runtime is not None:
            check_runtime(body.runtime, wire, ("body", "runtime"))
            runtime = WorkloadRuntime.model_validate(body.runtime.to_wire())
        else:
            runtime = WorkloadRuntime.model_validate(default_runtime(wire))
        as_written = whole_numbers(runtime.to_wire())
        row = workloads.insert(
            store, actor, name=body.name, artifact_id=artifact.id, runtime=as_written
        )
        store.set_workload_settings(
            row.id, description=body.description, importance=body.importance, runtime=as_written
        )
    supervisor.kick(row.id)
    return row


def update(
    store: Store, actor: Actor, workload_id: str, body: UpdateCurrentWorkload
) -> WorkloadRow:
    """Change a workload's name, description or importance (no restart)."""
    with store.transaction():
        row = workloads.find(store, workload_id)
        settings = store.workload_settings(row.id)
        name = body.name if body.name is not None else row.name
        description = body.description if body.description is not None else settings.description
        importance = body.importance if body.importance is not None else settings.importance
        old = (row.name, settings.description, settings.importance)
        new = (name, description, importance)
        fields = ("name", "description", "importance")
        changed = [field for field, was, now in zip(fields, old, new, strict=True) if was != now]
        if changed:
            store.update_workload(row.id, name=name)
            store.set_workload_settings(
                row.id, description=description, importance=importance, runtime=settings.runtime
            )
            audit(store, actor, "workload.updated", row.id, details={"changedFields": changed})
    return workloads.find(store, workload_id)


def page(store: Store, query: ListQuery) -> tuple[list[WorkloadRow], int]:
    """A page of workloads, filtered and sorted, and the total count."""
    return store.query_workloads(query)
