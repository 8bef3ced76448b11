"""The ``container`` runtime: a workload's containers run through the Docker Engine API.

It imports only the shared modules of :mod:`workloadlab.server.runtimes`, never the process
runtime. Nothing is imported here, so that looking for an engine
(:mod:`~workloadlab.server.runtimes.container.engine`) does not load the runtime; the
``docker`` SDK itself is imported only when an engine is looked for or used.
"""
