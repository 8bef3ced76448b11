"""The ``container`` runtime: a workload's containers run through the Docker Engine API.

It imports only the shared modules of :mod:`workloadlab.server.runtimes`, never the process
runtime. The ``docker`` SDK is imported only when an engine is looked for or used, so importing
this package works without it.
"""

from workloadlab.server.runtimes.container.runtime import ContainerRuntime

__all__ = ["ContainerRuntime"]
