"""The API's paths, relative to the endpoint, per generation of DataRobot's Workload API.

``workload-api.md`` specifies v2.41 (``/console/workloads/``, ``/registry/artifacts/``,
deployments); ``workload-api-current.md`` the current generation (``/workloads/``,
``/artifacts/``, repositories, settings, replacements, promote). Each is one :class:`ApiPaths`;
a route a generation lacks is ``None`` there, and :meth:`ApiPaths.template` turns asking for it
into :class:`~workloadlab.errors.NotSupportedError` that names the other generation's way.
Spellings (trailing slashes included) are the contracts'.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Literal
from urllib.parse import quote

from workloadlab.errors import NotSupportedError


class Generation(StrEnum):
    """A generation of DataRobot's Workload API."""

    V2_41 = "v2.41"
    """The preview generation: ``/console/workloads/``, ``registered`` artifacts, deployments."""
    CURRENT = "current"
    """Today's: ``/workloads/``, ``locked`` artifacts, promote, rolling replacements."""


Route = Literal[
    "workloads", "workload", "workload_start", "workload_stop", "workload_events",
    "workload_logs", "workload_invoke", "workload_settings", "workload_replacement",
    "workload_history", "workload_promote", "workload_protons", "artifacts", "artifact",
    "artifact_clone",
    "repositories", "repository", "deployments", "deployment", "deployment_events",
    "deployment_invoke", "credentials", "credential",
]  # fmt: skip
"""The name of one path template of :class:`ApiPaths`."""


@dataclass(frozen=True)
class ApiPaths:
    """Path templates relative to the endpoint; ``{id}`` is the resource id; ``None``: the
    generation has no such route."""

    generation: Generation
    workloads: str
    workload: str
    artifacts: str
    artifact: str
    workload_start: str
    workload_stop: str
    workload_events: str
    workload_logs: str = "otel/workload/{id}/logs/"
    workload_invoke: str = "endpoints/workloads/{id}/"
    workload_settings: str | None = None
    workload_replacement: str | None = None
    workload_history: str | None = None
    workload_promote: str | None = None
    workload_protons: str | None = None
    artifact_clone: str | None = None
    repositories: str | None = None
    repository: str | None = None
    deployments: str | None = None
    deployment: str | None = None
    deployment_events: str | None = None
    deployment_invoke: str | None = None
    credentials: str = "credentials/"
    credential: str = "credentials/{id}/"

    def template(self, route: Route) -> str:
        """The template of ``route``, or ``NotSupportedError`` if this generation lacks it."""
        template: str | None = getattr(self, route)
        if template is None:
            raise NotSupportedError(unsupported(route, self.generation))
        return template

    def url(self, route: Route, id: str | None = None) -> str:
        """The path of ``route``, with ``id`` put in if given."""
        template = self.template(route)
        return template if id is None else self.fill(template, id)

    @staticmethod
    def fill(template: str, id: str) -> str:
        """The template with ``id`` put in, escaped so that it stays one path segment."""
        if not id:
            raise ValueError("an id is required (got an empty string)")
        return template.format(id=quote(id, safe=""))


V2_41 = ApiPaths(
    generation=Generation.V2_41,
    workloads="console/workloads/",
    workload="console/workloads/{id}/",
    workload_start="console/workloads/{id}/start",
    workload_stop="console/workloads/{id}/stop",
    workload_events="console/workloads/{id}/events",
    artifacts="registry/artifacts/",
    artifact="registry/artifacts/{id}",
    deployments="console/deployments/",
    deployment="console/deployments/{id}/",
    deployment_events="console/deployments/{id}/events",
    deployment_invoke="endpoints/deployments/{id}/",
)
"""The v2.41 generation that ``workload-api.md`` specifies."""

CURRENT = ApiPaths(
    generation=Generation.CURRENT,
    workloads="workloads/",
    workload="workloads/{id}/",
    workload_start="workloads/{id}/start",
    workload_stop="workloads/{id}/stop",
    workload_events="workloads/{id}/events",
    workload_settings="workloads/{id}/settings",
    workload_replacement="workloads/{id}/replacement",
    workload_history="workloads/{id}/history",
    workload_promote="workloads/{id}/promote",
    workload_protons="workloads/{id}/protons",
    artifacts="artifacts/",
    artifact="artifacts/{id}/",
    artifact_clone="artifacts/{id}/clone",
    repositories="artifactRepositories/",
    repository="artifactRepositories/{id}/",
)
"""DataRobot's current generation that ``workload-api-current.md`` specifies."""

PATHS = {Generation.V2_41: V2_41, Generation.CURRENT: CURRENT}

SHARED: frozenset[Route] = frozenset(
    field.name  # type: ignore[misc]
    for field in fields(ApiPaths)
    if field.name != "generation" and getattr(V2_41, field.name) == getattr(CURRENT, field.name)
)
"""Routes spelled alike in both generations (invoke, logs, credentials): no need to know which
generation a server speaks to use them."""

_OTHER_WAY: dict[str, tuple[str, str]] = {
    "deployment": (
        "client.deployments",
        "use workloads.promote(id) to lock a running draft in place, or create a workload of a"
        " locked artifact",
    ),
    "workload_promote": (
        "workloads.promote",
        "lock the artifact with artifacts.lock(id) and deploy the workload with"
        " deployments.create(...)",
    ),
    "workload_settings": (
        "workloads.settings and update_settings",
        "a workload picks up edits with workloads.restart(id) (stop + start)",
    ),
    "workload_replacement": (
        "replacements",
        "a workload picks up edits with workloads.restart(id); deployments.update(id,"
        " artifact_id=...) moves a deployment to another version",
    ),
    "workload_history": ("workloads.history", "see workloads.events(id)"),
    "workload_protons": ("workload protons", "see workloads.get(id) and workloads.events(id)"),
    "artifact_clone": (
        "artifacts.clone",
        "create a new draft with artifacts.create(...) from the spec artifacts.get(id) returns",
    ),
    "repositor": (
        "client.repositories",
        "v2.41 groups versions in collections: see artifacts.versions(id)",
    ),
}


def unsupported(route: str, generation: Generation) -> str:
    """Why ``route`` is not there on a server of ``generation``, and what to do instead."""
    other = Generation.CURRENT if generation is Generation.V2_41 else Generation.V2_41
    label, hint = next(
        (found for prefix, found in _OTHER_WAY.items() if route.startswith(prefix)),
        (route.replace("_", " "), ""),
    )
    head = (
        f"{label}: only in the {other} generation of the Workload API, and this server speaks"
        f" {generation}"
    )
    return f"{head}; {hint}" if hint else head
