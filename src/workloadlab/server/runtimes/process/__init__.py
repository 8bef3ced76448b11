"""The ``process`` runtime: a workload's primary container runs as a host process.

It imports only the shared modules of :mod:`workloadlab.server.runtimes`, never the container
runtime.
"""

from workloadlab.server.runtimes.process.descendants import MARKER_ENV
from workloadlab.server.runtimes.process.runtime import ProcessRuntime

__all__ = ["MARKER_ENV", "ProcessRuntime"]
