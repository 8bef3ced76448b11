"""``AsyncClient``: the one way the package (magics, panel, notebooks) talks to the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from workloadlab._version import __version__
from workloadlab.client._http import AuthTransport, Requester
from workloadlab.client._transport import network_transport
from workloadlab.client.config import SslVerify, resolve_config
from workloadlab.client.generations import ApiResolver, requested_generation
from workloadlab.client.local import ensure_server
from workloadlab.client.paths import Generation
from workloadlab.client.resources.artifacts import Artifacts
from workloadlab.client.resources.credentials import Credentials
from workloadlab.client.resources.deployments import Deployments
from workloadlab.client.resources.preflight import Preflight
from workloadlab.client.resources.repositories import Repositories
from workloadlab.client.resources.workloads import Workloads
from workloadlab.client.waiting import Polling
from workloadlab.connection import default_data_dir
from workloadlab.models.local import LocalServer

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s to answer, 5 s to connect; per request, ``invoke(..., timeout=...)`` overrides it."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=32)

USER_AGENT = f"workloadlab/{__version__} httpx/{httpx.__version__}"


class AsyncClient:
    """An async client of the Workload API: ``client.workloads``, ``.artifacts``,
    ``.deployments`` (v2.41), ``.repositories`` (current generation) and ``.credentials``.

    ``endpoint`` and ``token`` default to ``DATAROBOT_ENDPOINT``/``DATAROBOT_API_TOKEN``, then
    drconfig.yaml, then a running local server (see :mod:`workloadlab.client.config`), never a
    token from one place with an endpoint from another. ``ssl_verify`` (``False`` or a CA bundle
    path) and ``token_type`` (``Bearer`` or ``Token``) override the configured ones; proxies
    come from ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` (loopback is never
    proxied). :meth:`local` finds or starts the local server. Use it as
    ``async with AsyncClient() as client:`` or call :meth:`aclose`. ``transport`` is the test
    seam (e.g. ``httpx.ASGITransport``).

    ``api`` is the generation of the Workload API the server speaks: ``"v2.41"``,
    ``"current"`` or ``"auto"`` (the default: ``DATAROBOT_WORKLOAD_API`` if set, else asked of
    the server once, on the first call that needs it; :meth:`generation` says which).
    """

    workloads: Workloads
    artifacts: Artifacts
    deployments: Deployments
    repositories: Repositories
    credentials: Credentials
    preflight: Preflight

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        polling: Polling | None = None,
        api: str = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
        ssl_verify: SslVerify | None = None,
        token_type: str | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        forced = requested_generation(api)
        config = resolve_config(endpoint, token, ssl_verify=ssl_verify, token_type=token_type)
        self._endpoint = config.endpoint
        self._config_source = config.source
        # The token is kept by the transport alone, which sets it on the wire only.
        self._http = httpx.AsyncClient(
            base_url=config.endpoint + "/",
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            transport=(
                auth := AuthTransport(
                    transport or network_transport(config.ssl_verify, DEFAULT_LIMITS),
                    token=config.token,
                    endpoint=config.endpoint,
                    token_type=config.token_type,
                )
            ),
            follow_redirects=False,
        )
        self._requester = Requester(self._http, max_retries=max_retries, auth=auth)
        polling = polling or Polling()
        self._api = ApiResolver(self._requester, forced)
        self.workloads = Workloads(self._requester, self._api, polling)
        self.artifacts = Artifacts(self._requester, self._api)
        self.deployments = Deployments(self._requester, self._api, polling, self.artifacts)
        self.repositories = Repositories(self._requester, self._api)
        self.credentials = Credentials(self._requester, self._api)
        self.preflight = Preflight(self._requester, self._api)

    @classmethod
    def local(
        cls, data_dir: str | Path | None = None, *, start_timeout: float = 20.0, **options: Any
    ) -> _LocalClient:
        """A client of the local server using ``data_dir``, started (detached) if none answers.

        ``await AsyncClient.local()`` or ``async with AsyncClient.local() as client:``. The
        server outlives the kernel (its pid is in ``server.json``). ``options`` go to the
        constructor (``timeout``, ``polling``, ...).
        """
        directory = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()

        async def connect() -> AsyncClient:
            connection = await ensure_server(directory, timeout=start_timeout)
            client = cls(connection.endpoint, connection.token, **options)
            client._config_source = f"local server ({directory})"
            return client

        return _LocalClient(connect)

    @property
    def endpoint(self) -> str:
        """The API base URL, ending in ``/api/v2``."""
        return self._endpoint

    @property
    def config_source(self) -> str:
        """Where the endpoint and token came from (``arguments``, ``$DATAROBOT_ENDPOINT``, ...)."""
        return self._config_source

    async def generation(self) -> Generation:
        """The generation of the Workload API the server speaks (``Generation.V2_41`` or
        ``Generation.CURRENT``, strings ``"v2.41"``/``"current"``): the one given, else asked
        of the server on the first call (``GET …/workloads/?limit=1``) and remembered."""
        return await self._api.generation()

    async def local_server(self) -> LocalServer | None:
        """Who answers: workloadlab's local server (its name, version, API generation and
        runtime), or ``None`` for another server (DataRobot); asked once (``GET
        …/localServer``) and remembered."""
        return await self._api.local_server()

    @property
    def max_retries(self) -> int:
        """How often a retryable request is retried."""
        return self._requester.max_retries

    def __repr__(self) -> str:
        return f"AsyncClient(endpoint={self.endpoint!r}, token=***)"

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._http.is_closed

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _LocalClient:
    """What :meth:`AsyncClient.local` returns: awaitable, or an async context manager."""

    def __init__(self, connect: Callable[[], Awaitable[AsyncClient]]) -> None:
        self._connect = connect
        self._client: AsyncClient | None = None

    def __await__(self) -> Generator[Any, None, AsyncClient]:
        return self._connect().__await__()

    async def __aenter__(self) -> AsyncClient:
        self._client = await self._connect()
        return self._client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
