"""The local server's ASGI app: the Workload API under ``/api/v2`` with bearer auth.

:func:`create_app` builds the app; its lifespan owns the store, the runtime, the supervisor and
the invoke proxy, so two apps (two data dirs) can live in one process, as tests do. Auth and
trailing-slash handling are one pure ASGI middleware, in front of routing; the body size limit
(:mod:`workloadlab.server.limits`) is the next one.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from workloadlab._version import __version__
from workloadlab.server.context import ServerContext
from workloadlab.server.limits import BodyLimitMiddleware
from workloadlab.server.openapi import DOCS_ASSETS, DOCS_PATH, install_openapi
from workloadlab.server.operations import workloads as workloads_operations
from workloadlab.server.problems import install_handlers, refuse_upgrade, send_problem
from workloadlab.server.proxy import InvokeProxy
from workloadlab.server.routes import (
    artifacts,
    credentials,
    current,
    deployments,
    events,
    identity,
    invoke,
    invoke_ws,
    logs,
    preflight,
    workloads,
)
from workloadlab.server.runtimes import make_runtime
from workloadlab.server.secrets import Secrets
from workloadlab.server.settings import ServerSettings
from workloadlab.server.store import Store
from workloadlab.server.supervisor import Supervisor
from workloadlab.server.views import API_PREFIX, REQUESTED_PATH

logger = logging.getLogger("workloadlab.server")

PUBLIC_PATHS = frozenset({f"{API_PREFIX}/openapi.json", DOCS_PATH})
INVOKE_PREFIX = f"{API_PREFIX}/endpoints/"
AUTH_SCHEMES = frozenset({b"bearer", b"token"})
"""Authorization schemes the token is accepted with (compared lower-case)."""


class BearerAuthMiddleware:
    """Answers ``401`` unless the request carries ``Authorization: Bearer <token>`` (or
    ``Token <token>``, the scheme DataRobot's SDK sends by default and DataRobot accepts), a
    WebSocket upgrade (the invoke proxy's) included; also
    accepts every API path with or without its trailing slash (no redirects; the path as
    written stays in the scope, under ``REQUESTED_PATH``, for the links of list answers)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the invoke proxy's upgrades: the same token
            if self._authorized(scope):
                await self.app(scope, receive, send)
            else:
                await self._deny(send, scope)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        public = path in PUBLIC_PATHS or path.startswith(DOCS_ASSETS)
        if not public and not self._authorized(scope):
            await self._deny(send, None)
            return
        if len(path) > 1 and path.endswith("/") and not path.startswith(INVOKE_PREFIX):
            scope = dict(scope, path=path.rstrip("/"), **{REQUESTED_PATH: path})
        await self.app(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                return scheme.lower() in AUTH_SCHEMES and hmac.compare_digest(
                    credentials.strip(), self._token
                )
        return False

    @staticmethod
    async def _deny(send: Send, upgrade: Scope | None) -> None:
        """``401``; ``upgrade``: the scope of a WebSocket upgrade, refused as such."""
        detail = "Missing or invalid API token: send 'Authorization: Bearer <token>'"
        headers = [(b"www-authenticate", b"Bearer")]
        if upgrade is not None:
            await refuse_upgrade(upgrade, send, 401, detail, headers)
        else:
            await send_problem(send, 401, detail, headers)


def api_base_url(settings: ServerSettings) -> str:
    """The API's base URL (``…/api/v2``) for the server's own workloads (``api-key``
    variables): ``public_url`` if set, else the address it listens on (loopback when it listens
    on every address)."""
    if settings.public_url:
        return f"{settings.public_url.rstrip('/')}{API_PREFIX}"
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}{API_PREFIX}"


API_GENERATIONS = ("v2.41", "current")
"""The API generations a server can serve (one per server: ``--api``)."""


def profile_routers(api: str) -> tuple[tuple[APIRouter, Sequence[Any]], ...]:
    """The routers of one API generation, then what both share (credentials, logs, invoke),
    each with the dependencies its routes get in this generation (the current one refuses
    the logs' and credentials' query parameters the server does not take, naming them)."""
    if api not in API_GENERATIONS:
        raise ValueError(f"unknown API generation {api!r}: one of {', '.join(API_GENERATIONS)}")
    if api == "current":
        strict = [Depends(current.unknown_parameters_refused)]
        shared: tuple[tuple[APIRouter, Sequence[Any]], ...] = (
            (logs.router, strict),
            (credentials.router, strict),
            (invoke.router, []),
            (invoke_ws.router, []),
            (identity.router, []),
            (preflight.router, []),
        )
        return (*((router, []) for router in current.ROUTERS), *shared)
    own = (
        workloads,
        artifacts,
        deployments,
        events,
        logs,
        credentials,
        invoke,
        invoke_ws,
        identity,
        preflight,
    )
    return tuple((module.router, []) for module in own)


def begin_shutdown(app: object) -> None:
    """Answer the requests waiting for a change now and cut the invoke proxy's streams and
    sockets: the server is about to stop, and it waits for open requests before it stops its
    workloads. (``app`` as :func:`create_app` made it;
    anything else, or an app whose lifespan has not started, is left alone.)"""
    context = getattr(getattr(app, "state", None), "context", None)
    if isinstance(context, ServerContext):
        context.changes.close()
        context.proxy.interrupt()


def create_app(
    settings: ServerSettings,
    token: str,
    *,
    on_started: Callable[[], None] | None = None,
    on_stopped: Callable[[], None] | None = None,
) -> FastAPI:
    """The local Workload API server for ``settings``, accepting ``token``.

    ``on_started`` runs once the supervisor has adopted or restarted what should run (the CLI
    writes its connection file then); ``on_stopped`` once every workload has been stopped.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.make_data_dir_private()
        store = Store(settings.database_path)
        runtime = make_runtime(settings)
        secrets = Secrets(store, token, endpoint=partial(api_base_url, settings))
        supervisor = Supervisor(store, runtime, settings, secrets=secrets)
        proxy = InvokeProxy(settings.invoke, supervisor.targets)
        context = ServerContext(settings, store, supervisor, proxy)
        store.on_commit = context.changes.notify
        app.state.context = context
        await supervisor.start(expire=partial(workloads_operations.expire, store, supervisor))
        if on_started is not None:
            on_started()
        try:
            yield
        finally:
            logger.info("stopping every workload (grace %.0f s)", settings.timings.grace_period)
            await supervisor.shutdown()
            await proxy.aclose()
            store.close()
            if on_stopped is not None:
                on_stopped()

    app = FastAPI(
        title="workloadlab local Workload API",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served offline by install_openapi
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
        generate_unique_id_function=lambda route: route.name,  # operation ids: create_workload...
    )
    install_handlers(app, settings.data_dir)
    install_openapi(app)
    for router, dependencies in profile_routers(settings.api):
        app.include_router(router, prefix=API_PREFIX, dependencies=dependencies)
    app.add_middleware(
        BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes, unlimited_prefix=INVOKE_PREFIX
    )
    app.add_middleware(BearerAuthMiddleware, token=token)  # outermost: before any body is read
    return app
