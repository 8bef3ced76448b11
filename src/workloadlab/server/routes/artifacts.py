"""``/registry/artifacts/``: drafts that change, and registered artifacts that do not."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import Artifact, InputArtifact, Page, UpdateArtifact
from workloadlab.models.diff import diff_artifacts, needs_restart
from workloadlab.server.context import Context, Limit, Offset, ServerContext
from workloadlab.server.problems import Conflict, Forbidden, Invalid, NotFound, answers
from workloadlab.server.routing import api_router
from workloadlab.server.store import ArtifactRow
from workloadlab.server.views import artifact_json, paged

router = api_router("/registry/artifacts", "artifacts")


def _spec_wire(body: InputArtifact) -> dict[str, Any]:
    spec: dict[str, Any] = body.spec.model_dump(mode="json", by_alias=True)
    return spec


def _comparable(row: ArtifactRow) -> dict[str, Any]:
    return {"name": row.name, "description": row.description, "spec": row.spec}


def find_artifact(context: ServerContext, artifact_id: str) -> ArtifactRow:
    """The artifact, or a ``404``."""
    row = context.store.get_artifact(artifact_id)
    if row is None:
        raise NotFound(f"Artifact {artifact_id} not found")
    return row


def _register(context: ServerContext, row: ArtifactRow) -> ArtifactRow:
    context.store.register_artifact(row.id)
    registered = find_artifact(context, row.id)
    context.audit(
        "artifact.registered",
        row.id,
        details={
            "version": registered.version,
            "artifactCollectionId": registered.collection_id,
        },
    )
    return registered


def create_artifact_row(context: ServerContext, body: InputArtifact) -> ArtifactRow:
    """Store a new artifact (registered at once if the body says so) and audit it."""
    with context.store.transaction():
        row = context.store.insert_artifact(
            name=body.name,
            description=body.description,
            type=body.type,
            spec=_spec_wire(body),
            creator=context.user,
        )
        context.audit("artifact.created", row.id, details={"name": row.name})
        if body.status == "registered":
            row = _register(context, row)
    return row


@router.post("", status_code=201, response_model=Artifact)
async def create_artifact(body: InputArtifact, context: Context) -> Response:
    """Create an artifact, a draft unless the body says ``registered``."""
    row = create_artifact_row(context, body)
    return JSONResponse(artifact_json(row), status_code=201)


@router.get("", response_model=Page[Artifact])
async def list_artifacts(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """A page of artifacts, newest first, filtered by name and status."""
    rows, total = context.store.list_artifacts(
        offset=offset, limit=limit, search=search, statuses=status
    )
    return paged(
        request, [artifact_json(row) for row in rows], total=total, offset=offset, limit=limit
    )


@router.get("/{artifact_id}", response_model=Artifact)
async def get_artifact(artifact_id: str, context: Context) -> Response:
    """One artifact with its whole spec."""
    return JSONResponse(artifact_json(find_artifact(context, artifact_id)))


@router.patch("/{artifact_id}", response_model=Artifact, responses=answers(409))
async def update_artifact(artifact_id: str, body: UpdateArtifact, context: Context) -> Response:
    """Change name or description, or register the artifact (one way, freezes the spec)."""
    store = context.store
    with store.transaction():
        row = find_artifact(context, artifact_id)
        if body.status == "draft" and row.status != "draft":
            raise Invalid.at(["body", "status"], "a registered artifact cannot go back to draft")
        if body.status == "registered" and row.status == "registered":
            raise Conflict(f"Artifact {row.id} is already registered (version {row.version})")
        metadata = {
            key: value
            for key, value in (("name", body.name), ("description", body.description))
            if value is not None and value != getattr(row, key)
        }
        if metadata:
            store.update_artifact(row.id, **metadata)
            context.audit(
                "artifact.updated",
                row.id,
                details={"changedFields": sorted(metadata), "needsRestart": False},
            )
        if body.status == "registered":
            _register(context, row)
        row = find_artifact(context, artifact_id)
    return JSONResponse(artifact_json(row))


@router.put("/{artifact_id}", response_model=Artifact, responses=answers(403))
async def replace_artifact(artifact_id: str, body: InputArtifact, context: Context) -> Response:
    """Replace the whole artifact: the only way to change a draft's container spec."""
    store = context.store
    with store.transaction():
        row = find_artifact(context, artifact_id)
        if row.status != "draft":
            raise Forbidden("Cannot update artifact: artifact is registered")
        new = {"name": body.name, "description": body.description, "spec": _spec_wire(body)}
        changes = diff_artifacts(_comparable(row), new)
        if changes:
            store.update_artifact(row.id, **new)
            context.audit(
                "artifact.updated",
                row.id,
                details={
                    "changedFields": [change.path for change in changes],
                    "needsRestart": needs_restart(changes),
                },
            )
        if body.status == "registered":
            _register(context, row)
        row = find_artifact(context, artifact_id)
    return JSONResponse(artifact_json(row))


@router.delete("/{artifact_id}", status_code=204, responses=answers(409))
async def delete_artifact(artifact_id: str, context: Context) -> Response:
    """Remove a draft artifact that no workload uses."""
    store = context.store
    with store.transaction():
        row = find_artifact(context, artifact_id)
        if row.status != "draft":
            raise Conflict(f"Artifact {row.id} is registered: registered artifacts are kept")
        users = store.workloads_using(row.id)
        if users:
            raise Conflict(
                f"Artifact {row.id} is used by workload {users[0].id}; delete the workload first"
            )
        store.delete_artifact(row.id)
        context.audit("artifact.deleted", row.id, details={"name": row.name})
    return Response(status_code=204)
