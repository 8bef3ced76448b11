"""The async client of the Workload API (``workload-api.md``).

``async with AsyncClient() as client:`` then ``client.workloads``, ``client.artifacts``,
``client.deployments`` and ``client.credentials``; every method returns models from
:mod:`workloadlab.models` and raises exceptions from :mod:`workloadlab.errors`.
"""

from workloadlab.client._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncClient
from workloadlab.client.config import ClientConfig, resolve_config
from workloadlab.client.pagination import AsyncPager
from workloadlab.client.paths import ApiPaths
from workloadlab.client.resources.artifacts import ArtifactVersion
from workloadlab.client.waiting import Observation, Polling

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ApiPaths",
    "ArtifactVersion",
    "AsyncClient",
    "AsyncPager",
    "ClientConfig",
    "Observation",
    "Polling",
    "resolve_config",
]
