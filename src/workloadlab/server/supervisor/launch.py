"""The spec a start runs: the artifact's runnable spec, sized by the workload's runtime, with
the security settings of the spec as written (current generation) on its containers.

Every start reads it here (a workload's instance, each further replica, a rolling change's or a
replacement's candidates), in memory only: nothing stored changes, so what a v2.41 workload
runs, and every digest, is as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workloadlab.models import ArtifactSpec
from workloadlab.models.current import SecurityContext
from workloadlab.server.runtimes.security import SecuredContainer
from workloadlab.server.store import ArtifactRow, Store
from workloadlab.server.supervisor.sizing import sized


def contexts(wire: Mapping[str, Any] | None) -> dict[str, SecurityContext]:
    """``{container name: its securityContext}`` in a spec as written (``None``: none)."""
    found: dict[str, SecurityContext] = {}
    for group in (wire or {}).get("containerGroups", [])[:1]:  # one group per artifact locally
        for container in group.get("containers", []):
            written = container.get("securityContext")
            if written is not None:
                found[str(container.get("name"))] = SecurityContext.model_validate(written)
    return found


def secured(spec: ArtifactSpec, wire: Mapping[str, Any] | None) -> ArtifactSpec:
    """``spec`` with each container that the spec as written gives a ``securityContext`` as a
    :class:`SecuredContainer`; unchanged without any."""
    given = contexts(wire)
    if not given:
        return spec
    groups = []
    for group in spec.container_groups:
        containers = [
            SecuredContainer.model_construct(
                **dict(container), security_context=given[container.name or "primary"]
            )
            if (container.name or "primary") in given
            else container
            for container in group.containers
        ]
        groups.append(group.model_copy(update={"containers": containers}))
    return spec.model_copy(update={"container_groups": groups})


def spec_to_run(
    store: Store, artifact: ArtifactRow, runtime: Mapping[str, Any] | None
) -> ArtifactSpec:
    """What a start of ``artifact`` for a workload with ``runtime`` runs (before its
    references are resolved)."""
    spec = sized(ArtifactSpec.model_validate(artifact.spec), runtime)
    return secured(spec, store.wire_spec(artifact.id))
