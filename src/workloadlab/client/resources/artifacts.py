"""``client.artifacts``: container specs, drafts until registered (``/registry/artifacts/``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, overload

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import Body, Resource, drop_none, list_params, wire_body
from workloadlab.models import Artifact, InputArtifact, UpdateArtifact


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
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Artifact]:
        """Artifacts, by name (``search``) and ``status``; ``await`` or ``async for``."""
        params = list_params(search=search, status=status, limit=limit, offset=offset)
        return AsyncPager(self._requester, Artifact, self._paths.artifacts, params)

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
