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
