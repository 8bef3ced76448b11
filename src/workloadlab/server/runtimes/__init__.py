"""Runtimes: what runs a workload's containers, behind one interface the supervisor drives.

- :mod:`.base`: the interface (:class:`Runtime`, :class:`Instance`, :class:`Exit`,
  :class:`StartFailed`, :data:`LogSink`) and the helpers both runtimes share.
- :mod:`.logs` and :mod:`.levels`: log ingestion, the same for both runtimes.
- :mod:`.security`: a container's ``securityContext`` on its way to a runtime.
- :mod:`.process`: host processes (the default; needs nothing installed).
- :mod:`.container`: containers through the Docker Engine API (the ``docker`` SDK, an optional
  extra: it is imported only when the container runtime is chosen or ``auto`` looks for an
  engine).

The two runtimes never import each other; both import only the shared modules.
"""

from __future__ import annotations

import logging

from workloadlab.server.runtimes.base import (
    Exit,
    Instance,
    LogSink,
    Runtime,
    StartFailed,
    data_dir_id,
)
from workloadlab.server.settings import ServerSettings

__all__ = [
    "Exit",
    "Instance",
    "LogSink",
    "Runtime",
    "StartFailed",
    "data_dir_id",
    "make_runtime",
]

logger = logging.getLogger("workloadlab.server")


def make_runtime(settings: ServerSettings) -> Runtime:
    """The runtime ``settings.runtime`` names; ``auto`` is ``container`` when a container
    engine answers (``$DOCKER_HOST``, the Docker socket, a podman socket), else ``process``."""
    name = settings.runtime
    if name == "auto":
        name = _auto_runtime()
    if name == "process":
        from workloadlab.server.runtimes.process import ProcessRuntime

        return ProcessRuntime(settings)
    if name == "container":
        from workloadlab.server.runtimes.container.runtime import ContainerRuntime

        return ContainerRuntime(settings)
    raise ValueError(f"unknown runtime {name!r} (this server knows: process, container, auto)")


def _auto_runtime() -> str:
    """``container`` if the docker SDK is installed and an engine answers, else ``process``."""
    try:
        from workloadlab.server.runtimes.container.engine import candidate_hosts, find_engine

        host = find_engine()
    except ImportError:
        logger.info("runtime auto: the docker SDK is not installed; using the process runtime")
        return "process"
    if host is None:
        logger.info(
            "runtime auto: no container engine answers at %s; using the process runtime",
            ", ".join(candidate_hosts()),
        )
        return "process"
    logger.info("runtime auto: a container engine answers at %s; using it", host)
    return "container"
