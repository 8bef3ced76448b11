"""Credentials: create, list, read and delete (never their values), and reference checks.

A credential's name is unique (a second one of a name is a ``409``). Deleting one that
artifacts refer to is allowed, as DataRobot allows it: their workloads fail their next start
with a message naming the variable, and the delete's audit event lists the artifacts that
referred to it. Neither event carries a value.

Artifacts and workloads call :func:`require_references` (a ``422`` at each broken reference's
field) and :func:`require_resolvable` (a ``422`` naming the variables, at one place) before they
store or start anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from workloadlab.models import ArtifactSpec, NewCredentialBody
from workloadlab.server.audit import Actor, audit
from workloadlab.server.problems import Conflict, Invalid, NotFound
from workloadlab.server.secrets import reference_problems
from workloadlab.server.store import CredentialRow, Store


def find(store: Store, credential_id: str) -> CredentialRow:
    """The credential (without values), or :class:`NotFound`."""
    row = store.get_credential(credential_id)
    if row is None:
        raise NotFound(f"Credential {credential_id} not found")
    return row


def page(
    store: Store, *, offset: int, limit: int, types: Sequence[str] | None
) -> tuple[list[CredentialRow], int]:
    """A page of credentials, newest first, of the given types, and the total count."""
    return store.list_credentials(offset=offset, limit=limit, types=types)


def create(store: Store, actor: Actor, body: NewCredentialBody) -> CredentialRow:
    """Store a credential whose name is not taken, and audit it (its key names, no value)."""
    credential_type = str(getattr(body, "credential_type"))  # noqa: B009 (every body has it)
    with store.transaction():
        taken = store.credential_named(body.name)
        if taken is not None:
            raise Conflict(f"A credential named {body.name!r} already exists ({taken.id})")
        row = store.insert_credential(
            name=body.name,
            credential_type=credential_type,
            description=body.description,
            values=body.secrets(),
            creator=actor.user,
        )
        details = {"name": row.name, "credentialType": row.credential_type, "keys": row.keys}
        audit(store, actor, "credential.created", row.id, details=details)
    return row


def delete(store: Store, actor: Actor, credential_id: str) -> None:
    """Remove a credential; the artifacts that refer to it are listed in the audit event."""
    with store.transaction():
        row = find(store, credential_id)
        store.delete_credential(row.id)
        details = {
            "name": row.name,
            "credentialType": row.credential_type,
            "referencedBy": store.artifacts_mentioning(row.id),
        }
        audit(store, actor, "credential.deleted", row.id, details=details)


def require_references(store: Store, spec: ArtifactSpec, at: Sequence[str | int]) -> None:
    """:class:`Invalid` at each broken reference's field (``at`` is the spec's own path in
    the request: ``("body", "spec")``)."""
    problems = reference_problems(store, spec)
    if problems:
        raise Invalid(
            [
                {"loc": [*at, *problem.loc], "msg": problem.message, "type": "credential_reference"}
                for problem in problems
            ]
        )


def require_resolvable(store: Store, artifact_id: str, doing: str) -> None:
    """:class:`Invalid` naming every broken reference of a stored artifact's spec (one not in
    the request: a workload of an ``artifactId``, a start); ``doing`` says what cannot be done
    (``"Cannot start workload …"``). An artifact that does not exist is left to the caller."""
    artifact = store.get_artifact(artifact_id)
    if artifact is None:
        return
    problems = reference_problems(store, ArtifactSpec.model_validate(artifact.spec))
    if problems:
        raise Invalid(f"{doing}: {'; '.join(problem.message for problem in problems)}")
