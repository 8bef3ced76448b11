"""What the panel's buttons do, as coroutines on the portal (no widgets here).

Save checks first that nobody changed the artifact since the form loaded it: the Workload API
has no conditional PUT (no ``If-Match``), so the panel compares the server's ``updatedAt`` (and
spec) with the version it loaded and raises :class:`SpecConflict` instead of overwriting. The
window between that check and the PUT stays open; it is a few milliseconds wide.
"""

from __future__ import annotations

from dataclasses import dataclass

from workloadlab.client import AsyncClient
from workloadlab.client.waiting import OnChange
from workloadlab.models import (
    Artifact,
    Deployment,
    Importance,
    InputArtifact,
    Workload,
)
from workloadlab.models.diff import FieldChange, diff_artifacts, needs_restart

RESTART_TIMEOUT = 600.0
"""How long a restart from the panel may take (as ``WorkloadMagics.timeout``)."""


class SpecConflict(Exception):
    """The artifact changed on the server since the form loaded it."""

    def __init__(self, current: Artifact) -> None:
        super().__init__("the artifact changed on the server since the form loaded it")
        self.current = current


@dataclass(frozen=True)
class Saved:
    """What Save did."""

    artifact: Artifact
    changes: list[FieldChange]
    method: str
    """``PUT`` (the spec changed), ``PATCH`` (only name/description) or ``""`` (nothing)."""

    @property
    def needs_restart(self) -> bool:
        """Whether a running workload picks the change up only after a restart."""
        return needs_restart(self.changes)


def same_version(a: Artifact, b: Artifact) -> bool:
    """Whether two reads of an artifact are the same version."""
    if a.updated_at is not None and b.updated_at is not None:
        return a.updated_at == b.updated_at
    return a.to_input() == b.to_input()


async def save(client: AsyncClient, base: Artifact, wanted: InputArtifact) -> Saved:
    """PUT the artifact when its spec changed, PATCH when only name/description did."""
    current = await client.artifacts.get(base.id)
    if not same_version(current, base):
        raise SpecConflict(current)
    changes = diff_artifacts(base.to_input(), wanted)
    if not changes:
        return Saved(current, [], "")
    if needs_restart(changes):
        return Saved(await client.artifacts.replace(base.id, wanted), changes, "PUT")
    updated = await client.artifacts.update(
        base.id, name=wanted.name, description=wanted.description
    )
    return Saved(updated, changes, "PATCH")


async def restart(client: AsyncClient, workload_id: str, on_change: OnChange) -> Workload:
    """Stop, start, and wait until running: the artifact's saved spec goes live."""
    return await client.workloads.restart(
        workload_id, wait=True, timeout=RESTART_TIMEOUT, on_change=on_change
    )


@dataclass(frozen=True)
class Deployed:
    """What Lock & Deploy did."""

    artifact: Artifact
    deployment: Deployment
    registered_now: bool


class DeployFailed(Exception):
    """The artifact was registered, but creating the deployment failed."""

    def __init__(self, artifact: Artifact, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.artifact = artifact
        self.cause = cause


async def lock_and_deploy(
    client: AsyncClient,
    workload: Workload,
    artifact: Artifact,
    *,
    name: str,
    importance: Importance,
) -> Deployed:
    """Register the artifact (unless it already is), then create the deployment."""
    registered_now = not artifact.is_registered
    if registered_now:
        artifact = await client.artifacts.register(artifact.id)
    try:
        deployment = await client.deployments.create(
            workload_id=workload.id, name=name, importance=importance
        )
    except Exception as exc:
        raise DeployFailed(artifact, exc) from exc
    return Deployed(artifact, deployment, registered_now)


async def latest_deployment(client: AsyncClient, workload_id: str) -> Deployment | None:
    """The newest deployment of the workload, if any."""
    page = await client.deployments.list(workload_id=workload_id, limit=1)
    return page.data[0] if page.data else None
