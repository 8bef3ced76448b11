"""What every resource shares: the requester, the paths of the server's API generation, and
turning bodies into JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from workloadlab.client._http import Requester
from workloadlab.client.generations import ApiResolver
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import SHARED, V2_41, Generation, Route
from workloadlab.models import RequestModel, format_timestamp, parse_request
from workloadlab.models.generations import V241_WORDS, NotExpressibleError, for_v241
from workloadlab.models.local import LOCAL_MOUNTS, mounted_containers
from workloadlab.models.lossless import LosslessModel
from workloadlab.models.neutral import Artifact

R = TypeVar("R", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)
PAGE = 100
"""The largest page a list answers (logs aside), and the one asked for when none is given."""

Body = BaseModel | Mapping[str, Any]
"""A request body: the request model, or a plain dict with camelCase (or snake_case) keys."""


class Resource:
    """A group of endpoints (``client.workloads``, ...) sharing the client's connection."""

    def __init__(self, requester: Requester, api: ApiResolver) -> None:
        self._requester = requester
        self._api = api

    async def _generation(self) -> Generation:
        """The generation of the Workload API the server speaks (detected once if need be)."""
        return await self._api.generation()

    async def _url(self, route: Route, id: str | None = None) -> str:
        """The path of ``route`` (with ``id``) in the server's generation;
        :class:`~workloadlab.errors.NotSupportedError` if that generation lacks it."""
        paths = V2_41 if route in SHARED else await self._api.paths()
        return paths.url(route, id)

    async def _get(self, model: type[M], route: Route, id: str) -> M:
        """GET one resource of ``route`` as ``model``."""
        return await self._requester.get_model(model, await self._url(route, id))

    def _pager(
        self,
        model: type[M],
        route: Route,
        params: dict[str, Any],
        id: str | None = None,
        *,
        keep: Callable[[M], bool] | None = None,
    ) -> AsyncPager[M]:
        """A list of ``route``, its path found on the first fetch (``keep``: see
        :class:`~workloadlab.client.pagination.AsyncPager`)."""
        where = lambda: self._list_url(route, params, id)  # noqa: E731
        return AsyncPager(self._requester, model, where, params, keep=keep)

    async def _in_words_of_server(self, body: dict[str, Any]) -> dict[str, Any]:
        """A neutral body (artifact, artifact update, new workload) in the words of the server's
        generation: v2.41's ``registered``, ``generic`` and memory in bytes there (what v2.41
        cannot express is a ``NotExpressibleError``, a ``ValueError``, before anything is sent);
        as it is for the current generation. Credential variables are left for the server to
        judge (the local server's v2.41 profile takes them). ``localMounts`` go to the local
        server only: anywhere else they are a ``NotExpressibleError``, nothing sent."""
        await self._local_mounts_allowed(body)
        if await self._generation() is Generation.V2_41:
            return for_v241(body, credentials=True)
        return for_current(body)

    async def _local_mounts_allowed(self, body: Mapping[str, Any]) -> None:
        """:class:`NotExpressibleError` if ``body`` (an artifact, or a new workload with one)
        has local mounts and the server is not the local server."""
        inline = body.get("artifact")
        for artifact in (body, inline if isinstance(inline, Mapping) else {}):
            spec = artifact.get("spec")
            found = next(mounted_containers(spec), None) if isinstance(spec, Mapping) else None
            if found is not None and await self._api.local_server() is None:
                g, c, _ = found
                raise NotExpressibleError(
                    f"spec.containerGroups[{g}].containers[{c}].{LOCAL_MOUNTS}: local mounts"
                    " are this machine's files, for workloadlab's local server only; this"
                    " server runs images (remove them)"
                )

    async def _list_url(self, route: Route, params: dict[str, Any], id: str | None = None) -> str:
        """The path of list ``route``; on the current generation, ``params`` get a ``limit``
        if they have none (DataRobot's default page is 10: the contract says always send it)."""
        url = await self._url(route, id)
        if route not in SHARED and await self._generation() is Generation.CURRENT:
            params.setdefault("limit", PAGE)
        return url

    async def _invoke(
        self,
        route: Route,
        id: str,
        path: str,
        *,
        method: str,
        params: Any,
        json: Any,
        content: bytes | str | None,
        headers: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,  # noqa: ASYNC109
    ) -> httpx.Response:
        """A request to an app behind the invoke proxy, answered as it is (no raising)."""
        url = await self._url(route, id) + path.lstrip("/")
        return await self._requester.request(
            method.upper(), url, params=params, json=json, content=content, headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            raise_for_status=False,
        )  # fmt: skip


def wire_body(model: type[R], body: Any) -> dict[str, Any]:
    """``body`` (a model or a dict) checked against ``model`` and dumped with wire names.

    A neutral model (:mod:`workloadlab.models.neutral`) sends what it holds, unknown keys and
    nulls included, nothing it was not given; a read :class:`~workloadlab.models.neutral.Artifact`
    stands for the artifact it describes, so ``replace(id, artifact)`` sends back what ``get``
    returned. Invalid bodies raise pydantic's ``ValidationError`` (a ``ValueError``) naming the
    field, before anything is sent.
    """
    if isinstance(body, Artifact):
        body = body.to_input()
    if issubclass(model, RequestModel):
        strict: RequestModel = parse_request(model, body)
        return strict.to_wire()
    if isinstance(body, BaseModel) and not isinstance(body, model):
        body = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    checked = body if isinstance(body, model) else model.model_validate(body)
    if not isinstance(checked, LosslessModel):
        raise TypeError(f"{model.__name__} is neither a request model nor a neutral one")
    return checked.to_wire()


def drop_none(**fields: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not ``None``)."""
    return {key: value for key, value in fields.items() if value is not None}


def list_params(**params: Any) -> dict[str, Any]:
    """Query parameters with ``None`` left out, times formatted, collections repeated."""
    query: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, dt.datetime):
            value = format_timestamp(value)
        elif isinstance(value, Collection) and not isinstance(value, str):
            value = [str(item) for item in value]
        query[key] = value
    return query


def for_current(body: dict[str, Any]) -> dict[str, Any]:
    """A body in the current generation's words: v2.41's ``registered`` and ``generic`` (a
    body written for v2.41) become ``locked`` and ``service``, here and in an inline artifact."""
    wire = dict(body)
    for artifact in (wire, wire.get("artifact")):
        if not isinstance(artifact, dict):
            continue
        for key, words in V241_WORDS.items():
            current = {v241: neutral for neutral, v241 in words.items()}
            if isinstance(artifact.get(key), str):
                artifact[key] = current.get(artifact[key], artifact[key])
    return wire
