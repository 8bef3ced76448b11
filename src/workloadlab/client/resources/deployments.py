"""``client.deployments``: governed production deployments (``/console/deployments/``), and
their moves between versions of their artifact (``update(id, artifact_id=...)``, ``rollback``,
``wait_for_rollout``: the local server's extension, ``workload-api.md`` §8).

v2.41 only: the current generation has no deployments (a workload is promoted, or runs a locked
artifact), and every call here raises :class:`~workloadlab.errors.NotSupportedError` saying so."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, overload

import httpx

from workloadlab.client._http import Requester
from workloadlab.client.generations import ApiResolver
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.resources._base import (
    Body,
    drop_none,
    list_params,
    wire_body,
)
from workloadlab.client.resources._streaming import StreamingCalls
from workloadlab.client.resources.artifacts import Artifacts
from workloadlab.client.waiting import Polling, wait_for_rollout
from workloadlab.models import (
    CreateDeployment,
    Deployment,
    Event,
    Importance,
    Rollout,
    RolloutStatus,
    UpdateDeployment,
)
from workloadlab.models.neutral import Artifact


class Deployments(StreamingCalls):
    """Deployments of workloads whose artifact is registered, with their audit trail; and
    (the local server's extension) their moves between versions of their artifact."""

    _invoke_route = "deployment_invoke"

    def __init__(
        self, requester: Requester, api: ApiResolver, polling: Polling, artifacts: Artifacts
    ) -> None:
        super().__init__(requester, api)
        self._artifacts = artifacts
        self.polling = polling
        """Gaps of :meth:`wait_for_rollout` (a deployment's ``GET`` cannot wait at the server)."""

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
        payload = wire_body(CreateDeployment, body)  # refused before anything is sent
        path = await self._url("deployments")
        response = await self._requester.request("POST", path, json=payload, retry=False)
        return Requester.parse(Deployment, response)

    def list(
        self,
        *,
        search: str | None = None,
        workload_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> AsyncPager[Deployment]:
        """Deployments, by name (``search``) or workload; ``await`` or ``async for``.

        The workload filter is sent as ``wid``, as DataRobot's own clients spell it, and
        checked here too: a server that ignores it answers every deployment."""
        params = list_params(search=search, wid=workload_id, limit=limit, offset=offset)
        keep = None if workload_id is None else (lambda d: d.workload_id == workload_id)
        return self._pager(Deployment, "deployments", params, keep=keep)

    async def get(self, id: str) -> Deployment:
        """One deployment."""
        return await self._get(Deployment, "deployment", id)

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
        artifact_id: str | None = None,
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
        artifact_id: str | None = None,
    ) -> Deployment:
        """Change the name, description or importance (PATCH).

        ``artifact_id`` (the local server's extension) moves the deployment to another
        registered version of its artifact's collection as a rolling change: the answer comes
        at once, with the change ``inProgress`` in ``rollout`` and ``artifact_id`` unchanged;
        :meth:`wait_for_rollout` waits for its outcome. A target that is not a registered
        version of the collection is ``UnprocessableEntityError``; the one deployed, or a
        change already under way, ``ConflictError``.
        """
        fields = (name, description, importance, artifact_id)
        if body is None:
            body = drop_none(
                name=name, description=description, importance=importance, artifactId=artifact_id
            )
        elif any(v is not None for v in fields):
            raise TypeError("give either a body or keyword arguments, not both")
        payload = wire_body(UpdateDeployment, body)  # refused before anything is sent
        path = await self._url("deployment", id)
        response = await self._requester.request("PATCH", path, json=payload)
        return Requester.parse(Deployment, response)

    async def wait_for_rollout(
        self,
        id: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        on_change: Callable[[Rollout], object] | None = None,
    ) -> Rollout:
        """Wait until the deployment's latest move to another version is over, and return it:
        ``completed`` (the deployment runs the new version) or ``abandoned`` (it runs the old
        one; ``message`` says why). Not an error either way: check ``status``.

        ``ValueError`` if the deployment has no such change (a server without the extension
        never has one); :class:`~workloadlab.errors.WaitTimeoutError` after ``timeout``
        seconds. ``on_change(rollout)`` sees it first and on each change.
        """
        await self._url("deployment", id)  # NotSupportedError before any waiting
        return await wait_for_rollout(
            lambda: self.get(id),
            timeout=timeout,
            polling=self.polling,
            sleep=self._requester.sleep,
            on_change=on_change,
        )

    async def rollback(
        self,
        id: str,
        *,
        version: int | None = None,
        wait: bool = True,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Rollout:
        """Move the deployment to ``version`` of its artifact's collection, by default back to
        the version it ran before its last completed change (if it never changed: the highest
        version below the one it runs), and (with ``wait``) wait for the outcome.

        Returns the change (see :meth:`wait_for_rollout`); ``ValueError`` when there is no such
        version.
        """
        deployment = await self.get(id)
        target = await self._rollback_target(deployment, version)
        moved = await self.update(id, artifact_id=target)
        if not wait:
            if moved.rollout is None:
                raise ValueError(f"the server did not start a change of deployment {id}")
            return moved.rollout
        return await self.wait_for_rollout(id, timeout=timeout)

    async def _rollback_target(self, deployment: Deployment, version: int | None) -> str:
        """The id of the artifact a rollback of ``deployment`` goes to."""
        last = deployment.rollout
        if (
            version is None
            and last is not None
            and last.status is RolloutStatus.COMPLETED
            and last.to_artifact_id == deployment.artifact_id
        ):
            return last.from_artifact_id
        if deployment.artifact_id is None:
            raise ValueError(f"deployment {deployment.id} names no artifact")
        current = await self._get(Artifact, "artifact", deployment.artifact_id)
        if current.artifact_collection_id is None or current.version is None:
            raise ValueError(f"deployment {deployment.id} runs a draft: it has no versions")
        versions = await self._artifacts.locked_versions(current.artifact_collection_id)
        if version is not None:
            found = [a for a in versions if a.version == version and a.id != current.id]
            if not found:
                known = ", ".join(str(a.version) for a in reversed(versions))
                raise ValueError(
                    f"{current.name!r} has no version {version} other than the one deployment"
                    f" {deployment.id} runs (version {current.version}; it has {known})"
                )
            return found[0].id
        earlier = [a for a in versions if (a.version or 0) < current.version]
        if not earlier:
            raise ValueError(
                f"deployment {deployment.id} runs version {current.version} of"
                f" {current.name!r}, its first: there is no earlier version"
            )
        return max(earlier, key=lambda artifact: artifact.version or 0).id

    async def delete(self, id: str) -> None:
        """Delete the deployment; its workload stays."""
        await self._requester.request("DELETE", await self._url("deployment", id))

    def events(self, id: str, *, limit: int | None = None) -> AsyncPager[Event]:
        """The deployment's audit trail, newest first."""
        return self._pager(Event, "deployment_events", list_params(limit=limit), id)

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
            "deployment_invoke", id, path, method=method, params=params, json=json,
            content=content, headers=headers, timeout=timeout,
        )  # fmt: skip
