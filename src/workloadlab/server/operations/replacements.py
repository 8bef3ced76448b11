"""Applying edits to a running workload, current generation: settings, replacement, promote.

``PATCH /workloads/{id}/settings`` and ``POST /workloads/{id}/replacement`` store a rolling
change (:mod:`workloadlab.server.store.replacements`) and kick the workload's task: the
supervisor starts a candidate instance of the target beside the serving one and switches the
invoke proxy to it once it is ready (:mod:`workloadlab.server.supervisor.rollout`), exactly as
it moves a v2.41 deployment to another version; the workload stays ``running`` throughout.
Settings roll onto the workload's own artifact (its current spec) with a new runtime; a
replacement onto another artifact (draft to draft, locked to locked). ``DELETE`` cancels one
under way: the candidate is stopped and the change ends ``errored``.

Promote locks the served draft in place (no restart) and records a completed change in the
history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from workloadlab.models import ArtifactStatus, RolloutStatus, WorkloadStatus, utcnow
from workloadlab.models.current import CreateReplacement, WorkloadRuntime
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import artifacts, credentials, lockable, workloads
from workloadlab.server.operations.current_workloads import check_runtime, ready_to_run
from workloadlab.server.operations.specs import whole_numbers
from workloadlab.server.problems import Conflict, Invalid, NotFound, Problem
from workloadlab.server.store import ArtifactRow, ReplacementRow, RolloutRow, Store, WorkloadRow
from workloadlab.server.supervisor import Supervisor

NO_REPLACEMENT = "There is no active replacement for this workload."
NO_WAITING = {"warmupDurationMinutes": 0, "keepOldVersionMinutes": 0}
"""A replacement's ``config`` unless it says otherwise (kept, not waited on locally)."""
NO_DEPLOYMENT = ""
"""The ``deployment_id`` of a replacement's rolling change (it has no deployment)."""


class StatusMismatch(Problem):
    """A replacement between a draft and a locked artifact (``400``: promote drafts)."""

    status_code = 400


class SameArtifact(Problem):
    """A replacement onto the locked artifact served (``422``, its detail a list of strings
    as DataRobot's is)."""

    status_code = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.detail = cast(Any, [message])


def _running(row: WorkloadRow) -> None:
    if row.status is not WorkloadStatus.RUNNING or row.desired is not WorkloadStatus.RUNNING:
        raise Invalid(f"Workload {row.id} is {row.status}: nothing running to replace")


def _one_at_a_time(store: Store, row: WorkloadRow) -> None:
    under_way = store.rollout_under_way(row.id)
    if under_way is not None:
        raise Conflict(
            f"Workload {row.id} already has an active replacement ({under_way.id}, since"
            f" {under_way.created_at}): wait for it to end, or cancel it"
            f" (DELETE /workloads/{row.id}/replacement)"
        )


def settings(store: Store, workload_id: str) -> dict[str, Any]:
    """A workload's runtime, as ``GET …/settings`` answers it."""
    row = workloads.find(store, workload_id)
    return {"runtime": store.workload_settings(row.id).runtime}


def start(
    store: Store,
    supervisor: Supervisor,
    actor: Actor,
    workload_id: str,
    *,
    artifact_id: str | None,
    runtime: WorkloadRuntime | None,
    request: CreateReplacement | None = None,
    proton_id: str | None,
) -> ReplacementRow:
    """Store a rolling change of a running workload onto ``artifact_id`` (``None``: its own
    artifact, a settings update) with ``runtime`` (``None``: the workload's), and kick its task."""
    kind = "settings" if request is None else "replacement"
    with store.transaction():
        row = workloads.find(store, workload_id)
        _one_at_a_time(store, row)
        _running(row)
        current = artifacts.find(store, row.artifact_id)
        target = current if artifact_id is None else store.get_artifact(artifact_id)
        if target is None:
            raise NotFound(f"Artifact {artifact_id} not found")
        if kind == "replacement":
            _replaceable(store, row, current.status, target)
        at = ("body", "artifactId")
        wire = ready_to_run(store, target, at)
        wanted = runtime or WorkloadRuntime.model_validate(store.workload_settings(row.id).runtime)
        check_runtime(wanted, wire, ("body", "runtime"))
        credentials.require_resolvable(store, target.id, f"Cannot replace with {target.id}")
        config = {**NO_WAITING, **(request.config.to_wire() if request and request.config else {})}
        change = _record(
            store,
            actor,
            row,
            target.id,
            kind=kind,
            config=config,
            runtime=whole_numbers(wanted.to_wire()) if runtime is not None else None,
            previous=proton_id,
        )
        event = "workload.settingsUpdated" if kind == "settings" else "workload.replaced"
        details = {
            "replacementId": change.id,
            "fromArtifactId": current.id,
            "toArtifactId": target.id,
        }
        audit(store, actor, event, row.id, artifact_id=target.id, details=details)
    supervisor.kick(row.id)
    return store.replacements_of(row.id)[0]


def _record(
    store: Store,
    actor: Actor,
    row: WorkloadRow,
    target_id: str,
    *,
    kind: str,
    config: dict[str, Any],
    runtime: dict[str, Any] | None,
    previous: str | None,
    status: RolloutStatus = RolloutStatus.IN_PROGRESS,
) -> RolloutRow:
    """Store a replacement: a rolling change without a deployment (which the supervisor runs
    while it is in progress), and what this generation says about it."""
    change = store.insert_rollout(
        workload_id=row.id,
        deployment_id=NO_DEPLOYMENT,
        from_artifact_id=row.artifact_id,
        to_artifact_id=target_id,
        actor_id=actor.id,
        status=status,
    )
    store.insert_replacement(
        change.id,
        kind=kind,
        strategy="rolling",
        config=config,
        runtime=runtime,
        previous_proton_id=previous,
    )
    return change


def _replaceable(
    store: Store, row: WorkloadRow, status: ArtifactStatus, target: ArtifactRow
) -> None:
    """Why a replacement onto ``target`` is refused, as the current generation says it."""
    was_draft = status is ArtifactStatus.DRAFT
    is_draft = target.status is ArtifactStatus.DRAFT
    if was_draft != is_draft:
        words = ("draft", "locked")
        raise StatusMismatch(
            f"Artifact status mismatch: the workload runs a {words[not was_draft]} artifact,"
            f" {target.id} is {words[not is_draft]} (lock a draft by promoting its workload)"
        )
    if not is_draft and target.id == row.artifact_id:
        raise SameArtifact(f"Cannot replace with the same artifact — {target.id} is served")
    users = [user for user in store.workloads_using(target.id) if user.id != row.id]
    if is_draft and users:
        raise Conflict(f"Artifact {target.id} is a draft used by workload {users[0].id}")


def current_replacement(store: Store, workload_id: str, linger: float) -> ReplacementRow:
    """The workload's replacement under way, or the last one if it errored, or completed less
    than ``linger`` seconds ago; else :class:`NotFound` (as for an unknown workload)."""
    for replacement in store.replacements_of(workload_id):
        if replacement.kind == "promote":
            continue
        change = replacement.change
        if change.status is RolloutStatus.COMPLETED and not _recent(change.finished_at, linger):
            break
        return replacement
    raise NotFound(NO_REPLACEMENT)


def _recent(timestamp: str | None, seconds: float) -> bool:
    if timestamp is None:
        return False
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return (utcnow() - moment).total_seconds() < seconds


def cancel(store: Store, supervisor: Supervisor, actor: Actor, workload_id: str) -> None:
    """End the replacement under way ``errored``; its candidate is stopped (the workload's
    task sees the change ended)."""
    with store.transaction():
        under_way = store.rollout_under_way(workload_id)
        if under_way is None:
            raise NotFound(NO_REPLACEMENT)
        store.finish_rollout(under_way.id, RolloutStatus.ABANDONED, "cancelled")
        details = {"replacementId": under_way.id}
        audit(store, actor, "workload.replacementCancelled", workload_id, details=details)
    supervisor.kick(workload_id)


def history(store: Store, workload_id: str) -> list[ReplacementRow]:
    """Every replacement of the workload (promotes included), newest first."""
    workloads.find(store, workload_id)
    return store.replacements_of(workload_id)


def promote(store: Store, actor: Actor, workload_id: str, proton_id: str | None) -> WorkloadRow:
    """Lock the draft a running workload serves, in place (no restart): its version, no TTL,
    a completed change in the history."""
    with store.transaction():
        row = workloads.find(store, workload_id)
        artifact = artifacts.find(store, row.artifact_id)
        if artifact.status is not ArtifactStatus.DRAFT:
            raise Invalid(
                f"Workload {row.id} serves locked artifact {artifact.id}: nothing to promote"
            )
        if store.rollout_under_way(row.id) is not None:
            raise Invalid(f"Workload {row.id} has an active replacement: promote it once it ends")
        if row.status is not WorkloadStatus.RUNNING:
            raise Invalid(f"Workload {row.id} is {row.status}: only a running workload is promoted")
        locked = lockable.lock(store, actor, artifact.id)
        change = _record(
            store,
            actor,
            row,
            artifact.id,
            kind="promote",
            config=NO_WAITING,
            runtime=store.workload_settings(row.id).runtime,
            previous=proton_id,
            status=RolloutStatus.COMPLETED,
        )
        message = f"promoted: artifact locked as version {locked.version}"
        store.update_rollout(change.id, message=message)
        details = {"artifactId": artifact.id, "version": locked.version}
        audit(store, actor, "workload.promoted", row.id, artifact_id=artifact.id, details=details)
    return workloads.find(store, workload_id)
