"""Workloads: create, start, stop, delete (and expiry of drafts).

These write the desired state and *kick* the workload's supervisor task, which makes it so
(:mod:`workloadlab.server.supervisor`). A workload is removed in one place,
:func:`_remove`, whether the user deletes it or its draft TTL runs out: the row and the audit
event are committed first, and only then is its task retired and its instance stopped, so a
start that comes while the instance stops finds nothing to start (``404``), and the retired
task cannot be replaced by a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import Enum
from typing import Any

from workloadlab.models import (
    ArtifactStatus,
    CreateWorkload,
    WorkloadStatus,
    format_timestamp,
    utcnow,
)
from workloadlab.server.audit import SYSTEM, Actor, audit
from workloadlab.server.operations import artifacts, credentials, governance
from workloadlab.server.operations import deployments as deployments_operations
from workloadlab.server.problems import Conflict, NotFound, Unavailable
from workloadlab.server.store import ArtifactRow, DeploymentRow, ListOrder, Store, WorkloadRow
from workloadlab.server.supervisor import Lease, Supervisor, record_status

RESTING = frozenset({WorkloadStatus.STOPPED, WorkloadStatus.ERRORED})
"""The statuses a workload can be started from."""


class Progress(Enum):
    """How far a start or stop got by the time the operation returned."""

    ALREADY = "already"
    """Nothing to do: it already is (or is on its way to) what was asked."""
    REQUESTED = "requested"
    """Asked for; the workload's task is on it."""
    DONE = "done"
    """Asked for and done (a stop that ended within the wait)."""


def find(store: Store, workload_id: str) -> WorkloadRow:
    """The workload, or :class:`NotFound`."""
    row = store.get_workload(workload_id)
    if row is None:
        raise NotFound(f"Workload {workload_id} not found")
    return row


def invoke_target(store: Store, supervisor: Supervisor, workload_id: str) -> tuple[str, Lease]:
    """The id of the workload and the base URL of its ready instance, held for one call until
    the lease is released (an instance that leaves after a rolling change waits for the calls
    that had its address), for the invoke proxy; :class:`NotFound`, or :class:`Unavailable`
    while it is not running."""
    row = find(store, workload_id)
    # Partly ready replicas serve while the workload is still ``initializing``.
    running = row.status in (WorkloadStatus.RUNNING, WorkloadStatus.INITIALIZING)
    lease = supervisor.lease(row.id) if running else None
    if lease is None:
        raise Unavailable(f"Workload {row.id} is {row.status}, not running: nothing to invoke")
    return row.id, lease


def page(
    store: Store,
    *,
    offset: int,
    limit: int,
    search: str | None,
    statuses: Sequence[str] | None,
    ids: Sequence[str] | None = None,
    order: ListOrder | None = None,
) -> tuple[list[WorkloadRow], int]:
    """A page of workloads in ``order`` (newest first by default), filtered by name, status
    and id, and the total count."""
    return store.list_workloads(
        offset=offset, limit=limit, search=search, statuses=statuses, ids=ids, order=order
    )


def create(store: Store, supervisor: Supervisor, actor: Actor, body: CreateWorkload) -> WorkloadRow:
    """Store a workload (and, with an inline artifact, its draft artifact) and start it."""
    with store.transaction():
        if body.artifact is not None:
            artifact = artifacts.create(
                store, actor, body.artifact, at=("body", "artifact"), default_name=body.name
            )
        else:
            assert body.artifact_id is not None
            artifact = artifact_to_run(store, body.artifact_id)
        runtime = body.runtime.to_wire() if body.runtime is not None else None
        row = insert(store, actor, name=body.name, artifact_id=artifact.id, runtime=runtime)
    supervisor.kick(row.id)
    return row


def artifact_to_run(store: Store, artifact_id: str) -> ArtifactRow:
    """The stored artifact a new workload names: :class:`NotFound`; a draft another workload
    runs is a :class:`Conflict` (a draft backs one workload at a time); broken credential
    references are :class:`Invalid`."""
    found = store.get_artifact(artifact_id)
    if found is None:
        raise NotFound(f"Artifact {artifact_id} not found")
    if found.status is ArtifactStatus.DRAFT and store.workloads_using(found.id):
        raise Conflict(
            f"Artifact {found.id} is a draft already used by another workload; "
            "a draft can back one workload at a time (a registered, or locked, version can"
            " back several)"
        )
    credentials.require_resolvable(store, found.id, f"Cannot run artifact {found.id}")
    return found


def insert(
    store: Store, actor: Actor, *, name: str, artifact_id: str, runtime: dict[str, Any] | None
) -> WorkloadRow:
    """Store a new workload that should run, and audit it (the caller kicks its task once the
    transaction is committed)."""
    with store.transaction():
        row = store.insert_workload(
            name=name, artifact_id=artifact_id, runtime=runtime, creator=actor.user
        )
        audit(
            store,
            actor,
            "workload.created",
            row.id,
            artifact_id=artifact_id,
            details={"name": row.name, "artifactId": artifact_id},
        )
    return row


async def start(
    store: Store, supervisor: Supervisor, actor: Actor, workload_id: str, *, force: bool = False
) -> tuple[WorkloadRow, Progress]:
    """Start a stopped or errored workload with its artifact's current spec (a new
    generation; its draft TTL starts again). One that is stopping, or (unless ``force``) one
    that backs a deployment, is a :class:`Conflict`."""
    row = find(store, workload_id)
    if row.desired is WorkloadStatus.RUNNING and row.status not in RESTING:
        return row, Progress.ALREADY
    if row.status not in RESTING:
        raise Conflict(
            f"Workload {row.id} is {row.status}: it must be stopped before it can be started"
        )
    deployments = governance.protect(store, row, "start it anyway", force=force)
    credentials.require_resolvable(store, row.artifact_id, f"Cannot start workload {row.id}")
    with store.transaction():
        record_status(
            store,
            row,
            WorkloadStatus.SUBMITTED,
            actor=actor,
            conditions=[],
            running_since=None,
            desired=WorkloadStatus.RUNNING,
            generation=row.generation + 1,
            started_at=format_timestamp(utcnow()),
            restart_count=0,
        )
        audit(store, actor, "workload.started", row.id, **governance.forced(deployments))
    supervisor.kick(row.id)
    # Let the workload's task, woken by the kick, spawn it before the answer is written: the
    # app's own start-up, the longest part of any start, then begins ~1 ms earlier.
    await asyncio.sleep(0)
    return row, Progress.REQUESTED


async def stop(
    store: Store,
    supervisor: Supervisor,
    actor: Actor,
    workload_id: str,
    *,
    wait: float,
    force: bool = False,
) -> tuple[WorkloadRow, Progress]:
    """Stop a workload (SIGTERM, grace period, SIGKILL): its desired state becomes stopped.
    One that backs a deployment is a :class:`Conflict` unless ``force``.

    Returns once it is stopped (``DONE``), or after ``wait`` seconds if stopping takes longer
    (``REQUESTED``: it goes on)."""
    row = find(store, workload_id)
    if row.status is WorkloadStatus.STOPPED:
        return row, Progress.ALREADY
    if row.desired is not WorkloadStatus.STOPPED:
        deployments = governance.protect(store, row, "stop it anyway", force=force)
        supervisor.terminate(row.id)  # its shutdown overlaps the commit's fsync
        with store.transaction():
            record_status(
                store, row, WorkloadStatus.STOPPING, actor=actor, desired=WorkloadStatus.STOPPED
            )
            audit(store, actor, "workload.stopped", row.id, **governance.forced(deployments))
        supervisor.kick(row.id)
    try:
        async with asyncio.timeout(wait):
            await supervisor.wait_stopped(row.id)
    except TimeoutError:
        return row, Progress.REQUESTED
    return row, Progress.DONE


async def delete(
    store: Store, supervisor: Supervisor, actor: Actor, workload_id: str, *, force: bool = False
) -> None:
    """Stop and remove a workload; its artifact and the audit trail stay. One that backs a
    deployment is a :class:`Conflict`, unless ``force``: then its deployments are deleted
    with it (each trail says so)."""
    row = find(store, workload_id)
    deployments = governance.protect(
        store, row, "delete it together with its deployment", force=force
    )
    await _remove(
        store, supervisor, row, actor, "workload.deleted", {"name": row.name}, deployments
    )


async def expire(store: Store, supervisor: Supervisor, row: WorkloadRow) -> None:
    """Remove a workload whose draft TTL ran out (the supervisor's draft reaper calls this)."""
    details = {"reason": "draft TTL reached", "startedAt": row.started_at}
    await _remove(store, supervisor, row, SYSTEM, "workload.expired", details)


async def _remove(
    store: Store,
    supervisor: Supervisor,
    row: WorkloadRow,
    actor: Actor,
    event_type: str,
    details: dict[str, Any],
    deployments: Sequence[DeploymentRow] = (),
) -> None:
    """Delete the row (and the ``deployments`` it was forced past) and audit it (one commit),
    then retire its task and instance."""
    # The row goes first: a start that comes while the instance stops then finds nothing to
    # start (404), and the workload's task, retired next, cannot be replaced by a new one.
    # Each deployment's trail ends with its own delete; the workload's shows both.
    forced = governance.forced(deployments).get("details", {})
    with store.transaction():
        for deployment in deployments:
            reason = "its workload was deleted"
            deployments_operations.remove(store, actor, deployment, forced=True, reason=reason)
        store.delete_workload(row.id)
        store.forget_running_artifact(row.id)
        details = {**details, **forced}
        audit(store, actor, event_type, row.id, artifact_id=row.artifact_id, details=details)
    await supervisor.remove(row.id)
