"""A container's ``securityContext`` on its way to a runtime.

The runnable spec every part of the server runs (v2.41's :class:`~workloadlab.models.ArtifactSpec`,
``artifacts.spec``) has no ``securityContext``: v2.41 has none, and the current generation keeps
it only in the spec as written (``artifact_wire_specs``). At each start the supervisor copies it
onto the containers it hands to the runtime (in memory only, as it does a runtime's resource
allocation): a :class:`SecuredContainer` is a :class:`~workloadlab.models.Container` with the
context beside it. The container runtime applies it where the engine can; the process runtime
ignores it (a host process has no such settings).
"""

from __future__ import annotations

from workloadlab.models import Container
from workloadlab.models.current import SecurityContext


class SecuredContainer(Container):
    """A container to start with the security settings its spec as written asks for."""

    security_context: SecurityContext | None = None


def security_context(container: Container) -> SecurityContext | None:
    """The security settings to start ``container`` with (``None``: the engine's defaults)."""
    return container.security_context if isinstance(container, SecuredContainer) else None
