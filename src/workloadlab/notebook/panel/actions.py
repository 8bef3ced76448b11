"""What the panel's buttons do, as coroutines on the portal (no widgets here).

Save checks first that nobody changed the artifact since the form loaded it: the Workload API
has no conditional PUT (no ``If-Match``), so the panel compares the server's ``updatedAt`` (and
spec) with the version it loaded and raises :class:`SpecConflict` instead of overwriting. The
window between that check and the PUT stays open; it is a few milliseconds wide.

Save stores the values of secret rows as credentials first (``api_token``, named after the
workload and the variable), puts their ids into the spec in place of
:data:`~.env.PENDING_CREDENTIAL`, then PUTs the spec; when the PUT fails, the credentials it
made are deleted again. Delete deployment is here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from workloadlab.client import AsyncClient, Generation
from workloadlab.client.waiting import OnChange
from workloadlab.commands.restarting import RestartWay, restart_way
from workloadlab.errors import ConflictError, NotFoundError, WorkloadlabError
from workloadlab.models import Credential, CredentialType, Deployment, Importance
from workloadlab.models.diff import FieldChange, diff_artifacts, needs_restart
from workloadlab.models.neutral import Artifact, InputArtifact, Workload
from workloadlab.notebook.panel.env import PENDING_CREDENTIAL, SECRET_KEY, PendingSecret

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
    credentials: list[Credential] = field(default_factory=list)
    """The credentials made for secret rows."""

    @property
    def needs_restart(self) -> bool:
        """Whether a running workload picks the change up only after a restart."""
        return needs_restart(self.changes)


def same_version(a: Artifact, b: Artifact) -> bool:
    """Whether two reads of an artifact are the same version."""
    if a.updated_at is not None and b.updated_at is not None:
        return a.updated_at == b.updated_at
    return a.to_input() == b.to_input()


async def save(
    client: AsyncClient,
    base: Artifact,
    wanted: InputArtifact,
    *,
    secrets: Sequence[tuple[int, PendingSecret]] = (),
    owner: str = "",
) -> Saved:
    """PUT the artifact when its spec changed, PATCH when only name/description did; the
    ``secrets`` (container index, value) are stored as credentials named after ``owner`` (the
    workload) first."""
    current = await client.artifacts.get(base.id)
    if not same_version(current, base):
        raise SpecConflict(current)
    changes = diff_artifacts(base.to_input(), wanted)
    if not changes:
        return Saved(current, [], "")
    if not needs_restart(changes):
        updated = await client.artifacts.update(
            base.id, name=wanted.name, description=wanted.description
        )
        return Saved(updated, changes, "PATCH")
    stored: list[Credential] = []
    try:
        if secrets:
            wanted = await _store_secrets(client, wanted, secrets, owner, stored)
        return Saved(await client.artifacts.replace(base.id, wanted), changes, "PUT", stored)
    except BaseException:
        for credential in stored:  # the spec that would refer to them was not saved
            with contextlib.suppress(Exception):
                await client.credentials.delete(credential.id)
        raise


CREDENTIAL_NAME_TRIES = 20
"""How many names Save tries for a credential (``owner-NAME``, then ``-2``, ``-3``...)."""


def credential_name(owner: str, variable: str, attempt: int = 1) -> str:
    """The credential a secret row's value is stored as: ``<workload>-<VARIABLE>``."""
    name = f"{owner}-{variable}" if owner else variable
    return name if attempt == 1 else f"{name}-{attempt}"


async def _store_secrets(
    client: AsyncClient,
    wanted: InputArtifact,
    secrets: Sequence[tuple[int, PendingSecret]],
    owner: str,
    stored: list[Credential],
) -> InputArtifact:
    """Create a credential per secret (appended to ``stored`` as made); ``wanted`` with their
    ids where it says :data:`PENDING_CREDENTIAL`."""
    wire = wanted.model_dump(mode="json", by_alias=True, exclude_none=True)
    containers = wire["spec"]["containerGroups"][0]["containers"]
    for index, secret in secrets:
        for attempt in range(1, CREDENTIAL_NAME_TRIES + 1):
            try:
                credential = await client.credentials.create(
                    name=credential_name(owner, secret.name, attempt),
                    credential_type=CredentialType.API_TOKEN,
                    api_token=secret.value.get_secret_value(),
                )
            except ConflictError:
                continue
            break
        else:
            raise ValueError(f"no free credential name for {secret.name} (tried {attempt})")
        stored.append(credential)
        for variable in containers[index].get("environmentVars") or []:
            if (
                variable.get("name") == secret.name
                and variable.get("drCredentialId") == PENDING_CREDENTIAL
            ):
                variable.update(drCredentialId=credential.id, key=SECRET_KEY)
    return InputArtifact.model_validate(wire)


class RollingRestartFailed(WorkloadlabError):
    """The rolling restart's replacement ended without switching: the old instance serves."""


async def restart(client: AsyncClient, workload_id: str, on_change: OnChange) -> Workload:
    """Apply the artifact's saved spec and wait until running: stop + start, or on the current
    generation, for a running workload, a rolling ``PATCH …/settings`` (the old instance
    serves until the new one is ready; its end is read from the history)."""
    workload = await client.workloads.get(workload_id)
    way = restart_way(await client.generation(), workload.status)
    if way is RestartWay.ROLLING:
        done = await client.workloads.update_settings(
            workload_id, timeout=RESTART_TIMEOUT, on_change=on_change
        )
        if not done.succeeded:
            raise RollingRestartFailed(
                f"the rolling restart ended {done.status} ({done.message or 'no reason'}):"
                f" {workload.name} serves on as before"
            )
        return await client.workloads.get(workload_id)
    return await client.workloads.restart(
        workload_id, wait=True, timeout=RESTART_TIMEOUT, on_change=on_change
    )


class ProductionWay(StrEnum):
    """Production on the current generation (which has no deployments)."""

    PROMOTE = "promote this workload (keeps its endpoint)"
    NEW = "new production workload from the locked artifact"


@dataclass(frozen=True)
class Deployed:
    """What Lock & Deploy did: a deployment (v2.41), or on the current generation the
    production workload (this one promoted, or a new one of the locked artifact)."""

    artifact: Artifact
    deployment: Deployment | None
    registered_now: bool
    production: Workload | None = None


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
    way: ProductionWay = ProductionWay.PROMOTE,
) -> Deployed:
    """Register the artifact (unless it already is), then create the deployment; on the
    current generation see :func:`promote_or_new`."""
    if await client.generation() is Generation.CURRENT:
        new = name if way is ProductionWay.NEW else None
        return await promote_or_new(client, workload, artifact, new, importance)
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


async def promote_or_new(
    client: AsyncClient,
    workload: Workload,
    artifact: Artifact,
    new_name: str | None,
    importance: Importance,
) -> Deployed:
    """Promote the workload (its draft is locked in place; it keeps running and keeps its
    endpoint) unless its artifact is locked already; with ``new_name``, then start a new
    workload of the locked artifact with this one's runtime (not waited for: the panel's
    message says where it is)."""
    registered_now = not artifact.is_registered
    if registered_now:
        workload = await client.workloads.promote(workload.id)
        artifact = await client.artifacts.get(artifact.id)
    if new_name is None:
        return Deployed(artifact, None, registered_now, workload)
    try:
        settings = await client.workloads.settings(workload.id)
        made = await client.workloads.create(
            {
                "name": new_name,
                "artifactId": artifact.id,
                "importance": importance.value,
                "runtime": settings.runtime,
            }
        )
    except Exception as exc:
        raise DeployFailed(artifact, exc) from exc
    return Deployed(artifact, None, registered_now, made)


async def delete_deployment(client: AsyncClient, deployment_id: str) -> None:
    """Delete a deployment (gone already is as good)."""
    with contextlib.suppress(NotFoundError):
        await client.deployments.delete(deployment_id)


async def latest_deployment(client: AsyncClient, workload_id: str) -> Deployment | None:
    """The newest deployment of the workload, if any: the list is asked for the workload's
    (``wid=``) and checked here too, since a server that ignores the filter answers every
    deployment, newest first. None on the current generation, which has no deployments."""
    if await client.generation() is not Generation.V2_41:
        return None
    async for deployment in client.deployments.list(workload_id=workload_id, limit=PAGE):
        if deployment.workload_id == workload_id:
            return deployment
    return None


PAGE = 100
"""The page size of the deployment lists the panel reads."""
