"""Streams and sockets to an app behind the invoke proxy, for workloads and deployments alike:
:meth:`StreamingCalls.stream` yields server-sent events as the app sends them, and
:meth:`StreamingCalls.websocket` opens a WebSocket (the ``websockets`` package's asyncio client)
with the client's token on the handshake."""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from workloadlab import errors
from workloadlab.client.paths import Route
from workloadlab.client.resources._base import Resource
from workloadlab.client.sse import ServerSentEvent, server_sent_events


class StreamingCalls(Resource):
    """``stream`` and ``websocket`` of the resource's invoke route (``_invoke_route``)."""

    _invoke_route: ClassVar[Route]

    async def stream(
        self,
        id: str,
        path: str = "/",
        *,
        method: str = "GET",
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,  # noqa: ASYNC109
    ) -> AsyncIterator[ServerSentEvent]:
        """The server-sent events the app answers at ``path`` with, each as soon as it has
        come: ``async for event in client.workloads.stream(id, "/tokens"): ...``.

        An error status raises :class:`~workloadlab.errors.APIStatusError` before the first
        event; nothing is retried. ``timeout``: the longest wait for the next bytes (the
        client's by default).
        """
        url = await self._url(self._invoke_route, id) + path.lstrip("/")
        async with self._requester.stream(
            method.upper(), url, params=params, json=json,
            headers={"Accept": "text/event-stream", **(headers or {})},
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        ) as answer:  # fmt: skip
            async for event in server_sent_events(answer.aiter_lines()):
                yield event

    @asynccontextmanager
    async def websocket(
        self,
        id: str,
        path: str = "/",
        *,
        subprotocols: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ClientConnection]:
        """A WebSocket to the app at ``path``, closed on the way out:
        ``async with client.workloads.websocket(id, "/ws") as ws: await ws.send("hi")``.

        A refused upgrade raises :class:`~workloadlab.errors.APIStatusError` (``401``, ``404``,
        ``503`` while the workload does not run, or the app's own refusal).
        """
        url = self._requester.base + (await self._url(self._invoke_route, id)).lstrip("/")
        url = "ws" + url.removeprefix("http") + path.lstrip("/")
        auth = self._requester.auth
        authorization = auth.authorization_for(url) if auth is not None else None
        extra = {**(headers or {}), **({"Authorization": authorization} if authorization else {})}
        offered = [Subprotocol(name) for name in subprotocols] or None
        try:
            connection = await connect(
                url, additional_headers=extra, subprotocols=offered, logger=_HEADERS_MASKED
            )
        except InvalidStatus as refused:
            raise _refusal(url, refused) from None
        async with connection:
            yield connection


class _TokenMasked(logging.LoggerAdapter[logging.Logger]):
    """websockets' client logger, with the value of an ``Authorization`` header it logs (at
    debug level, with every header of the handshake) masked: the token is in it."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], str) and args[0].lower() == "authorization":
            args = (args[0], "****", *args[2:])
        super().log(level, msg, *args, **kwargs)


_HEADERS_MASKED = _TokenMasked(logging.getLogger("websockets.client"))


def _refusal(url: str, refused: InvalidStatus) -> errors.APIStatusError:
    """The error of an upgrade answered with an HTTP status instead of ``101``."""
    answer = refused.response
    text = bytes(answer.body or b"").decode(errors="replace")
    try:
        body: Any = jsonlib.loads(text)
    except ValueError:
        body = text
    return errors.status_error(
        method="GET", url=url, status_code=answer.status_code, body=body,
        headers=dict(answer.headers.raw_items()),
    )  # fmt: skip
