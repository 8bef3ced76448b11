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
    )
    for name in workloadlab.__all__:
        assert getattr(workloadlab, name) is not None
    assert issubclass(workloadlab.NotFoundError, workloadlab.APIStatusError)
    assert issubclass(workloadlab.APIStatusError, workloadlab.WorkloadlabError)


def test_client_resources_are_pinned() -> None:
    """``client.<resource>`` for each API collection, each exported with the others."""
    from workloadlab.client import AsyncClient, resources

    assert sorted(resources.__all__) == [
        "Artifacts",
        "Credentials",
        "Deployments",
        "Preflight",
        "Repositories",
        "Workloads",
    ]
    assert AsyncClient.__annotations__ == {
        "workloads": "Workloads",
        "artifacts": "Artifacts",
        "deployments": "Deployments",
        "repositories": "Repositories",
        "credentials": "Credentials",
        "preflight": "Preflight",
    }


def test_the_resources_methods_are_pinned() -> None:
    """(``workloadlab.client.__all__`` and the errors are pinned in ``test_client_errors``.)"""
    from workloadlab.client.resources.artifacts import Artifacts
    from workloadlab.client.resources.credentials import Credentials
    from workloadlab.client.resources.deployments import Deployments
    from workloadlab.client.resources.preflight import Preflight
    from workloadlab.client.resources.repositories import Repositories
    from workloadlab.client.resources.workloads import Workloads

    def public(cls: type) -> list[str]:
        """What the class and its bases below ``Resource`` define."""
        own = {
            name
            for c in cls.__mro__
            if c.__module__.startswith(cls.__module__.rsplit(".", 1)[0])
            and c.__name__ != "Resource"
            for name in vars(c)
        }
        return sorted(name for name in own if not name.startswith("_"))

    assert public(Workloads) == sorted(
        [
            "create",
            "list",
            "get",
            "observe",
            "delete",
            "start",
            "stop",
            "restart",
            "wait_for_status",
            "watch",
            "events",
            "logs",
            "invoke",
            "stream",
            "websocket",
            "lock_readiness",
            "promote",
            "settings",
            "update_settings",
            "replace",
            "replacement",
            "cancel_replacement",
            "history",
            "wait_for_replacement",
            "with_running_since",
        ]
    )
    assert public(Artifacts) == sorted(
        [
            "create",
            "list",
            "versions",
            "locked_versions",
            "get",
            "update",
            "replace",
            "lock",
            "register",
            "clone",
            "delete",
        ]
    )
    assert public(Deployments) == sorted(
        [
            "create",
            "list",
            "get",
            "update",
            "wait_for_rollout",
            "rollback",
            "delete",
            "events",
            "invoke",
            "stream",
            "websocket",
        ]
    )
    assert public(Credentials) == sorted(["create", "list", "get", "delete"])
    assert public(Repositories) == sorted(["list", "get", "delete"])
    assert public(Preflight) == ["check"]
