"""``/artifacts/`` and ``/artifactRepositories/`` (current generation): drafts that change,
locked versions that do not, and the repositories that number them."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from workloadlab.models import Page
from workloadlab.models.current import CloneArtifact, CurrentInputArtifact, CurrentUpdateArtifact
from workloadlab.models.current_responses import ArtifactFormatted, ArtifactRepositoryFormatted
from workloadlab.server.context import Context
from workloadlab.server.current_views import (
    ARTIFACT_WORDS,
    artifact_json,
    repository_json,
)
from workloadlab.server.operations import artifacts, lockable
from workloadlab.server.problems import answers
from workloadlab.server.routes.current.params import (
    Listed,
    RepositoriesListed,
    Statuses,
    Types,
)
from workloadlab.server.routing import api_router
from workloadlab.server.views import paged

router = api_router("/artifacts", "artifacts")
repositories = api_router("/artifactRepositories", "artifact repositories")


@router.post("", status_code=201, response_model=ArtifactFormatted, responses=answers(404))
async def create_artifact(body: CurrentInputArtifact, context: Context) -> Response:
    """Create an artifact (a draft, or locked at once) in its repository (none named: a new
    one)."""
    row = lockable.create(context.store, context.actor, body)
    return JSONResponse(artifact_json(row, context.store), status_code=201)


@router.get("", response_model=Page[ArtifactFormatted])
async def list_artifacts(
    request: Request,
    context: Context,
    query: Listed,
    status: Statuses = None,
    type: Types = None,
    repository_id: Annotated[str | None, Query(alias="repositoryId")] = None,
) -> Response:
    """A page of artifacts, filtered and sorted (``-createdAt`` unless told)."""
    statuses = ARTIFACT_WORDS.stored(status)
    query = replace(query, statuses=statuses, types=type, repository_id=repository_id)
    rows, total = lockable.page(context.store, query)
    data = [artifact_json(row, context.store) for row in rows]
    return paged(request, data, total=total, offset=query.offset, limit=query.limit)


@router.get("/{artifact_id}", response_model=ArtifactFormatted)
async def get_artifact(artifact_id: str, context: Context) -> Response:
    """One artifact with its whole spec."""
    return JSONResponse(artifact_json(artifacts.find(context.store, artifact_id), context.store))


@router.put("/{artifact_id}", response_model=ArtifactFormatted, responses=answers(403))
async def replace_artifact(
    artifact_id: str, body: CurrentInputArtifact, context: Context
) -> Response:
    """Replace a draft's fields (locked: ``403``)."""
    row = lockable.replace(context.store, context.actor, artifact_id, body)
    return JSONResponse(artifact_json(row, context.store))


@router.patch("/{artifact_id}", response_model=ArtifactFormatted, responses=answers(403, 409))
async def update_artifact(
    artifact_id: str, body: CurrentUpdateArtifact, context: Context
) -> Response:
    """Change any of name, description, spec (the whole spec), or lock it: ``{"status":
    "locked"}`` (one way; the repository's next version)."""
    row = lockable.update(context.store, context.actor, artifact_id, body)
    return JSONResponse(artifact_json(row, context.store))


@router.delete("/{artifact_id}", status_code=204, responses=answers(409))
async def delete_artifact(artifact_id: str, context: Context) -> Response:
    """Remove a draft no workload uses (locked or in use: ``409``)."""
    lockable.delete(context.store, context.actor, artifact_id)
    return Response(status_code=204)


@router.post("/{artifact_id}/clone", status_code=200, response_model=ArtifactFormatted)
async def clone_artifact(artifact_id: str, body: CloneArtifact, context: Context) -> Response:
    """A new draft with the spec and repository of this one (which may be locked)."""
    row = lockable.clone(context.store, context.actor, artifact_id, body.name)
    return JSONResponse(artifact_json(row, context.store))


@repositories.get("", response_model=Page[ArtifactRepositoryFormatted])
async def list_repositories(
    request: Request, context: Context, query: RepositoriesListed, type: Types = None
) -> Response:
    """A page of artifact repositories."""
    rows, total = lockable.repositories(context.store, replace(query, types=type))
    data = [repository_json(row) for row in rows]
    return paged(request, data, total=total, offset=query.offset, limit=query.limit)


@repositories.get("/{repository_id}", response_model=ArtifactRepositoryFormatted)
async def get_repository(repository_id: str, context: Context) -> Response:
    """One artifact repository, with its count of artifacts and its last version."""
    return JSONResponse(repository_json(lockable.find_repository(context.store, repository_id)))


@repositories.delete("/{repository_id}", status_code=204, responses=answers(409))
async def delete_repository(repository_id: str, context: Context) -> Response:
    """Remove a repository and its drafts (holding locked or in-use artifacts: ``409``)."""
    lockable.delete_repository(context.store, context.actor, repository_id)
    return Response(status_code=204)
