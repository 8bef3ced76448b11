"""``client.repositories``: artifact repositories (``/artifactRepositories/``), the current
generation's group of an artifact's versions. There is no create: an artifact made without a
repository gets a new one. On v2.41 (collections: ``artifacts.versions``) every call raises
:class:`~workloadlab.errors.NotSupportedError`."""

from __future__ import annotations

from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import Resource, list_params
from workloadlab.models.neutral import ArtifactRepository


class Repositories(Resource):
    """Artifact repositories: list, get, delete (current generation)."""

    def list(
        self,
        *,
        search: str | None = None,
        type: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[ArtifactRepository]:
        """Repositories by name (``search``) and artifact ``type``; ``await`` or ``async for``."""
        params = list_params(search=search, type=type, limit=limit, offset=offset)
        return self._pager(ArtifactRepository, "repositories", params)

    async def get(self, id: str) -> ArtifactRepository:
        """One repository: its name, type, how many artifacts and the last version number."""
        return await self._get(ArtifactRepository, "repository", id)

    async def delete(self, id: str) -> None:
        """Delete a repository with its unlocked, unused artifacts; one that holds locked or
        used artifacts is a ``ConflictError``."""
        await self._requester.request("DELETE", await self._url("repository", id))
