"""The exception tree and how error bodies of every known shape read."""

from __future__ import annotations

import pytest

import workloadlab.client
from workloadlab import errors
from workloadlab.errors import FieldError, parse_error_body, status_error
from workloadlab.models import StatusDetails
from workloadlab.models.neutral import Workload

from clienttools import fixture

URL = "https://app.datarobot.com/api/v2/console/workloads/"


def test_public_surface_is_pinned() -> None:
    assert sorted(errors.__all__) == [
        "APIConnectionError",
        "APIError",
        "APIResponseValidationError",
        "APIStatusError",
        "APITimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConfigError",
        "ConflictError",
        "FieldError",
        "ForeignHostError",
        "NotFoundError",
        "NotSupportedError",
        "PermissionDeniedError",
        "RateLimitError",
        "ServerError",
        "UnprocessableEntityError",
        "WaitTimeoutError",
        "WorkloadErroredError",
        "WorkloadlabError",
    ]
    assert sorted(workloadlab.client.__all__) == [
        "ApiPaths",
        "ArtifactVersion",
        "AsyncClient",
        "AsyncPager",
        "Check",
        "CheckName",
        "ClientConfig",
        "DEFAULT_MAX_RETRIES",
        "DEFAULT_TIMEOUT",
        "Generation",
        "Observation",
        "Polling",
        "Readiness",
        "ServerSentEvent",
        "resolve_config",
    ]


def test_the_tree_in_the_docstring_is_the_tree() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name != "FieldError":
            assert name in doc, f"{name} is missing from the tree in the module docstring"
    assert issubclass(errors.ConfigError, errors.WorkloadlabError)
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.APIConnectionError, errors.APIError)
    assert issubclass(errors.APIStatusError, errors.APIError)
    assert issubclass(errors.APIError, errors.WorkloadlabError)
    assert issubclass(errors.WaitTimeoutError, TimeoutError)
    assert issubclass(errors.ForeignHostError, ValueError)
    assert not issubclass(errors.APITimeoutError, TimeoutError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitError),
        (500, errors.ServerError),
        (502, errors.ServerError),
        (504, errors.ServerError),
        (418, errors.APIStatusError),
    ],
)
def test_one_class_per_status(status: int, cls: type[errors.APIStatusError]) -> None:
    error = status_error(method="GET", url=URL, status_code=status, body={"detail": "no"})
    assert type(error) is cls
    assert error.status_code == status
    assert isinstance(error, errors.APIStatusError)


def test_detail_string() -> None:
    error = status_error(
        method="PUT",
        url="https://x/api/v2/registry/artifacts/abc",
        status_code=403,
        body=fixture("error-403-locked.json"),
    )
    assert error.detail == "Cannot update artifact: artifact is locked"
    assert error.field_errors == []
    assert str(error) == (
        "PUT https://x/api/v2/registry/artifacts/abc failed with 403 Forbidden: "
        "Cannot update artifact: artifact is locked"
    )
    assert (error.method, error.url) == ("PUT", "https://x/api/v2/registry/artifacts/abc")


def test_detail_fastapi_list_names_the_field() -> None:
    error = status_error(
        method="POST", url=URL, status_code=422, body=fixture("error-422-fastapi.json")
    )
    field = "artifact.spec.containerGroups[0].containers[0].port"
    assert error.field_errors == [
        FieldError(field, "Input should be greater than or equal to 1024", "greater_than_equal")
    ]
    assert error.detail == f"{field}: Input should be greater than or equal to 1024"
    assert str(error) == (
        f"POST {URL} failed with 422 Unprocessable Entity:\n"
        f"  - {field}: Input should be greater than or equal to 1024"
    )


def test_detail_path_message_code_list() -> None:
    detail, fields = parse_error_body(fixture("error-422-paths.json"))
    field = "spec.containerGroups[0].containers[0].port"
    assert fields == [FieldError(field, "must be between 1024 and 65535", "invalid")]
    assert detail == f"{field}: must be between 1024 and 65535"


def test_detail_list_of_strings() -> None:
    error = status_error(
        method="POST", url=URL, status_code=422, body=fixture("error-422-strings.json")
    )
    assert error.detail == "Exactly one container must be marked primary."
    assert error.field_errors == []
    assert str(error).endswith(": Exactly one container must be marked primary.")


def test_gateway_message_shape_and_401_hint() -> None:
    error = status_error(
        method="GET", url=URL, status_code=401, body=fixture("error-401-gateway.json")
    )
    assert isinstance(error, errors.AuthenticationError)
    assert error.detail == "Invalid API key"
    assert "failed with 401 Unauthorized: Invalid API key" in str(error)
    assert "DATAROBOT_API_TOKEN" in str(error)


def test_other_bodies() -> None:
    assert parse_error_body("<html>Bad gateway</html>") == ("<html>Bad gateway</html>", [])
    assert parse_error_body(None) == ("", [])
    assert parse_error_body({"detail": {"loc": ["body", "name"], "msg": "required"}}) == (
        "name: required",
        [FieldError("name", "required", None)],
    )
    assert parse_error_body({"weird": 1}) == ('{"weird": 1}', [])
    long = parse_error_body("x" * 2000)[0]
    assert len(long) < 600
    assert long.endswith("…")
    error = status_error(method="GET", url=URL, status_code=502, body="")
    assert str(error) == f"GET {URL} failed with 502 Bad Gateway"


def test_rate_limit_error_carries_retry_after() -> None:
    error = status_error(
        method="GET",
        url=URL,
        status_code=429,
        body=fixture("error-429.json"),
        headers={"retry-after": "120"},
    )
    assert isinstance(error, errors.RateLimitError)
    assert error.retry_after == 120.0


def test_workload_errored_message_reads_well() -> None:
    workload = Workload(
        id="6650c1d2e3f4a5b6c7d8e9f2",
        name="c",
        status="errored",
        status_details=StatusDetails(message="the process exited with status 1"),
    )
    error = errors.WorkloadErroredError(
        workload, waiting_for="running", log_tail=["Traceback ...", "OSError: boom"]
    )
    assert str(error) == (
        "workload 'c' (6650c1d2e3f4a5b6c7d8e9f2) went errored while waiting for it to be "
        "running: the process exited with status 1\n"
        "last log lines:\n  Traceback ...\n  OSError: boom"
    )
    assert error.status_details is workload.status_details


def test_wait_timeout_message() -> None:
    workload = Workload(id="abc", name="w", status="initializing")
    error = errors.WaitTimeoutError(workload, waiting_for="running", timeout=2.5)
    assert str(error) == (
        "workload 'w' (abc) is still initializing after 2.5 s waiting for it to be running"
    )
    assert isinstance(error, TimeoutError)
