"""``/endpoints/{workloads,deployments}/{id}/...``: the invoke proxy's HTTP side.

The route asks the ``invoke_target`` operation where the workload runs (``404``; ``503`` while
it is not running) and answers with a :class:`ProxiedAnswer`, which hands the call to
:class:`~workloadlab.server.proxy.InvokeProxy` (pools, limits, timeouts, the
``502``/``503``/``504`` answers) and relays the app's answer as it comes: event streams and
chunked bodies are never buffered. What is HTTP here:

- The app gets the caller's own bytes after ``/endpoints/<kind>/<id>``: path and query exactly
  as sent (``?flag`` stays ``?flag``, ``%FF`` stays ``%FF``, ``%2F`` is no ``/``).
- The caller's side is read by a task of its own: the request body is passed on as it comes,
  and the caller going away (``http.disconnect``) cancels the exchange, which closes the app's
  connection at once, whether the app had begun to answer or not.
- The caller's ``Authorization`` header (the server's token) never reaches the app;
  hop-by-hop headers are dropped both ways.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from workloadlab.server.context import Context, ServerContext
from workloadlab.server.operations import deployments, workloads
from workloadlab.server.problems import ErrorBody
from workloadlab.server.proxy import Interrupted, InvokeProxy
from workloadlab.server.supervisor import Lease
from workloadlab.server.views import API_PREFIX

router = APIRouter(prefix="/endpoints", tags=["invoke"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
PREFIX_SEGMENTS = API_PREFIX.count("/") + 3
"""Segments of ``/api/v2/endpoints/<kind>/<id>``, before the app's own path."""
BODY_CHUNKS_AHEAD = 4
"""Request body chunks read from the caller before the app takes them (backpressure)."""
_NOT_IN_A_TARGET = re.compile(rb"[^\x21-\x7e]")

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Whatever the app answers (any status), its headers and body passed on "
        "as they come; hop-by-hop headers aside.",
        "content": {"*/*": {}},
    },
    404: {"model": ErrorBody, "description": "No such workload or deployment."},
    502: {
        "model": ErrorBody,
        "description": "The app closed or reset the connection without answering, or did not "
        "answer in HTTP/1.1.",
    },
    503: {
        "model": ErrorBody,
        "description": "The workload is not running; or nothing listens on its port, or all "
        "of its connections (`--invoke-max-connections`) stayed in use for the connect "
        "timeout: those two carry `Retry-After`.",
    },
    504: {
        "model": ErrorBody,
        "description": "The app did not accept a connection within the connect timeout "
        "(`--invoke-connect-timeout`), or did not answer within the read timeout "
        "(`--invoke-read-timeout`).",
    },
}
"""The invoke operations' answers (the OpenAPI document adds ``401`` and ``422``)."""


def app_target(scope: Scope) -> bytes:
    """The caller's path after ``/endpoints/<kind>/<id>`` and its query, as sent (``/`` when
    there is no path); any byte that may not stand in a request target percent-encoded."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    parts = raw_path.split(b"/", PREFIX_SEGMENTS + 1)
    path = b"/" + (parts[PREFIX_SEGMENTS + 1] if len(parts) > PREFIX_SEGMENTS + 1 else b"")
    query: bytes = scope["query_string"]
    target = path + b"?" + query if query else path
    return _NOT_IN_A_TARGET.sub(lambda byte: b"%%%02X" % byte.group()[0], target)


def has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request with ``headers`` carries a body (HTTP/1.1: a length or chunks)."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and value != b"0"):
            return True
    return False


class CallerSide:
    """Reads the caller's side of the connection: the request body for the app, then the
    disconnect, which calls ``on_gone`` unless the answer is complete by then."""

    def __init__(self, receive: Receive, forward_body: bool, on_gone: Callable[[], Any]) -> None:
        self._receive = receive
        self._forward_body = forward_body
        self._on_gone = on_gone
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue(BODY_CHUNKS_AHEAD)
        self.answered = False

    async def listen(self) -> None:
        """Pass body chunks to :meth:`body` until the caller goes away."""
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                if not self.answered:
                    self._on_gone()
                return
            if self._forward_body and message["type"] == "http.request":
                if message.get("body"):
                    await self._chunks.put(message["body"])
                if not message.get("more_body", False):
                    await self._chunks.put(None)

    async def body(self) -> AsyncIterator[bytes]:
        """The request body as the caller sends it."""
        while (chunk := await self._chunks.get()) is not None:
            yield chunk


class ProxiedAnswer(Response):
    """The app's answer, relayed as it comes. It runs the exchange itself when the server
    calls it (a ``Response`` only so that FastAPI passes it through untouched)."""

    def __init__(self, proxy: InvokeProxy, workload_id: str, lease: Lease, scope: Scope) -> None:
        self.background = None
        self._proxy = proxy
        self._workload_id = workload_id
        self._lease = lease
        self._target = lease.target
        self._method: str = scope["method"]
        self._app_target = app_target(scope)
        self._request_headers: list[tuple[bytes, bytes]] = scope["headers"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listener = None
        try:
            with self._proxy.exchange() as exchange:
                caller = CallerSide(receive, has_body(self._request_headers), exchange.cancel)
                listener = asyncio.create_task(caller.listen(), name=f"invoke-{self._workload_id}")
                await self._relay(caller, send)
        finally:
            self._lease.release()  # an instance leaving after a rolling change waits for it
            if listener is not None:
                listener.cancel()
                await asyncio.wait([listener])

    async def _relay(self, caller: CallerSide, send: Send) -> None:
        body = caller.body() if has_body(self._request_headers) else None
        async with self._proxy.call(
            self._workload_id,
            self._target,
            self._method,
            self._app_target,
            self._request_headers,
            body,
        ) as answer:
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status_code,
                    "headers": answer.headers,
                }
            )
            try:
                async for chunk in answer.body():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except Interrupted:
                return  # without the end: the caller sees a cut-off answer, not a short one
            caller.answered = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _answer(context: ServerContext, workload_id: str, request: Request) -> ProxiedAnswer:
    workload_id, lease = workloads.invoke_target(context.store, context.supervisor, workload_id)
    return ProxiedAnswer(context.proxy, workload_id, lease, request.scope)


@router.api_route("/workloads/{workload_id}", methods=METHODS, include_in_schema=False)
@router.api_route(
    "/workloads/{workload_id}/{path:path}",
    methods=METHODS,
    operation_id="invoke_workload",  # the document gives each method its own: ..._get
    response_class=Response,
    responses=RESPONSES,
)
async def invoke_workload(
    workload_id: str, request: Request, context: Context, path: str = ""
) -> Response:
    """Forward a request to the workload's app, with ``/endpoints/workloads/{id}`` stripped;
    ``path`` and the query reach the app exactly as sent."""
    return _answer(context, workload_id, request)


@router.api_route("/deployments/{deployment_id}", methods=METHODS, include_in_schema=False)
@router.api_route(
    "/deployments/{deployment_id}/{path:path}",
    methods=METHODS,
    operation_id="invoke_deployment",
    response_class=Response,
    responses=RESPONSES,
)
async def invoke_deployment(
    deployment_id: str, request: Request, context: Context, path: str = ""
) -> Response:
    """Forward a request to the deployment's workload, with the prefix stripped."""
    row = deployments.find(context.store, deployment_id)
    return _answer(context, row.workload_id, request)
