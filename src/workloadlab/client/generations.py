"""Which generation of the Workload API a server speaks (``workload-api-current.md`` §1).

``AsyncClient(api=...)`` wins, then ``DATAROBOT_WORKLOAD_API``, then detection: once per client
(a client has one endpoint), on the first call that needs a generation-specific path, one
``GET {endpoint}/workloads/?limit=1`` — ``200`` is the current generation, ``404`` v2.41 (whose
workloads live at ``/console/workloads/``). Any other outcome (``401``, ``403``, ``5xx`` after
the usual retries, no connection) is raised and not remembered, so the next call asks again.
Concurrent first calls share one detection. Calls whose paths both generations spell alike
(invoke, logs, credentials) never detect.

Whether the server is workloadlab's local server is asked likewise, once, when something needs
to know (live sync; a body with ``localMounts``): ``GET {endpoint}/localServer``, a path
DataRobot does not have (:mod:`workloadlab.models.local`).
"""

from __future__ import annotations

import asyncio
import os

from workloadlab import errors
from workloadlab.client._http import Requester
from workloadlab.client.paths import PATHS, ApiPaths, Generation
from workloadlab.models.local import LOCAL_SERVER_NAME, LocalServer

API_ENV = "DATAROBOT_WORKLOAD_API"
AUTO = "auto"
PROBE = "workloads/"
"""The path whose answer tells the generations apart (``200``: current, ``404``: v2.41)."""
IDENTITY = "localServer"
"""The local server's identity (a path only it has)."""
NOT_LOCAL_STATUSES = frozenset({400, 403, 404, 405})
"""Answers to :data:`IDENTITY` that mean another server (DataRobot), not a failure."""


def requested_generation(api: str | None) -> Generation | None:
    """The generation ``api`` (else ``$DATAROBOT_WORKLOAD_API``) forces; ``None`` for
    ``auto`` or nothing set. Anything else is a :class:`~workloadlab.errors.ConfigError`."""
    source = "api="
    if api is None or api == AUTO:
        setting = os.environ.get(API_ENV, "").strip()
        if not setting or setting == AUTO:
            return None
        api, source = setting, f"${API_ENV}="
    try:
        return Generation(api)
    except ValueError:
        choices = ", ".join([AUTO, *(g.value for g in Generation)])
        raise errors.ConfigError(
            f"{source}{api!r} is not a Workload API generation; use one of {choices}"
        ) from None


class ApiResolver:
    """The paths of the generation a client's server speaks: forced, or detected once."""

    def __init__(self, requester: Requester, forced: Generation | None) -> None:
        self._requester = requester
        self._known = forced
        self.forced = forced is not None
        """Whether the generation was given (argument or environment) rather than detected."""
        self._lock = asyncio.Lock()
        self._identity: tuple[LocalServer | None] | None = None

    @property
    def known(self) -> Generation | None:
        """The generation, if it was given or already detected."""
        return self._known

    async def generation(self) -> Generation:
        """The server's generation (detected on the first call if it was not given)."""
        if self._known is not None:
            return self._known
        async with self._lock:
            if self._known is None:
                self._known = await self._detect()
        return self._known

    async def paths(self) -> ApiPaths:
        """The paths of the server's generation."""
        return PATHS[await self.generation()]

    async def local_server(self) -> LocalServer | None:
        """The local server's identity, or ``None`` when the server is another one (asked
        once; a failure to ask is raised and not remembered)."""
        if self._identity is None:
            async with self._lock:
                if self._identity is None:
                    self._identity = (await self._identify(),)
        return self._identity[0]

    async def _identify(self) -> LocalServer | None:
        try:
            response = await self._requester.request("GET", IDENTITY)
        except errors.APIStatusError as exc:
            if exc.status_code in NOT_LOCAL_STATUSES:
                return None
            raise
        try:
            found = LocalServer.model_validate(response.json())
        except ValueError:  # not JSON, or not the identity's shape: another server
            return None
        return found if found.name == LOCAL_SERVER_NAME else None

    async def _detect(self) -> Generation:
        try:
            response = await self._requester.request("GET", PROBE, params={"limit": 1})
        except errors.NotFoundError:
            return Generation.V2_41
        if response.is_success:
            return Generation.CURRENT
        request = response.request
        raise errors.APIResponseValidationError(
            f"{request.method} {request.url} answered {response.status_code}: cannot tell which"
            f" Workload API generation the server speaks (set {API_ENV} to v2.41 or current)",
            method=request.method,
            url=str(request.url),
        )
