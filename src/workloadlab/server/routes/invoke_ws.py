"""WebSockets to ``/endpoints/{workloads,deployments}/{id}/...``: the invoke proxy's upgrade.

The same URLs as the HTTP invoke routes (:mod:`~workloadlab.server.routes.invoke`), the same
token (checked on the upgrade by the auth middleware, never passed to the app), the same path
and query after the prefix for the app. Anything that stops the socket from opening (no such
workload, not running, busy, timeouts, an app that refuses) is an HTTP answer to the upgrade
(ASGI's ``websocket.http.response``, which uvicorn implements) in the words of the HTTP routes.
Once the app has accepted, the caller's connection and the app's are one byte tunnel:
:mod:`workloadlab.server.proxy_ws` (the app's side), :mod:`workloadlab.server.proxy_tunnel`
(the caller's side, uvicorn's WebSocket protocol with the ``workloadlab.tunnel`` extension).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio
from fastapi import APIRouter
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send

from workloadlab.server.context import ServerContext
from workloadlab.server.operations import deployments, workloads
from workloadlab.server.problems import Problem, refuse_upgrade
from workloadlab.server.proxy_tunnel import TUNNEL
from workloadlab.server.proxy_ws import AppRefused, app_upgrade
from workloadlab.server.routes.invoke import app_target

router = APIRouter()

DENIAL = "websocket.http.response"
"""The ASGI extension that lets an app answer an upgrade with an HTTP answer of its own."""


class SocketEndpoint:
    """The ASGI endpoint of one kind of invoke URL; ``workload_of(context, id)`` finds the
    workload behind the URL's id."""

    def __init__(self, param: str, workload_of: Callable[[ServerContext, str], str]) -> None:
        self._param = param
        self._workload_of = workload_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context: ServerContext = scope["app"].state.context
        if (await receive())["type"] != "websocket.connect":
            return
        if TUNNEL not in scope.get("extensions", {}):
            detail = "This server cannot pass WebSockets on: serve it with `workloadlab serve`"
            await refuse_upgrade(scope, send, 501, detail)
            return
        lease = None
        with context.proxy.exchange() as exchange:
            watcher = asyncio.create_task(_until_gone(receive, exchange))
            try:
                found = self._workload_of(context, scope["path_params"][self._param])
                workload_id, lease = workloads.invoke_target(
                    context.store, context.supervisor, found
                )
                target = app_target(scope)
                async with app_upgrade(
                    context.proxy, workload_id, lease.target, target, scope["headers"]
                ) as upgraded:
                    await send({"type": f"{TUNNEL}.open", "head": upgraded.head,
                                "socket": upgraded.sock})  # fmt: skip
                    await anyio.sleep_forever()  # the bytes pass beside the app until the end
            except Problem as problem:
                headers = [
                    (k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()
                ]
                await refuse_upgrade(scope, send, problem.status_code, str(problem.detail), headers)
            except AppRefused as refused:
                await send({"type": f"{DENIAL}.start", "status": refused.status_code,
                            "headers": refused.headers})  # fmt: skip
                await send({"type": f"{DENIAL}.body", "body": refused.body})
            finally:
                watcher.cancel()
                if lease is not None:
                    lease.release()


async def _until_gone(receive: Receive, exchange: anyio.CancelScope) -> None:
    """Cancel ``exchange`` once the caller's connection has ended, whenever that is: while
    the app has not answered the upgrade yet (its slot is freed at once, not after the read
    timeout), while the tunnel is open, or when the server stops (uvicorn ends the connection)."""
    while (await receive())["type"] != "websocket.disconnect":
        pass
    exchange.cancel()


def _workload(context: ServerContext, workload_id: str) -> str:
    return workload_id


def _deployed(context: ServerContext, deployment_id: str) -> str:
    return deployments.find(context.store, deployment_id).workload_id


for kind, param, workload_of in (
    ("workloads", "workload_id", _workload),
    ("deployments", "deployment_id", _deployed),
):
    endpoint = SocketEndpoint(param, workload_of)
    for path in (f"/endpoints/{kind}/{{{param}}}", f"/endpoints/{kind}/{{{param}}}/{{path:path}}"):
        router.routes.append(WebSocketRoute(path, endpoint))  # an ASGI app: scope, receive, send
