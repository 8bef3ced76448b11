"""Artifacts: create, replace (``PUT``), change metadata (``PATCH``), register, delete.

A draft changes; registering it (one way) freezes its spec and gives it the next version in
the collection of its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from workloadlab.models import (
    ArtifactStatus,
    InputArtifact,
    UpdateArtifact,
    new_id,
    spec_digest,
)
from workloadlab.models.diff import diff_artifacts, needs_restart
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import credentials
from workloadlab.server.operations.mounts import refuse_local_mounts
from workloadlab.server.problems import Conflict, Forbidden, Invalid, NotFound
from workloadlab.server.store import ArtifactRow, ListOrder, Store


def find(store: Store, artifact_id: str) -> ArtifactRow:
    """The artifact, or :class:`NotFound`."""
    row = store.get_artifact(artifact_id)
    if row is None:
        raise NotFound(f"Artifact {artifact_id} not found")
    return row


def page(
    store: Store,
    *,
    offset: int,
    limit: int,
    search: str | None,
    statuses: Sequence[str] | None,
    collection_id: str | None = None,
    ids: Sequence[str] | None = None,
    order: ListOrder | None = None,
) -> tuple[list[ArtifactRow], int]:
    """A page of artifacts in ``order`` (by default newest first, or a collection's highest
    version first), filtered by name, status, collection and id, and the total count."""
    return store.list_artifacts(
        offset=offset,
        limit=limit,
        search=search,
        statuses=statuses,
        collection_id=collection_id,
        ids=ids,
        order=order,
    )


def create(
    store: Store,
    actor: Actor,
    body: InputArtifact,
    *,
    at: Sequence[str | int] = ("body",),
    default_name: str | None = None,
) -> ArtifactRow:
    """Store a new artifact (registered at once if the body says so) and audit it; ``at``
    is where the artifact is in the request (for the path of a broken credential reference).

    Without a name it is named ``default_name`` (an inline artifact: its workload's), else
    ``artifact-`` and the last 8 characters of its id (their random part)."""
    with store.transaction():
        credentials.require_references(store, body.spec, (*at, "spec"))
        artifact_id = new_id()
        row = store.insert_artifact(
            artifact_id=artifact_id,
            name=body.name or default_name or f"artifact-{artifact_id[-8:]}",
            description=body.description,
            type=body.type,
            spec=_spec_wire(body),
            creator=actor.user,
        )
        audit(store, actor, "artifact.created", row.id, details={"name": row.name})
        if _asked(body.status) is ArtifactStatus.REGISTERED:
            row = register(store, actor, row, at=(*at, "spec"))
    return row


def register(
    store: Store, actor: Actor, row: ArtifactRow, *, at: Sequence[str | int] = ("spec",)
) -> ArtifactRow:
    """Freeze a draft: the next version of its name's collection (the caller checked that it
    is a draft); :class:`Invalid` at its local mounts (``at``: where its spec is) if it has
    any."""
    with store.transaction():
        refuse_local_mounts(find(store, row.id).spec, at)
        store.register_artifact(row.id)
        registered = find(store, row.id)
        assert registered.version is not None
        # Instances that run its spec, now frozen, run this version.
        store.running_registered(row.id, spec_digest(registered.spec), registered.version)
        audit(
            store,
            actor,
            "artifact.registered",
            row.id,
            details={
                "version": registered.version,
                "artifactCollectionId": registered.collection_id,
            },
        )
    return registered


def update(store: Store, actor: Actor, artifact_id: str, body: UpdateArtifact) -> ArtifactRow:
    """Change name or description, or register the artifact (one way, freezes the spec)."""
    with store.transaction():
        row = find(store, artifact_id)
        asked = _asked(body.status)
        if asked is ArtifactStatus.DRAFT and row.status is not ArtifactStatus.DRAFT:
            raise Invalid.at(["body", "status"], "a registered artifact cannot go back to draft")
        if asked is ArtifactStatus.REGISTERED and row.status is ArtifactStatus.REGISTERED:
            raise Conflict(f"Artifact {row.id} is already registered (version {row.version})")
        metadata = {
            key: value
            for key, value in (("name", body.name), ("description", body.description))
            if value is not None and value != getattr(row, key)
        }
        if metadata:
            store.update_artifact(row.id, **metadata)
            audit(
                store,
                actor,
                "artifact.updated",
                row.id,
                details={"changedFields": sorted(metadata), "needsRestart": False},
            )
        if asked is ArtifactStatus.REGISTERED:
            register(store, actor, row)
        return find(store, artifact_id)


def replace(
    store: Store,
    actor: Actor,
    artifact_id: str,
    body: InputArtifact,
    *,
    read_only: Mapping[str, Any] | None = None,
) -> ArtifactRow:
    """Replace a whole draft: the only way to change its container spec (without a name, it
    keeps its own); a registered artifact is :class:`Forbidden`.

    ``read_only`` holds the read-only fields the body gave (by wire name: a ``GET`` answer
    sent back): each of :data:`CHECKED_READ_ONLY` must be the stored one (else
    :class:`Invalid` naming it); ``updatedAt`` and ``specDigest`` describe the version that was
    read, which this replaces, and are taken whatever they say."""
    with store.transaction():
        row = find(store, artifact_id)
        if row.status is not ArtifactStatus.DRAFT:
            raise Forbidden("Cannot update artifact: artifact is registered")
        differing = _differing_read_only(row, read_only or {})
        if differing:
            raise Invalid(
                [
                    {
                        "loc": ["body", key],
                        "msg": "read-only: send the artifact's own value, or leave it out",
                        "type": "value_error",
                    }
                    for key in differing
                ]
            )
        credentials.require_references(store, body.spec, ("body", "spec"))
        new = {
            "name": row.name if body.name is None else body.name,
            "description": body.description,
            "spec": _spec_wire(body),
        }
        apply_changes(store, actor, row, new)
        if _asked(body.status) is ArtifactStatus.REGISTERED:
            register(store, actor, row, at=("body", "spec"))
        return find(store, artifact_id)


def apply_changes(
    store: Store,
    actor: Actor,
    row: ArtifactRow,
    new: dict[str, Any],
    *,
    compared: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> bool:
    """Store a draft's new ``name``, ``description`` and runnable ``spec`` and audit what
    changed and whether it needs a restart; ``compared``: the old and new artifact to diff
    instead (as another API generation writes them). Whether anything changed."""
    old, wanted = compared or (_comparable(row), new)
    changes = diff_artifacts(old, wanted)
    if changes:
        store.update_artifact(row.id, **new)
        audit(
            store,
            actor,
            "artifact.updated",
            row.id,
            details={
                "changedFields": [change.path for change in changes],
                "needsRestart": needs_restart(changes),
            },
        )
    return bool(changes)


def delete(store: Store, actor: Actor, artifact_id: str) -> None:
    """Remove a draft that no workload uses (registered artifacts are kept)."""
    with store.transaction():
        row = find(store, artifact_id)
        if row.status is not ArtifactStatus.DRAFT:
            raise Conflict(f"Artifact {row.id} is registered: registered artifacts are kept")
        users = store.workloads_using(row.id)
        if users:
            raise Conflict(
                f"Artifact {row.id} is used by workload {users[0].id}; delete the workload first"
            )
        store.delete_artifact(row.id)
        audit(store, actor, "artifact.deleted", row.id, details={"name": row.name})


CHECKED_READ_ONLY = ("id", "version", "artifactCollectionId", "creator", "createdAt")
"""The read-only fields of a ``GET`` answer that a ``PUT`` may carry only unchanged."""


def _differing_read_only(row: ArtifactRow, given: Mapping[str, Any]) -> list[str]:
    """The fields of :data:`CHECKED_READ_ONLY` in ``given`` that are not the stored ones (a
    timestamp as an aware datetime: the same instant in any spelling is the same)."""
    stored = {
        "id": row.id,
        "version": row.version,
        "artifactCollectionId": row.collection_id,
        "creator": row.creator,
        "createdAt": dt.datetime.fromisoformat(row.created_at),
    }
    return [key for key in CHECKED_READ_ONLY if key in given and given[key] != stored[key]]


def _asked(status: str | None) -> ArtifactStatus | None:
    """The status a request body asks for (its models say it as a literal), as the enum."""
    return None if status is None else ArtifactStatus(status)


def _spec_wire(body: InputArtifact) -> dict[str, Any]:
    spec: dict[str, Any] = body.spec.model_dump(mode="json", by_alias=True)
    return spec


def _comparable(row: ArtifactRow) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "spec": row.spec}
