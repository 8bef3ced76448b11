"""``client.deployments``: governed production deployments (``/console/deployments/``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

import httpx

from workloadlab.client._http import Requester
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import (
    Body,
    Resource,
    drop_none,
    list_params,
    wire_body,
)
from workloadlab.models import CreateDeployment, Deployment, Event, Importance, UpdateDeployment


class Deployments(Resource):
    """Deployments of workloads whose artifact is registered, with their audit trail."""

    @overload
    async def create(self, body: CreateDeployment | Mapping[str, Any], /) -> Deployment: ...

    @overload
    async def create(
        self,
        /,
        *,
        workload_id: str,
        name: str,
        description: str | None = None,
        importance: Importance | str | None = None,
    ) -> Deployment: ...

    async def create(
        self,
        body: Body | None = None,
        /,
        *,
        workload_id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        importance: Importance | str | None = None,
    ) -> Deployment:
        """Deploy a workload; its artifact must be registered, else ``UnprocessableEntityError``."""
        if body is None:
            body = drop_none(
                workloadId=workload_id, name=name, description=description, importance=importance
            )
        elif any(v is not None for v in (workload_id, name, description, importance)):
            raise TypeError("give either a body or keyword arguments, not both")
        response = await self._requester.request(
            "POST", self._paths.deployments, json=wire_body(CreateDeployment, body), retry=False
        )
        return Requester.parse(Deployment, response)

    def list(
        self,
        *,
        search: str | None = None,
        workload_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Deployment]:
        """Deployments, by name (``search``) or workload; ``await`` or ``async for``."""
        params = list_params(search=search, workloadId=workload_id, limit=limit, offset=offset)
        return AsyncPager(self._requester, Deployment, self._paths.deployments, params)

    async def get(self, id: str) -> Deployment:
        """One deployment."""
        path = self._path(self._paths.deployment, id)
        return await self._requester.get_model(Deployment, path)

    @overload
    async def update(
        self, id: str, body: UpdateDeployment | Mapping[str, Any], /
    ) -> Deployment: ...

    @overload
    async def update(
        self,
        id: str,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        importance: Importance | str | None = None,
    ) -> Deployment: ...

    async def update(
        self,
        id: str,
        body: Body | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        importance: Importance | str | None = None,
    ) -> Deployment:
        """Change the name, description or importance (PATCH)."""
        if body is None:
            body = drop_none(name=name, description=description, importance=importance)
        elif any(v is not None for v in (name, description, importance)):
            raise TypeError("give either a body or keyword arguments, not both")
        response = await self._requester.request(
            "PATCH",
            self._path(self._paths.deployment, id),
            json=wire_body(UpdateDeployment, body),
        )
        return Requester.parse(Deployment, response)

    async def delete(self, id: str) -> None:
        """Delete the deployment; its workload stays."""
        await self._requester.request("DELETE", self._path(self._paths.deployment, id))

    def events(self, id: str, *, limit: int | None = None) -> AsyncPager[Event]:
        """The deployment's audit trail, newest first."""
        path = self._path(self._paths.deployment_events, id)
        return AsyncPager(self._requester, Event, path, list_params(limit=limit))

    async def invoke(
        self,
        id: str,
        path: str = "/",
        *,
        method: str = "GET",
        params: Any = None,
        json: Any = None,
        content: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> httpx.Response:
        """Send a request to the deployed app at ``path``; return its answer as it is."""
        return await self._invoke(
            self._paths.deployment_invoke, id, path, method=method, params=params, json=json,
            content=content, headers=headers, timeout=timeout,
        )  # fmt: skip
