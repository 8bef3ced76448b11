"""The package's public surface is deliberate: pinned here, and every name resolves."""

from __future__ import annotations

import workloadlab


def test_top_level_names_are_pinned_and_resolve() -> None:
    assert sorted(workloadlab.__all__) == sorted(
        [
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
    )
    for name in workloadlab.__all__:
        assert getattr(workloadlab, name) is not None
    assert issubclass(workloadlab.NotFoundError, workloadlab.APIStatusError)
    assert issubclass(workloadlab.APIStatusError, workloadlab.WorkloadlabError)


def test_client_resources_are_pinned() -> None:
    """``client.<resource>`` for each API collection, each exported with the others."""
    from workloadlab.client import AsyncClient, resources

    assert sorted(resources.__all__) == ["Artifacts", "Credentials", "Deployments", "Workloads"]
    assert AsyncClient.__annotations__ == {
        "workloads": "Workloads",
        "artifacts": "Artifacts",
        "deployments": "Deployments",
        "credentials": "Credentials",
    }
