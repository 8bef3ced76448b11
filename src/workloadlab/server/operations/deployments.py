"""Deployments: governed production deployments of workloads whose artifact is registered
(the rules of :mod:`~workloadlab.server.operations.governance`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import ArtifactStatus, CreateDeployment, UpdateDeployment
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import governance, rollouts
from workloadlab.server.problems import Invalid, NotFound
from workloadlab.server.store import DeploymentOrder, DeploymentRow, Store
from workloadlab.server.supervisor import Supervisor


def find(store: Store, deployment_id: str) -> DeploymentRow:
    """The deployment, or :class:`NotFound`."""
    row = store.get_deployment(deployment_id)
    if row is None:
        raise NotFound(f"Deployment {deployment_id} not found")
    return row


def page(
    store: Store,
    *,
    offset: int,
    limit: int,
    search: str | None,
    workload_ids: Sequence[str] = (),
    artifact_ids: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    order: DeploymentOrder | None = None,
) -> tuple[list[DeploymentRow], int]:
    """A page of deployments in ``order`` (newest first by default), filtered by name,
    workload (each of ``workload_ids``), the artifacts they run and id, and the total."""
    return store.list_deployments(
        offset=offset,
        limit=limit,
        search=search,
        workload_ids=workload_ids,
        artifact_ids=artifact_ids,
        ids=ids,
        order=order,
    )


def create(store: Store, actor: Actor, body: CreateDeployment) -> DeploymentRow:
    """Deploy a workload whose artifact is registered (a draft's is :class:`Invalid`), that
    runs its registered spec and backs no other deployment (else :class:`Conflict`)."""
    with store.transaction():
        workload = store.get_workload(body.workload_id)
        if workload is None:
            raise NotFound(f"Workload {body.workload_id} not found")
        artifact = store.get_artifact(workload.artifact_id)
        if artifact is None or artifact.status is ArtifactStatus.DRAFT:
            raise Invalid(
                f"Workload {workload.id} runs a draft artifact ({workload.artifact_id}): "
                "register it first (PATCH /registry/artifacts/{id} "
                'with {"status": "registered"})'
            )
        governance.check_deployable(store, workload, artifact)
        row = store.insert_deployment(
            name=body.name,
            description=body.description,
            importance=body.importance,
            workload_id=workload.id,
            artifact_id=artifact.id,
            creator=actor.user,
        )
        audit(
            store,
            actor,
            "deployment.created",
            row.id,
            workload_id=workload.id,
            artifact_id=artifact.id,
            details={
                "name": row.name,
                "importance": row.importance,
                "artifactVersion": artifact.version,
            },
        )
    return row


def update(
    store: Store, supervisor: Supervisor, actor: Actor, deployment_id: str, body: UpdateDeployment
) -> DeploymentRow:
    """Change a deployment's name, description or importance, and (``artifactId``) move it to
    another version of its artifact (:mod:`.rollouts`); all or nothing."""
    with store.transaction():
        row = find(store, deployment_id)
        metadata = body.model_dump(exclude_none=True, exclude={"artifact_id"}, mode="json")
        changes = {key: value for key, value in metadata.items() if value != getattr(row, key)}
        if changes:
            store.update_deployment(row.id, **changes)
            details = {"changedFields": sorted(changes)}
            audit(store, actor, "deployment.updated", row.id, details=details)
        rollout = None
        if body.artifact_id is not None:
            rollout = rollouts.change_artifact(store, actor, row, body.artifact_id)
    if rollout is not None:
        supervisor.kick(rollout.workload_id)
    return find(store, deployment_id)


def delete(store: Store, actor: Actor, deployment_id: str) -> None:
    """Remove a deployment; the workload stays."""
    with store.transaction():
        remove(store, actor, find(store, deployment_id))


def remove(store: Store, actor: Actor, row: DeploymentRow, **details: Any) -> None:
    """Delete a deployment's row and audit it, with ``details`` (a force-deleted workload's
    deployments go with it)."""
    with store.transaction():
        store.delete_deployment(row.id)
        audit(
            store,
            actor,
            "deployment.deleted",
            row.id,
            workload_id=row.workload_id,
            details={"name": row.name, **details},
        )
