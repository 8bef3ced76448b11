"""Governance of deployments (``workload-api.md`` §8): what is locked is what is deployed, and
deployments are protected. Local-server extensions; DataRobot's own rules may differ.

- A deployment needs a workload that is ``running`` (ready) and whose instance runs the
  registered spec of its artifact (the digest the supervisor recorded when it started it); a
  workload that runs an older spec must be restarted first. A workload backs at most one
  deployment. Each refusal is a :class:`Conflict` that names what it compared.
- Stop, start and delete of a workload that backs a deployment are a :class:`Conflict` naming
  it, unless forced: the forced action's event says so (``{"forced": true, "deploymentIds":
  [...]}``) and is tagged with the deployment, so it is in the deployment's trail as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import WorkloadStatus, spec_digest
from workloadlab.models.digest import short_digest
from workloadlab.server.problems import Conflict
from workloadlab.server.store import (
    ArtifactRow,
    DeploymentRow,
    RunningArtifactRow,
    Store,
    WorkloadRow,
)


def check_deployable(store: Store, workload: WorkloadRow, artifact: ArtifactRow) -> None:
    """Refuse to deploy ``workload`` (whose artifact, registered, is ``artifact``) unless it
    backs no deployment yet, is running and ready, and runs the registered spec."""
    existing = store.deployments_of(workload.id)
    if existing:
        raise Conflict(
            f"Workload {workload.id} already backs deployment {_names(existing)}: a workload"
            " backs at most one deployment (delete that one first)"
        )
    if workload.status is not WorkloadStatus.RUNNING:
        raise Conflict(
            f"Workload {workload.id} is {workload.status}, not running and ready: start it and"
            " wait until it is running, then deploy it"
        )
    running = store.running_artifact(workload.id)
    registered = spec_digest(artifact.spec)
    if running is None or running.artifact_id != artifact.id or running.spec_digest != registered:
        raise Conflict(
            f"Workload {workload.id} runs {_running(running, artifact)}, not the registered"
            f" version {artifact.version} ({short_digest(registered)}): restart it first"
            " (stop, then start) so that it runs what was registered"
        )


def protect(
    store: Store, workload: WorkloadRow, forcing: str, *, force: bool
) -> list[DeploymentRow]:
    """The deployments ``workload`` backs, which an action would affect: a :class:`Conflict`
    naming them, and what ``force=true`` would do (``forcing``: "stop it anyway"), unless
    ``force``."""
    deployments = store.deployments_of(workload.id)
    if deployments and not force:
        raise Conflict(
            f"Workload {workload.id} backs deployment {_names(deployments)}: pass force=true"
            f" to {forcing}"
        )
    return deployments


def forced(deployments: Sequence[DeploymentRow]) -> dict[str, Any]:
    """The audit arguments of an action forced past ``deployments`` (none: not forced): its
    ``details`` and the deployment it is tagged with."""
    if not deployments:
        return {}
    return {
        "deployment_id": deployments[0].id,
        "details": {"forced": True, "deploymentIds": [d.id for d in deployments]},
    }


def _names(deployments: Sequence[DeploymentRow]) -> str:
    return ", ".join(f"{d.name} ({d.id})" for d in deployments)


def _running(running: RunningArtifactRow | None, artifact: ArtifactRow) -> str:
    """What an instance runs, in words (``artifact version 1 (sha256:…)``)."""
    if running is None:  # started by a server that did not record it yet
        return "a spec this server has no record of"
    digest = short_digest(running.spec_digest)
    if running.version is None:
        return f"a draft of artifact {running.artifact_id} ({digest})"
    which = "artifact" if running.artifact_id == artifact.id else f"artifact {running.artifact_id}"
    return f"{which} version {running.version} ({digest})"
