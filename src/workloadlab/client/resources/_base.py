"""What every resource shares: the requester, the paths, and turning bodies into JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from workloadlab.client._http import Requester
from workloadlab.client.paths import ApiPaths
from workloadlab.models import RequestModel, format_timestamp, parse_request
from workloadlab.models.lossless import LosslessModel
from workloadlab.models.neutral import Artifact

R = TypeVar("R", bound=BaseModel)

Body = BaseModel | Mapping[str, Any]
"""A request body: the request model, or a plain dict with camelCase (or snake_case) keys."""


class Resource:
    """A group of endpoints (``client.workloads``, ...) sharing the client's connection."""

    def __init__(self, requester: Requester, paths: ApiPaths) -> None:
        self._requester = requester
        self._paths = paths

    def _path(self, template: str, id: str) -> str:
        return ApiPaths.fill(template, id)

    async def _invoke(
        self,
        template: str,
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
        url = self._path(template, id) + path.lstrip("/")
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
