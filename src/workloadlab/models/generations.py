"""Neutral bodies in v2.41's words, and what v2.41 cannot say (``workload-api-current.md`` §8).

The neutral models hold the union of both generations, and a body read from a server goes back
to it as it came. A body *made* in neutral words and sent to a v2.41 server needs v2.41's
words: ``locked`` is ``registered``, memory strings are bytes. What v2.41 has no way to say is
refused here, before anything is sent, naming the field: ``gpuMemory``; ``nim`` and ``agent``
artifacts; and credential and API-key variables on a server that does not take them (DataRobot's
v2.41; the local server's v2.41 profile takes them, ``workload-api.md`` §8). Everything else,
unknown keys included, passes unchanged: v2.41 may know more than this package does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from workloadlab.models.status import (
    ArtifactStatus,
    ArtifactType,
)
from workloadlab.models.units import memory_bytes

V241_WORDS = {
    "status": {ArtifactStatus.LOCKED.value: ArtifactStatus.REGISTERED.value},
    "type": {ArtifactType.SERVICE.value: ArtifactType.GENERIC.value},
}
"""Neutral (current) words and v2.41's for the same thing."""
CURRENT_ONLY_TYPES = frozenset({ArtifactType.NIM.value, ArtifactType.AGENT.value})
REFERENCE_SOURCES = frozenset({"dr-credential", "api-key"})


class NotExpressibleError(ValueError):
    """A body has a field the server's API generation cannot express; nothing was sent."""


def for_v241(body: Mapping[str, Any], *, credentials: bool) -> dict[str, Any]:
    """An artifact, create-workload or artifact-update body in v2.41's words (a copy);
    :class:`NotExpressibleError` naming the first field v2.41 cannot express. ``credentials``:
    whether the server takes ``dr-credential`` and ``api-key`` variables."""
    wire = copy.deepcopy(dict(body))
    _artifact(wire, "", credentials=credentials)
    if isinstance(wire.get("artifact"), dict):
        _artifact(wire["artifact"], "artifact.", credentials=credentials)
    runtime = wire.get("runtime")
    for g, group in enumerate(
        _dicts(runtime.get("containerGroups") if isinstance(runtime, dict) else None)
    ):
        for c, container in enumerate(_dicts(group.get("containers"))):
            allocation = container.get("resourceAllocation")
            if isinstance(allocation, dict) and allocation.get("gpuMemory") is not None:
                where = f"runtime.containerGroups[{g}].containers[{c}].resourceAllocation.gpuMemory"
                raise NotExpressibleError(f"{where}: v2.41 has no GPU memory setting")
    return wire


def _artifact(wire: dict[str, Any], prefix: str, *, credentials: bool) -> None:
    for key, words in V241_WORDS.items():
        if isinstance(wire.get(key), str):
            wire[key] = words.get(wire[key], wire[key])
    if wire.get("type") in CURRENT_ONLY_TYPES:
        raise NotExpressibleError(f"{prefix}type: v2.41 has no {wire['type']!r} artifacts")
    spec = wire.get("spec")
    groups = spec.get("containerGroups") if isinstance(spec, dict) else None
    for g, group in enumerate(_dicts(groups)):
        for c, container in enumerate(_dicts(group.get("containers"))):
            where = f"{prefix}spec.containerGroups[{g}].containers[{c}]"
            _container(container, where, credentials=credentials)


def _container(container: dict[str, Any], where: str, *, credentials: bool) -> None:
    request = container.get("resourceRequest")
    if isinstance(request, dict) and isinstance(request.get("memory"), str):
        request["memory"] = memory_bytes(request["memory"])
    for v, variable in enumerate(_dicts(container.get("environmentVars"))):
        source = variable.get("source")
        if source in REFERENCE_SOURCES and not credentials:
            raise NotExpressibleError(
                f"{where}.environmentVars[{v}]: this v2.41 server takes no {source} variables"
                " (store the value in the spec, or use the current generation)"
            )


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
