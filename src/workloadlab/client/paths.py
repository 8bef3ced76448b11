"""The API's paths, relative to the endpoint, in one place.

``workload-api.md`` expects a second profile (DataRobot's newer ``/workloads/``, ``/artifacts/``
generation); it would be another :class:`ApiPaths` instance, passed as ``AsyncClient(paths=...)``.
Spellings (trailing slashes included) are the contract's.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class ApiPaths:
    """Path templates relative to the endpoint; ``{id}`` is the resource id."""

    workloads: str = "console/workloads/"
    workload: str = "console/workloads/{id}/"
    workload_start: str = "console/workloads/{id}/start"
    workload_stop: str = "console/workloads/{id}/stop"
    workload_events: str = "console/workloads/{id}/events"
    workload_logs: str = "otel/workload/{id}/logs/"
    workload_invoke: str = "endpoints/workloads/{id}/"
    artifacts: str = "registry/artifacts/"
    artifact: str = "registry/artifacts/{id}"
    deployments: str = "console/deployments/"
    deployment: str = "console/deployments/{id}/"
    deployment_events: str = "console/deployments/{id}/events"
    deployment_invoke: str = "endpoints/deployments/{id}/"
    credentials: str = "credentials/"
    credential: str = "credentials/{id}/"

    @staticmethod
    def fill(template: str, id: str) -> str:
        """The template with ``id`` put in, escaped so that it stays one path segment."""
        if not id:
            raise ValueError("an id is required (got an empty string)")
        return template.format(id=quote(id, safe=""))


V2_41 = ApiPaths()
"""The v2.41 generation that ``workload-api.md`` specifies and the local server serves."""
