"""Small example workloads that run anywhere Python does (standard library only).

``python -m workloadlab.examples.hello`` is the app of the tutorials and of the tests: it serves
``$PORT``, answers health and readiness probes, and can be told to start slowly or fall ill.
"""
