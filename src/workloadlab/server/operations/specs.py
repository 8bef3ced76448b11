"""A current-generation artifact spec as stored: as written, and as it runs.

The current generation's spec is kept as the client wrote it (``artifact_wire_specs``), with
the defaults it implies filled in (a group's name, the primary container's name) and the
read-only ``build`` and ``type`` left out. What runs is its *runnable projection*: the
containers without what v2.41 does not have (``securityContext``, which each start takes from
the spec as written: :mod:`workloadlab.server.supervisor.launch`; ``imageBuildConfig``, not
acted on), probes with the current generation's defaults, validated by v2.41's
:class:`~workloadlab.models.ArtifactSpec`, whose rules (one primary, its port, unique names,
variables, probe bounds) both generations share. Errors keep their field paths: the projection
has the same indices as the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from workloadlab.models import ArtifactSpec
from workloadlab.models.current import CurrentArtifactSpec
from workloadlab.server.problems import Invalid

NOT_RUN = ("securityContext", "imageBuildConfig", "build")
"""Container fields left out of the runnable projection (a start reads ``securityContext``
from the spec as written)."""
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
PROBE_DEFAULTS = {
    "initialDelaySeconds": 30,
    "periodSeconds": 30,
    "timeoutSeconds": 30,
    "failureThreshold": 3,
    "successThreshold": 1,
}
"""The current generation's probe defaults (applied when probing; the spec keeps what was sent).
A probe without ``port`` probes its container's port, as in v2.41."""
UNBUILT = "workloadlab.invalid/unbuilt"
"""The image of a container that has only an ``imageBuildConfig``: it cannot start locally."""


def whole_numbers(value: Any) -> Any:
    """``value`` with its whole floats as integers (``30``, not ``30.0``, as clients send
    probe seconds and cores): what a strict float field made of an integer goes back as one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: whole_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [whole_numbers(item) for item in value]
    return value


def wire_form(spec: CurrentArtifactSpec) -> dict[str, Any]:
    """The spec as stored and answered: as written, with the implied names filled in."""
    wire: dict[str, Any] = whole_numbers(
        spec.model_dump(mode="json", by_alias=True, exclude_unset=True)
    )
    wire.pop("type", None)
    for group, model in zip(wire["containerGroups"], spec.container_groups, strict=True):
        group["name"] = model.name
        for container, written in zip(group["containers"], model.containers, strict=True):
            container.pop("build", None)
            if written.primary and written.name is None:
                container["name"] = "primary"
    return wire


def runnable(wire: dict[str, Any], at: Sequence[str | int]) -> dict[str, Any]:
    """The runnable projection of a stored spec (the v2.41 form every part of the server
    runs), or :class:`Invalid` at the field (under ``at``) that breaks a shared rule."""
    groups = []
    for group in wire["containerGroups"]:
        containers = []
        for container in group["containers"]:
            runs = {key: value for key, value in container.items() if key not in NOT_RUN}
            runs.setdefault("imageUri", UNBUILT)
            for probe in PROBES:
                if runs.get(probe):
                    runs[probe] = {**PROBE_DEFAULTS, **runs[probe]}
            containers.append(runs)
        groups.append({"containers": containers})
    try:
        spec = ArtifactSpec.model_validate({"containerGroups": groups})
    except ValidationError as exc:
        raise Invalid(
            [
                {"loc": [*at, *error["loc"]], "msg": error["msg"], "type": error["type"]}
                for error in exc.errors(include_url=False, include_input=False)
            ]
        ) from None
    projected: dict[str, Any] = spec.model_dump(mode="json", by_alias=True)
    return projected


def unbuilt_containers(wire: dict[str, Any]) -> list[str]:
    """The names of the containers without an ``imageUri`` (they cannot start locally)."""
    return [
        str(container.get("name"))
        for group in wire["containerGroups"]
        for container in group["containers"]
        if not container.get("imageUri")
    ]


def group_names(wire: dict[str, Any]) -> dict[str, set[str]]:
    """Each container group's name and the names of its containers (runtime entries match)."""
    return {
        group["name"]: {str(container.get("name")) for container in group["containers"]}
        for group in wire["containerGroups"]
    }
