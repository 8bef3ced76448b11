"""``client.artifacts``: container specs, drafts until locked (``/registry/artifacts/`` on
v2.41, where locked is spelled ``registered``; ``/artifacts/`` on the current generation).

Versions of one artifact are grouped in a collection on v2.41 (``artifactCollectionId``, set
once locked) and in a repository on the current generation (``artifactRepositoryId``, always
set); :meth:`Artifacts.versions` reads either."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, overload

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import Generation
from workloadlab.client.resources._base import (
    PAGE,
    Body,
    Resource,
    drop_none,
    list_params,
    wire_body,
)
from workloadlab.errors import NotSupportedError
from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact, InputArtifact, UpdateArtifact

LOCKED = {Generation.V2_41: "registered", Generation.CURRENT: "locked"}
"""How each generation spells a locked artifact's status."""


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


def group_of(artifact: Artifact, generation: Generation) -> str | None:
    """The id of the collection (v2.41) or repository (current) that holds ``artifact``."""
    if generation is Generation.V2_41:
        return artifact.artifact_collection_id
    return artifact.artifact_repository_id


class Artifacts(Resource):
    """Artifacts: a draft is edited with :meth:`update` and :meth:`replace`, then
    :meth:`lock` freezes its spec; :meth:`clone` (current generation) starts the next one."""

    async def create(self, artifact: InputArtifact | Artifact | Mapping[str, Any]) -> Artifact:
        """Create an artifact (a ``draft`` unless the body says locked, in either spelling)."""
        payload = wire_body(InputArtifact, artifact)  # refused before anything is sent
        body = await self._in_words_of_server(payload)
        response = await self._requester.request(
            "POST", await self._url("artifacts"), json=body, retry=False
        )
        return Requester.parse(Artifact, response)

    def list(
        self,
        *,
        search: str | None = None,
        status: str | Collection[str] | None = None,
        collection_id: str | None = None,
        repository_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Artifact]:
        """Artifacts, by name (``search``), ``status`` and the group of versions they belong
        to: ``collection_id`` (v2.41; the local server's filter, highest version first) or
        ``repository_id`` (current generation); ``await`` or ``async for``."""
        params = list_params(
            search=search,
            status=status,
            collectionId=collection_id,
            repositoryId=repository_id,
            limit=limit,
            offset=offset,
        )

        async def path() -> str:
            generation = await self._generation()
            if collection_id is not None and generation is not Generation.V2_41:
                raise NotSupportedError(
                    "artifact collections are v2.41's; the current generation groups versions"
                    " in repositories: list(repository_id=...)"
                )
            if repository_id is not None and generation is not Generation.CURRENT:
                raise NotSupportedError(
                    "artifact repositories are the current generation's; v2.41 groups versions"
                    " in collections: list(collection_id=...)"
                )
            if "status" in params:
                params["status"] = LOCKED.get(generation) if _is_locked(status) else status
            return await self._list_url("artifacts", params)

        return AsyncPager(self._requester, Artifact, path, params)

    async def locked_versions(self, group_id: str) -> builtins.list[Artifact]:
        """The locked artifacts of a collection or repository, highest version first (filtered
        here too: a server that does not know the filter answers every artifact)."""
        generation = await self._generation()
        v241 = generation is Generation.V2_41
        pager = self.list(
            status=LOCKED[generation],
            collection_id=group_id if v241 else None,
            repository_id=None if v241 else group_id,
            limit=PAGE,
        )
        found = [
            artifact
            async for artifact in pager
            if group_of(artifact, generation) == group_id and artifact.is_registered
        ]
        return sorted(found, key=lambda artifact: artifact.version or 0, reverse=True)

    async def versions(self, id: str) -> builtins.list[ArtifactVersion]:
        """The locked versions of a collection (v2.41) or repository (current), highest first,
        each with the deployments that run it (v2.41: the current generation has none); ``id``
        is the group's id or that of one of its artifacts (a v2.41 draft has none: ``[]``).
        ``NotFoundError`` if it is neither.

        Two requests against the local server; elsewhere, where the filters may be unknown,
        the lists are read whole and filtered here.
        """
        generation = await self._generation()
        versions = await self.locked_versions(id)
        if not versions:
            artifact = await self.get(id)  # not a group: an artifact of one?
            group_id = group_of(artifact, generation)
            if group_id is None:
                return []
            versions = await self.locked_versions(group_id)
        if generation is not Generation.V2_41:
            return [ArtifactVersion(artifact) for artifact in versions]
        ids = [artifact.id for artifact in versions]
        running: dict[str, builtins.list[Deployment]] = {}
        deployments = self._pager(
            Deployment, "deployments", list_params(artifactId=ids, limit=PAGE)
        )
        async for deployment in deployments:
            if deployment.artifact_id in ids:
                running.setdefault(deployment.artifact_id, []).append(deployment)
        return [
            ArtifactVersion(artifact, tuple(running.get(artifact.id, ()))) for artifact in versions
        ]

    async def get(self, id: str) -> Artifact:
        """One artifact."""
        return await self._get(Artifact, "artifact", id)

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
        """Change the name or description (PATCH); a body may also carry the ``spec`` on the
        current generation (:meth:`Artifact.to_update`), on v2.41 the spec needs
        :meth:`replace`."""
        if body is None:
            body = drop_none(name=name, description=description)
        elif name is not None or description is not None:
            raise TypeError("give either a body or keyword arguments, not both")
        payload = wire_body(UpdateArtifact, body)  # refused before anything is sent
        return await self._patch(id, await self._in_words_of_server(payload))

    async def replace(
        self, id: str, artifact: InputArtifact | Artifact | Mapping[str, Any]
    ) -> Artifact:
        """Replace the whole artifact (PUT): the only way to change a draft's container spec.

        A locked artifact answers :class:`~workloadlab.errors.PermissionDeniedError`.
        Running workloads pick the change up on their next restart (or, on the current
        generation, ``workloads.update_settings(id)``).
        """
        payload = wire_body(InputArtifact, artifact)  # refused before anything is sent
        body = await self._in_words_of_server(payload)
        response = await self._requester.request("PUT", await self._url("artifact", id), json=body)
        return Requester.parse(Artifact, response)

    async def lock(self, id: str) -> Artifact:
        """Lock the artifact: ``draft`` → locked (``registered`` on v2.41, ``locked`` on the
        current generation), versioned, spec frozen for good."""
        return await self._patch(id, {"status": LOCKED[await self._generation()]})

    async def register(self, id: str) -> Artifact:
        """:meth:`lock`, by v2.41's name."""
        return await self.lock(id)

    async def clone(self, id: str, *, name: str) -> Artifact:
        """A new draft with the spec and repository of artifact ``id`` (which may be locked):
        the way to the next version on the current generation."""
        path = await self._url("artifact_clone", id)
        response = await self._requester.request("POST", path, json={"name": name}, retry=False)
        return Requester.parse(Artifact, response)

    async def delete(self, id: str) -> None:
        """Delete a draft no workload uses (otherwise ``ConflictError``)."""
        await self._requester.request("DELETE", await self._url("artifact", id))

    async def _patch(self, id: str, body: dict[str, Any]) -> Artifact:
        response = await self._requester.request(
            "PATCH", await self._url("artifact", id), json=body
        )
        return Requester.parse(Artifact, response)


def _is_locked(status: str | Collection[str] | None) -> bool:
    return isinstance(status, str) and status in LOCKED.values()
