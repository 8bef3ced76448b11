"""workloadlab: iterate on containerized AI workloads from JupyterLab, then lock and deploy them.

``async with workloadlab.AsyncClient() as client: ...`` speaks DataRobot's Workload API (or the
local server's); ``%load_ext workloadlab`` adds the ``%workload`` and ``%%artifact`` magics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workloadlab._version import __version__

if TYPE_CHECKING:
    from workloadlab import errors
    from workloadlab.client import AsyncClient
    from workloadlab.errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConfigError,
        ConflictError,
        NotFoundError,
        NotSupportedError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        UnprocessableEntityError,
        WaitTimeoutError,
        WorkloadErroredError,
        WorkloadlabError,
    )
    from workloadlab.notebook.panel import panel


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "NotFoundError",
    "NotSupportedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
    "WaitTimeoutError",
    "WorkloadErroredError",
    "WorkloadlabError",
    "__version__",
    "errors",
    "load_ipython_extension",
    "panel",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    """Import the client and errors on first use, so ``%load_ext workloadlab`` and the server
    start fast."""
    if name == "AsyncClient":
        from workloadlab.client import AsyncClient

        return AsyncClient
    if name == "panel":
        from workloadlab.notebook.panel import panel

        return panel
    if name == "errors":
        import workloadlab.errors as errors_module

        return errors_module
    if name in __all__ and name.endswith("Error"):
        import workloadlab.errors as errors_module

        return getattr(errors_module, name)
    raise AttributeError(f"module 'workloadlab' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext workloadlab``: add ``%workload`` and ``%%artifact`` to IPython."""
    from workloadlab.notebook.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext workloadlab``."""
    from workloadlab.notebook.extension import unload

    unload(ipython)
