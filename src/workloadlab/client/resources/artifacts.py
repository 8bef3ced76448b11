"""``client.artifacts``: container specs, drafts until registered (``/registry/artifacts/``)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, overload

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import ApiPaths
from workloadlab.client.resources._base import Body, Resource, drop_none, list_params, wire_body
from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact, InputArtifact, UpdateArtifact

PAGE = 100
"""The largest page a list answers."""


@dataclass(frozen=True)
class ArtifactVersion:
    """One registered version of an artifact collection, and the deployments that run it."""

    artifact: Artifact
    deployments: tuple[Deployment, ...] = ()

    @property
    def version(self) -> int | None:
        """Its version number in the collection."""
        return self.artifact.version

    @property
    def id(self) -> str:
        """The artifact's id."""
        return self.artifact.id

    @property
    def created_at(self) -> dt.datetime | None:
        """When the artifact was created."""
        return self.artifact.created_at

    @property
    def digest(self) -> str:
        """The spec's digest (the server's, else computed the same way)."""
        return self.artifact.digest


async def collection_versions(
    requester: Requester, paths: ApiPaths, collection_id: str
) -> list[Artifact]:
    """The registered artifacts of a collection, highest version first (filtered here too: a
    server that does not know ``collectionId`` answers every artifact)."""
    params = list_params(collectionId=collection_id, status="registered", limit=PAGE)
    found = [
        artifact
        async for artifact in AsyncPager(requester, Artifact, paths.artifacts, params)
        if artifact.artifact_collection_id == collection_id and artifact.is_registered
    ]
    return sorted(found, key=lambda artifact: artifact.version or 0, reverse=True)


class Artifacts(Resource):
    """Artifacts: a draft is edited with :meth:`update` and :meth:`replace`, then
    :meth:`register` freezes its spec."""

    async def create(self, artifact: InputArtifact | Artifact | Mapping[str, Any]) -> Artifact:
        """Create an artifact (a ``draft`` unless the body says ``registered``)."""
        response = await self._requester.request(
            "POST", self._paths.artifacts, json=wire_body(InputArtifact, artifact), retry=False
        )
        return Requester.parse(Artifact, response)

    def list(
        self,
        *,
        search: str | None = None,
        status: str | Collection[str] | None = None,
        collection_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Artifact]:
        """Artifacts, by name (``search``), ``status`` and ``collection_id`` (the local
        server's filter: the versions of one collection, highest first); ``await`` or
        ``async for``."""
        params = list_params(
            search=search, status=status, collectionId=collection_id, limit=limit, offset=offset
        )
        return AsyncPager(self._requester, Artifact, self._paths.artifacts, params)

    async def versions(self, id: str) -> builtins.list[ArtifactVersion]:
        """The registered versions of a collection, highest first, each with the deployments
        that run it; ``id`` is the collection's id or that of one of its artifacts (a draft
        has none: ``[]``). ``NotFoundError`` if it is neither.

        Two requests against the local server; elsewhere, where the filters may be unknown,
        the lists are read whole and filtered here.
        """
        versions = await collection_versions(self._requester, self._paths, id)
        if not versions:
            artifact = await self.get(id)  # not a collection: an artifact of one?
            if artifact.artifact_collection_id is None:
                return []
            versions = await collection_versions(
                self._requester, self._paths, artifact.artifact_collection_id
            )
        ids = [artifact.id for artifact in versions]
        running: dict[str, builtins.list[Deployment]] = {}
        deployments = AsyncPager(
            self._requester,
            Deployment,
            self._paths.deployments,
            list_params(artifactId=ids, limit=PAGE),
        )
        async for deployment in deployments:
            if deployment.artifact_id in ids:
                running.setdefault(deployment.artifact_id, []).append(deployment)
        return [
            ArtifactVersion(artifact, tuple(running.get(artifact.id, ()))) for artifact in versions
        ]

    async def get(self, id: str) -> Artifact:
        """One artifact."""
        return await self._requester.get_model(Artifact, self._path(self._paths.artifact, id))

    @overload
    async def update(self, id: str, body: UpdateArtifact | Mapping[str, Any], /) -> Artifact: ...

    @overload
    async def update(
        self, id: str, /, *, name: str | None = None, description: str | None = None
    ) -> Artifact: ...

    async def update(
        self,
        id: str,
        body: Body | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Artifact:
        """Change the name or description (PATCH); the spec needs :meth:`replace`."""
        if body is None:
            body = drop_none(name=name, description=description)
        elif name is not None or description is not None:
            raise TypeError("give either a body or keyword arguments, not both")
        return await self._patch(id, wire_body(UpdateArtifact, body))

    async def replace(
        self, id: str, artifact: InputArtifact | Artifact | Mapping[str, Any]
    ) -> Artifact:
        """Replace the whole artifact (PUT): the only way to change a draft's container spec.

        A registered artifact answers :class:`~workloadlab.errors.PermissionDeniedError`.
        Running workloads pick the change up on their next restart.
        """
        response = await self._requester.request(
            "PUT", self._path(self._paths.artifact, id), json=wire_body(InputArtifact, artifact)
        )
        return Requester.parse(Artifact, response)

    async def register(self, id: str) -> Artifact:
        """Lock the artifact: ``draft`` → ``registered``, versioned, spec frozen for good."""
        return await self._patch(id, {"status": "registered"})

    async def delete(self, id: str) -> None:
        """Delete a draft no workload uses (otherwise ``ConflictError``)."""
        await self._requester.request("DELETE", self._path(self._paths.artifact, id))

    async def _patch(self, id: str, body: dict[str, Any]) -> Artifact:
        response = await self._requester.request(
            "PATCH", self._path(self._paths.artifact, id), json=body
        )
        return Requester.parse(Artifact, response)
