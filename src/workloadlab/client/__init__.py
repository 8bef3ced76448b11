"""The async client of the Workload API (``workload-api.md``).

``async with AsyncClient() as client:`` then ``client.workloads``, ``client.artifacts``,
``client.deployments`` (v2.41), ``client.repositories`` (current) and ``client.credentials``,
on either generation of DataRobot's Workload API (``AsyncClient(api=...)``, ``await
client.generation()``); every method returns models from
:mod:`workloadlab.models` and raises exceptions from :mod:`workloadlab.errors`.
``client.workloads.lock_readiness(id)`` answers whether a workload may be locked and deployed
(a :class:`Readiness`: ordered :class:`Check` items and a verdict).
``client.workloads.stream(id, path)`` yields an app's :class:`ServerSentEvent` as they come, and
``client.workloads.websocket(id, path)`` opens a WebSocket to it (deployments alike).
"""

from workloadlab.client._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncClient
from workloadlab.client.config import ClientConfig, resolve_config
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import ApiPaths, Generation
from workloadlab.client.readiness import Check, CheckName, Readiness
from workloadlab.client.resources.artifacts import ArtifactVersion
from workloadlab.client.sse import ServerSentEvent
from workloadlab.client.waiting import Observation, Polling

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ApiPaths",
    "ArtifactVersion",
    "AsyncClient",
    "AsyncPager",
    "Check",
    "CheckName",
    "ClientConfig",
    "Generation",
    "Observation",
    "Polling",
    "Readiness",
    "ServerSentEvent",
    "resolve_config",
]
