"""Moving a deployment to another registered version of its artifact: a rolling change.

``PATCH /console/deployments/{id}`` with ``artifactId`` (``workload-api.md`` §8) lands here.
The target must be a registered version of the collection the deployment's artifact belongs to
(artifacts of one name form a collection), other than the one deployed, whose credential
references resolve, and no other change of the workload may be under way.

- Its workload is **running**: the change is stored as a rollout *in progress* (the target is
  recorded there; the workload's and the deployment's ``artifact_id`` stay what they are) and
  the workload's task is kicked. The supervisor starts a new instance beside the old one and
  switches to it once it is ready, or abandons the change (:mod:`~workloadlab.server.
  supervisor.rollout`).
- Its workload is **stopped or errored**: nothing serves, so nothing rolls: both move to the
  target at once, and the next start runs it.
- Anything else (on its way up or down) is a :class:`Conflict`: wait until it is running.

Trail: ``deployment.rolloutStarted`` now, then ``workload.rolledOut`` and
``deployment.artifactChanged`` at the switch, or ``workload.rolloutAbandoned`` with the reason.
A change applied at once writes ``deployment.artifactChanged`` with ``"rolling": false``. Every
event is tagged with the deployment, the workload and the target artifact, so each of their
trails shows it.
"""

from __future__ import annotations

from typing import Any

from workloadlab.models import ArtifactStatus, RolloutStatus, WorkloadStatus
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import credentials
from workloadlab.server.problems import Conflict, Invalid
from workloadlab.server.store import ArtifactRow, DeploymentRow, RolloutRow, Store

FIELD: list[str | int] = ["body", "artifactId"]
"""Where a refused target is, in a ``422``."""
RESTING = frozenset({WorkloadStatus.STOPPED, WorkloadStatus.ERRORED})
"""Statuses in which nothing serves: the artifact changes at once."""


def change_artifact(
    store: Store, actor: Actor, deployment: DeploymentRow, artifact_id: str
) -> RolloutRow:
    """Record the deployment's move to ``artifact_id`` (in the caller's transaction) and
    return the change; the caller kicks the workload's task once it is committed."""
    target = _target(store, deployment, artifact_id)
    credentials.require_resolvable(store, target.id, f"Cannot move to artifact {target.id}")
    current = store.get_artifact(deployment.artifact_id)
    workload = store.get_workload(deployment.workload_id)
    if workload is None:
        raise Conflict(f"Deployment {deployment.id} has no workload any more")
    under_way = store.rollout_under_way(workload.id)
    if under_way is not None:
        version = _version(store, under_way.to_artifact_id)
        raise Conflict(
            f"Workload {workload.id} of deployment {under_way.deployment_id} is already moving"
            f" to version {version} (artifact {under_way.to_artifact_id}, since"
            f" {under_way.created_at}): wait until that change is done or abandoned"
        )
    rolling = (
        workload.status is WorkloadStatus.RUNNING and workload.desired is WorkloadStatus.RUNNING
    )
    if not rolling and workload.status not in RESTING:
        raise Conflict(
            f"Workload {workload.id} of deployment {deployment.id} is {workload.status}: a"
            " rolling change starts from a running workload; wait until it is running (or"
            " stopped)"
        )
    row = store.insert_rollout(
        workload_id=workload.id,
        deployment_id=deployment.id,
        from_artifact_id=deployment.artifact_id,
        to_artifact_id=target.id,
        actor_id=actor.id,
        status=RolloutStatus.IN_PROGRESS if rolling else RolloutStatus.COMPLETED,
    )
    details: dict[str, Any] = {"rolloutId": row.id, **_details(current, target)}
    if not rolling:  # nothing serves: nothing to roll
        message = f"changed at once: workload {workload.id} was {workload.status} (nothing served)"
        store.update_rollout(row.id, message=message)
        store.update_workload(workload.id, artifact_id=target.id)
        store.update_deployment(deployment.id, artifact_id=target.id)
        details.update(rolling=False, message=message)
    audit(
        store,
        actor,
        "deployment.rolloutStarted" if rolling else "deployment.artifactChanged",
        deployment.id,
        workload_id=workload.id,
        artifact_id=target.id,
        details=details,
    )
    return row


def _target(store: Store, deployment: DeploymentRow, artifact_id: str) -> ArtifactRow:
    """The artifact to move to, or why not (``422``; the one deployed already: ``409``)."""
    target = store.get_artifact(artifact_id)
    if target is None:
        raise Invalid.at(FIELD, f"artifact {artifact_id} does not exist")
    if target.status is ArtifactStatus.DRAFT or target.collection_id is None:
        raise Invalid.at(
            FIELD,
            f"artifact {target.id} is a draft: only a registered version can be deployed"
            ' (register it with PATCH /registry/artifacts/{id} {"status": "registered"})',
        )
    current = store.get_artifact(deployment.artifact_id)
    if current is None or current.collection_id != target.collection_id:
        collection = current.collection_id if current else None
        raise Invalid.at(
            FIELD,
            f"artifact {target.id} ({target.name!r} version {target.version}, collection"
            f" {target.collection_id}) is not a version of the collection of deployment"
            f" {deployment.id} ({collection}): a deployment moves between versions of one"
            " collection",
        )
    if target.id == deployment.artifact_id:
        raise Conflict(
            f"Deployment {deployment.id} already runs artifact {target.id} (version"
            f" {target.version})"
        )
    return target


def _version(store: Store, artifact_id: str) -> int | None:
    artifact = store.get_artifact(artifact_id)
    return artifact.version if artifact else None


def _details(current: ArtifactRow | None, target: ArtifactRow) -> dict[str, Any]:
    """The from/to part of the change's events."""
    return {
        "fromArtifactId": current.id if current else None,
        "fromVersion": current.version if current else None,
        "toArtifactId": target.id,
        "toVersion": target.version,
    }
