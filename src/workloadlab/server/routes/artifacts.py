"""``/registry/artifacts/``: drafts that change, and registered artifacts that do not.

A ``PUT`` takes an artifact as ``GET`` answers it (:class:`ArtifactReplacement`), so that a
client can read one, change a field and send it all back; unknown keys stay ``422``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime, Field, StrictInt

from workloadlab.models import (
    Artifact,
    EntityType,
    Event,
    InputArtifact,
    Page,
    UpdateArtifact,
)
from workloadlab.models.base import Text
from workloadlab.models.resources import MAX_INT32
from workloadlab.server.context import Context, Limit, Offset
from workloadlab.server.operations import artifacts
from workloadlab.server.problems import answers
from workloadlab.server.routes.events import trail_answer
from workloadlab.server.routes.listing import Ids, OrderBy, Sort, wanted_ids
from workloadlab.server.routing import api_router
from workloadlab.server.views import artifact_json, paged

router = api_router("/registry/artifacts", "artifacts")

READ_ONLY = "Read-only, as `GET` answers it: taken when it is the artifact's own (else `422`)."
DESCRIBES_THE_READ = (
    "Read-only, as `GET` answers it: taken whatever it says (it describes the version that"
    " was read, which the `PUT` replaces)."
)


class ArtifactReplacement(InputArtifact):
    """Body of ``PUT /registry/artifacts/{id}``: an :class:`InputArtifact`, or the artifact as
    ``GET`` answers it. Its read-only fields change nothing: ``id``, ``version``,
    ``artifactCollectionId``, ``creator`` and ``createdAt`` are taken when they are the stored
    ones (the same instant in another spelling is the same), and a different one is ``422``
    naming it; ``updatedAt`` and ``specDigest`` are taken whatever they say."""

    id: Text | None = Field(default=None, description=READ_ONLY)
    version: StrictInt | None = Field(default=None, ge=0, le=MAX_INT32, description=READ_ONLY)
    artifact_collection_id: Text | None = Field(default=None, description=READ_ONLY)
    creator: dict[str, Any] | None = Field(default=None, description=READ_ONLY)
    created_at: AwareDatetime | None = Field(default=None, description=READ_ONLY)
    updated_at: AwareDatetime | None = Field(default=None, description=DESCRIBES_THE_READ)
    spec_digest: Text | None = Field(default=None, description=DESCRIBES_THE_READ)

    def read_only(self) -> dict[str, Any]:
        """The read-only fields the body gives, by wire name (``createdAt``...)."""
        names = set(type(self).model_fields) - set(InputArtifact.model_fields)
        given: dict[str, Any] = self.model_dump(by_alias=True, exclude_unset=True, include=names)
        return given


@router.post("", status_code=201, response_model=Artifact)
async def create_artifact(body: InputArtifact, context: Context) -> Response:
    """Create an artifact, a draft unless the body says ``registered``."""
    row = artifacts.create(context.store, context.actor, body)
    return JSONResponse(artifact_json(row), status_code=201)


@router.get("", response_model=Page[Artifact])
async def list_artifacts(
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
    search: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    collection_id: Annotated[
        str | None,
        Query(
            alias="collectionId",
            description="Only the versions of this artifact collection (`artifactCollectionId`),"
            " highest version first. A local-server extension.",
        ),
    ] = None,
    ids: Ids = None,
    order_by: OrderBy = None,
    sort: Sort = None,
) -> Response:
    """A page of artifacts, newest first (a collection's: highest version first) unless
    ``orderBy`` says otherwise, filtered by name, status, collection and id."""
    rows, total = artifacts.page(
        context.store,
        offset=offset,
        limit=limit,
        search=search,
        statuses=status,
        collection_id=collection_id,
        ids=wanted_ids(ids),
        order=order_by or sort,
    )
    return paged(
        request, [artifact_json(row) for row in rows], total=total, offset=offset, limit=limit
    )


@router.get("/{artifact_id}", response_model=Artifact)
async def get_artifact(artifact_id: str, context: Context) -> Response:
    """One artifact with its whole spec."""
    return JSONResponse(artifact_json(artifacts.find(context.store, artifact_id)))


@router.patch("/{artifact_id}", response_model=Artifact, responses=answers(409))
async def update_artifact(artifact_id: str, body: UpdateArtifact, context: Context) -> Response:
    """Change name or description, or register the artifact (one way, freezes the spec)."""
    row = artifacts.update(context.store, context.actor, artifact_id, body)
    return JSONResponse(artifact_json(row))


@router.put("/{artifact_id}", response_model=Artifact, responses=answers(403))
async def replace_artifact(
    artifact_id: str, body: ArtifactReplacement, context: Context
) -> Response:
    """Replace the whole artifact: the only way to change a draft's container spec. Takes the
    artifact as ``GET`` answers it: its read-only fields are checked, not written."""
    row = artifacts.replace(
        context.store, context.actor, artifact_id, body, read_only=body.read_only()
    )
    return JSONResponse(artifact_json(row))


@router.delete("/{artifact_id}", status_code=204, responses=answers(409))
async def delete_artifact(artifact_id: str, context: Context) -> Response:
    """Remove a draft artifact that no workload uses."""
    artifacts.delete(context.store, context.actor, artifact_id)
    return Response(status_code=204)


@router.get("/{artifact_id}/events", response_model=Page[Event])
async def artifact_events(
    artifact_id: str,
    request: Request,
    context: Context,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Response:
    """The artifact's audit trail (and the workloads' and deployments' that used it), newest
    first; still there once it is deleted (a local-server extension)."""
    return trail_answer(
        request, context, EntityType.ARTIFACT, artifact_id, offset=offset, limit=limit
    )
