"""What only workloadlab's local server has: its identity, and a container's local mounts.

**Identity.** ``GET /localServer`` answers :class:`LocalServer` (name, version, API generation,
runtime, working directory). DataRobot has no such path, so a client learns from one request
whether it talks to the local server (live sync refuses anywhere else: code there changes with
an image build).

**Local mounts** (``localMounts`` on a container, in both API generations) bind-mount a
directory of the server's machine into the container, so that the container runtime runs the
app's files as they are on disk (``%workload sync`` restarts it when they change). The process
runtime needs none (its process runs from the host's files) and ignores them. They are this
machine's files: a registered (locked) artifact cannot have any (``422`` at the field), and the
client refuses to send one to a server that is not the local server.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, StrictBool

from workloadlab.models.base import RequestModel, WireModel

LOCAL_MOUNTS = "localMounts"
"""The container field (wire name) of the local mounts."""
MAX_LOCAL_MOUNTS = 16
ABSOLUTE_PATH = r"^/[^\x00]*$"
LOCAL_SERVER_NAME = "workloadlab"
"""What :attr:`LocalServer.name` says."""


class LocalMount(RequestModel):
    """A directory of the server's machine (``source``) seen at ``target`` in the container;
    read-only unless ``readOnly`` is ``false``."""

    source: str = Field(pattern=ABSOLUTE_PATH, max_length=4096)
    target: str = Field(pattern=ABSOLUTE_PATH, max_length=4096)
    read_only: StrictBool = True


def local_mounts_field() -> Any:
    """The ``localMounts`` field of a container model (left out of dumps when not given, so
    digests of specs without it are unchanged)."""
    return Field(
        default=None,
        max_length=MAX_LOCAL_MOUNTS,
        exclude_if=lambda value: value is None,
        description="Local-server extension: directories of the server's machine bind-mounted"
        " into the container (container runtime; the process runtime runs from the host's"
        " files anyway). Refused on a registered artifact; never sent to DataRobot.",
    )


class LocalServer(WireModel):
    """``GET /localServer``: the local server's identity."""

    name: str
    version: str
    api: str
    """The API generation it serves (``v2.41`` or ``current``)."""
    runtime: str
    """How it runs workloads (``process`` or ``container``)."""
    working_dir: str | None = None
    """Where its processes start (a relative entrypoint path is relative to it)."""


def mounted_containers(spec: Mapping[str, Any]) -> Iterator[tuple[int, int, list[Any]]]:
    """``(group index, container index, its local mounts)`` of each container of a wire spec
    that has local mounts."""
    groups = spec.get("containerGroups")
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        containers = group.get("containers") if isinstance(group, dict) else None
        for c, container in enumerate(containers if isinstance(containers, list) else []):
            mounts = container.get(LOCAL_MOUNTS) if isinstance(container, dict) else None
            if mounts:
                yield g, c, list(mounts)
