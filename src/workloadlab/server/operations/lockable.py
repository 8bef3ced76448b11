"""Artifacts of the current generation: drafts in repositories, locked one way, cloned to change.

Every artifact belongs to a repository from its creation (none named: a new one; an unknown id:
created with that id). Locking (``PATCH {"status": "locked"}``, created locked, or promote) gives
it the repository's next version. A locked artifact never changes (``403``, re-lock ``409``);
to change one, clone it, edit the clone and lock that. Stored as v2.41 artifacts are (status
``registered``, which this generation says ``locked``; the repository in ``collection_id``), with
the spec as written kept beside the runnable one (:mod:`.specs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workloadlab.models import ArtifactSpec, ArtifactStatus, spec_digest
from workloadlab.models.current import (
    CurrentArtifactSpec,
    CurrentInputArtifact,
    CurrentUpdateArtifact,
)
from workloadlab.server.audit import Actor, audit
from workloadlab.server.operations import artifacts, credentials
from workloadlab.server.operations.mounts import refuse_local_mounts
from workloadlab.server.operations.specs import runnable, wire_form
from workloadlab.server.problems import Conflict, Forbidden, Invalid, NotFound
from workloadlab.server.store import ArtifactRow, ListQuery, RepositoryRow, Store

LOCKED = "Cannot update artifact: artifact is locked"


def wire_spec(store: Store, row: ArtifactRow) -> dict[str, Any]:
    """An artifact's spec as the current generation shows it (one made through v2.41 gets
    its group's default name)."""
    stored = store.wire_spec(row.id)
    if stored is not None:
        return stored
    groups = [{"name": "default", **group} for group in row.spec.get("containerGroups", [])]
    return {**row.spec, "containerGroups": groups}


def _checked(
    store: Store, spec: CurrentArtifactSpec, at: Sequence[str | int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spec as stored and its runnable projection, or :class:`Invalid` (broken shared
    rules, broken credential references) at the spec's fields."""
    wire = wire_form(spec)
    projected = runnable(wire, at)
    credentials.require_references(store, ArtifactSpec.model_validate(projected), at)
    return wire, projected


def create(
    store: Store, actor: Actor, body: CurrentInputArtifact, *, at: Sequence[str | int] = ("body",)
) -> ArtifactRow:
    """Store a new artifact in its repository (locked at once if the body says so)."""
    with store.transaction():
        wire, projected = _checked(store, body.spec, (*at, "spec"))
        repository = store.ensure_repository(
            body.artifact_repository_id, name=body.name, type=body.type, creator=actor.user
        )
        row = store.insert_artifact(
            name=body.name,
            description=body.description,
            type=body.type,
            spec=projected,
            creator=actor.user,
        )
        store.update_artifact(row.id, collection_id=repository)
        store.set_wire_spec(row.id, wire)
        details = {"name": row.name, "artifactRepositoryId": repository}
        audit(store, actor, "artifact.created", row.id, details=details)
        if body.status == "locked":
            lock(store, actor, row.id, at=(*at, "spec"))
    return artifacts.find(store, row.id)


def lock(
    store: Store, actor: Actor, artifact_id: str, *, at: Sequence[str | int] = ("spec",)
) -> ArtifactRow:
    """Lock a draft as the next version of its repository (a locked one: :class:`Conflict`;
    a container to be built but without an image, or with local mounts (``at``: where its
    spec is): :class:`Invalid`)."""
    with store.transaction():
        row = artifacts.find(store, artifact_id)
        if row.status is not ArtifactStatus.DRAFT:
            raise Conflict(f"Artifact {row.id} is already locked (version {row.version})")
        refuse_local_mounts(wire_spec(store, row), at)
        for group in wire_spec(store, row)["containerGroups"]:
            for container in group["containers"]:
                if container.get("imageBuildConfig") and not container.get("imageUri"):
                    raise Invalid(
                        "Cannot lock artifact: imageBuildConfig is set but imageUri is not"
                        f" populated for container {container.get('name')!r}; build and push"
                        " the image first (builds are not served by workloadlab serve)"
                    )
        repository = row.collection_id or store.ensure_repository(
            None, name=row.name, type=row.type, creator=actor.user
        )
        if row.collection_id is None:
            store.update_artifact(row.id, collection_id=repository)
        version = store.lock_in_repository(row.id, repository)
        store.running_registered(row.id, spec_digest(row.spec), version)
        details = {"version": version, "artifactRepositoryId": repository}
        audit(store, actor, "artifact.locked", row.id, details=details)
    return artifacts.find(store, artifact_id)


def _draft(store: Store, artifact_id: str) -> ArtifactRow:
    row = artifacts.find(store, artifact_id)
    if row.status is not ArtifactStatus.DRAFT:
        raise Forbidden(LOCKED)
    return row


def _change(
    store: Store,
    actor: Actor,
    row: ArtifactRow,
    *,
    name: str,
    description: str,
    spec: CurrentArtifactSpec | None,
) -> None:
    """Store a draft's new metadata and spec (``None``: unchanged), auditing what changed."""
    old_wire = wire_spec(store, row)
    if spec is None:
        wire, projected = old_wire, row.spec
    else:
        wire, projected = _checked(store, spec, ("body", "spec"))
    old = {"name": row.name, "description": row.description, "spec": old_wire}
    new = {"name": name, "description": description, "spec": wire}
    stored = {"name": name, "description": description, "spec": projected}
    artifacts.apply_changes(store, actor, row, stored, compared=(old, new))
    store.set_wire_spec(row.id, wire)


def replace(
    store: Store, actor: Actor, artifact_id: str, body: CurrentInputArtifact
) -> ArtifactRow:
    """``PUT``: replace a draft's fields (locked: :class:`Forbidden`)."""
    with store.transaction():
        row = _draft(store, artifact_id)
        _change(store, actor, row, name=body.name, description=body.description, spec=body.spec)
        if body.type != row.type:
            store.update_artifact(row.id, type=body.type)
        if body.status == "locked":
            lock(store, actor, row.id, at=("body", "spec"))
    return artifacts.find(store, artifact_id)


def update(
    store: Store, actor: Actor, artifact_id: str, body: CurrentUpdateArtifact
) -> ArtifactRow:
    """``PATCH``: change any of name, description, spec, or lock (one way). A locked
    artifact: :class:`Forbidden`, or :class:`Conflict` for a second lock."""
    with store.transaction():
        row = artifacts.find(store, artifact_id)
        if row.status is not ArtifactStatus.DRAFT:
            only_lock = body.model_fields_set == {"status"} and body.status == "locked"
            if only_lock:
                raise Conflict(f"Artifact {row.id} is already locked (version {row.version})")
            raise Forbidden(LOCKED)
        _change(
            store,
            actor,
            row,
            name=body.name if body.name is not None else row.name,
            description=body.description if body.description is not None else row.description,
            spec=body.spec,
        )
        if body.status == "locked":
            lock(store, actor, row.id, at=("body", "spec") if body.spec else ("spec",))
    return artifacts.find(store, artifact_id)


def clone(store: Store, actor: Actor, artifact_id: str, name: str) -> ArtifactRow:
    """A new draft with the source's spec, type and repository (the source may be locked)."""
    with store.transaction():
        source = artifacts.find(store, artifact_id)
        row = store.insert_artifact(
            name=name,
            description=source.description,
            type=source.type,
            spec=source.spec,
            creator=actor.user,
        )
        repository = source.collection_id or store.ensure_repository(
            None, name=source.name, type=source.type, creator=actor.user
        )
        store.update_artifact(row.id, collection_id=repository)
        store.set_wire_spec(row.id, wire_spec(store, source))
        details = {"name": name, "clonedFrom": source.id, "artifactRepositoryId": repository}
        audit(store, actor, "artifact.created", row.id, details=details)
    return artifacts.find(store, row.id)


def in_use_problem(store: Store, row: ArtifactRow) -> str | None:
    """Why an artifact cannot be deleted (locked, or referenced by workloads), or ``None``."""
    users = store.workloads_using(row.id)
    if users:
        ids = ", ".join(user.id for user in users)
        return (
            f"Cannot delete artifact referenced by {len(users)} workload(s): {ids}."
            " Delete the workload(s) first."
        )
    if row.status is not ArtifactStatus.DRAFT:
        return f"Cannot delete artifact {row.id}: artifact is locked (version {row.version})"
    return None


def delete(store: Store, actor: Actor, artifact_id: str) -> None:
    """Remove a draft that no workload uses (locked artifacts are kept: :class:`Conflict`)."""
    with store.transaction():
        row = artifacts.find(store, artifact_id)
        problem = in_use_problem(store, row)
        if problem is not None:
            raise Conflict(problem)
        _remove(store, actor, row)


def _remove(store: Store, actor: Actor, row: ArtifactRow) -> None:
    store.delete_artifact(row.id)
    store.forget_wire_spec(row.id)
    audit(store, actor, "artifact.deleted", row.id, details={"name": row.name})


def page(store: Store, query: ListQuery) -> tuple[list[ArtifactRow], int]:
    """A page of artifacts, filtered and sorted, and the total count."""
    return store.query_artifacts(query)


def repositories(store: Store, query: ListQuery) -> tuple[list[RepositoryRow], int]:
    """A page of repositories, filtered and sorted, and the total count."""
    return store.list_repositories(query)


def find_repository(store: Store, repository_id: str) -> RepositoryRow:
    """The repository, or :class:`NotFound`."""
    row = store.get_repository(repository_id)
    if row is None:
        raise NotFound(f"Artifact repository {repository_id} not found")
    return row


def delete_repository(store: Store, actor: Actor, repository_id: str) -> None:
    """Remove a repository with its drafts; one that holds locked or in-use artifacts is a
    :class:`Conflict` (nothing removed)."""
    with store.transaction():
        repository = find_repository(store, repository_id)
        held = store.repository_artifacts(repository.id)
        for row in held:
            problem = in_use_problem(store, row)
            if problem is not None:
                raise Conflict(f"Cannot delete artifact repository {repository.id}: {problem}")
        for row in held:
            _remove(store, actor, row)
        store.delete_repository(repository.id)
