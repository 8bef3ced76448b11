"""A container's ``securityContext`` in the Docker Engine API's words (its ``HostConfig``).

- ``allowPrivilegeEscalation: false`` → ``SecurityOpt: ["no-new-privileges"]``;
- ``capabilities.add`` / ``drop`` → ``CapAdd`` / ``CapDrop``, the names as written (Kubernetes'
  ``NET_ADMIN``; engines take them with or without ``CAP_``; one the engine does not know fails
  the start with its answer);
- ``readOnlyRootFilesystem: true`` → ``ReadonlyRootfs``. Nothing is mounted for the image to
  write in: podman mounts tmpfs at ``/tmp``, ``/var/tmp`` and ``/run`` of a read-only container
  by itself, dockerd does not, and both give ``/dev/shm``. An image that writes elsewhere fails,
  as it would under Kubernetes without a volume;
- ``seccompProfile``: ``Unconfined`` → ``seccomp=unconfined``; ``RuntimeDefault`` → the engine's
  default profile; ``Localhost`` is kept but **not applied** (the engine's default profile runs:
  the profile's file is on DataRobot's nodes, not here), which the server's log says at start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from workloadlab.models.current import SecurityContext

logger = logging.getLogger("workloadlab.server")


@dataclass(frozen=True)
class Hardening:
    """The ``HostConfig`` fields a container's security settings set (defaults: none)."""

    security_opt: list[str] = field(default_factory=list)
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    read_only: bool = False


def hardening(context: SecurityContext | None, container_name: str) -> Hardening:
    """What the engine is asked for a container with ``context`` (``None``: nothing)."""
    if context is None:
        return Hardening()
    options = []
    if context.allow_privilege_escalation is False:
        options.append("no-new-privileges")
    profile = context.seccomp_profile
    if profile is not None and profile.type == "Unconfined":
        options.append("seccomp=unconfined")
    elif profile is not None and profile.type == "Localhost":
        logger.warning(
            "container %r: seccompProfile Localhost is not applied locally; it runs with the"
            " engine's default seccomp profile",
            container_name,
        )
    capabilities = context.capabilities
    return Hardening(
        security_opt=options,
        cap_add=list(capabilities.add or []) if capabilities else [],
        cap_drop=list(capabilities.drop or []) if capabilities else [],
        read_only=context.read_only_root_filesystem is True,
    )
