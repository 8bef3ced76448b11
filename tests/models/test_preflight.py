"""Pre-flight rules: each on a spec that triggers it and on one that does not; the issue's
example spec gets exactly its three findings."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from workloadlab.models.preflight import (
    Finding,
    Severity,
    Target,
    blocking,
    check_spec,
    skipped_machine_checks,
    spec_of,
)

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
C0 = "spec.containerGroups[0].containers[0]"


def artifact(**primary: Any) -> dict[str, Any]:
    """A clean artifact (no finding at all), with ``primary``'s fields replaced."""
    container: dict[str, Any] = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": 8080,
        "entrypoint": ["python", "-m", "workloadlab.examples.hello"],
        "environmentVars": [{"name": "GREETING", "value": "hello"}],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 2, "timeoutSeconds": 1},
    }
    container.update(primary)
    return {"name": "a", "spec": {"containerGroups": [{"containers": [container]}]}}


def rules(data: Any, target: Target = Target.DATAROBOT) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity.value, f.path) for f in check_spec(data, target)]


def test_a_clean_spec_has_no_finding() -> None:
    assert check_spec(artifact()) == []


def test_the_issues_example_gets_exactly_three_findings_with_field_paths() -> None:
    spec = artifact(
        readinessProbe={"path": "/readyz", "port": 9000},
        environmentVars=[
            {"name": "OPENAI_API_KEY", "value": SECRET},
            {"name": "HOST", "value": "127.0.0.1"},
        ],
    )
    findings = check_spec(spec)
    assert sorted((f.rule, f.path) for f in findings) == [
        ("loopback-bind", f"{C0}.environmentVars[1].value"),
        ("plain-secret", f"{C0}.environmentVars[0].value"),
        ("probe-port", f"{C0}.readinessProbe.port"),
    ]
    assert [f.severity for f in blocking(findings)] == [Severity.ERROR, Severity.ERROR]
    assert all(f.message and f.fix for f in findings)
    assert SECRET not in json.dumps([f.model_dump(mode="json") for f in findings])


def test_probe_port_other_than_the_containers_is_an_error() -> None:
    assert rules(artifact(livenessProbe={"path": "/healthz", "port": 8081})) == [
        ("probe-port", "error", f"{C0}.livenessProbe.port")
    ]
    assert rules(artifact(livenessProbe={"path": "/healthz", "port": 8080})) == []
    assert rules(artifact(livenessProbe={"path": "/healthz"})) == []


def test_probe_path_without_a_leading_slash_is_an_error() -> None:
    found = check_spec(artifact(readinessProbe={"path": "readyz"}))
    assert [(f.rule, f.path) for f in found] == [("probe-path", f"{C0}.readinessProbe.path")]
    assert '"/readyz"' in found[0].fix
    assert rules(artifact(readinessProbe={"path": "/readyz"})) == []


def test_no_readiness_probe_on_the_primary_is_a_warning() -> None:
    spec = artifact()
    del spec["spec"]["containerGroups"][0]["containers"][0]["readinessProbe"]
    assert rules(spec) == [("no-readiness-probe", "warning", f"{C0}.readinessProbe")]
    sidecar = {"name": "side", "imageUri": "busybox", "entrypoint": ["sleep", "1000"]}
    with_sidecar = artifact()
    with_sidecar["spec"]["containerGroups"][0]["containers"].append(sidecar)
    assert rules(with_sidecar) == []  # only the primary needs one


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"environmentVars": [{"name": "HOST", "value": "127.0.0.1"}]}, "environmentVars[0].value"),
        (
            {"environmentVars": [{"name": "UVICORN_HOST", "value": "localhost"}]},
            "environmentVars[0].value",
        ),
        ({"entrypoint": ["uvicorn", "app:app", "--host", "127.0.0.1"]}, "entrypoint[3]"),
        ({"entrypoint": ["uvicorn", "app:app", "--host=localhost"]}, "entrypoint[2]"),
        ({"entrypoint": ["gunicorn", "-b", "127.0.0.1:8080", "app:app"]}, "entrypoint[2]"),
    ],
)
def test_loopback_binding_is_an_error_in_a_container(change: dict[str, Any], path: str) -> None:
    assert rules(artifact(**change)) == [("loopback-bind", "error", f"{C0}.{path}")]
    assert rules(artifact(**change), Target.CONTAINER)[0][1] == "error"
    assert rules(artifact(**change), Target.PROCESS) == [
        ("loopback-bind", "warning", f"{C0}.{path}")
    ]


def test_binding_every_interface_or_a_database_on_localhost_is_fine() -> None:
    assert rules(artifact(environmentVars=[{"name": "HOST", "value": "0.0.0.0"}])) == []
    assert rules(artifact(entrypoint=["uvicorn", "app:app", "--host", "0.0.0.0"])) == []
    assert rules(artifact(environmentVars=[{"name": "DB_HOST", "value": "localhost"}])) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KEY", SECRET),
        ("OPENAI", "sk-proj-abcDEF1234567890abcdefGHIJ"),
        ("GH", "ghp_" + "a1B2c3D4" * 5),
        ("AWS", "AKIAIOSFODNN7EXAMPLE"),
        ("SOMETHING", "Zx8kQ2mN5pR7tV9wY1bC3dF6gH4jL0sA"),
        ("SERVICE_TOKEN", "plain-but-named"),
        ("DB_PASSWORD", "hunter2hunter2"),
    ],
)
def test_secret_looking_plain_values_are_a_warning_that_never_echoes_them(
    name: str, value: str
) -> None:
    found = check_spec(artifact(environmentVars=[{"name": name, "value": value}]))
    assert [(f.rule, f.severity, f.path) for f in found] == [
        ("plain-secret", Severity.WARNING, f"{C0}.environmentVars[0].value")
    ]
    assert "dr-credential" in found[0].fix
    assert value not in found[0].model_dump_json()


def test_ordinary_values_and_credential_references_are_no_secret() -> None:
    reference = {"source": "dr-credential", "name": "OPENAI_API_KEY", "drCredentialId": "c1",
                 "key": "apiToken"}  # fmt: skip
    variables = [{"name": "MODEL", "value": "gpt-4o-mini-2024-07-18"}, reference]
    assert rules(artifact(environmentVars=variables)) == []


def test_duplicate_env_names_are_an_error() -> None:
    twice = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "A", "value": "3"}]
    assert rules(artifact(environmentVars=twice)) == [
        ("duplicate-env", "error", f"{C0}.environmentVars[2].name")
    ]
    api_key = [{"source": "api-key"}, {"name": "DATAROBOT_API_TOKEN", "value": "x"}]
    assert rules(artifact(environmentVars=api_key))[0][0] == "duplicate-env"
    assert rules(artifact(environmentVars=twice[:2])) == []


def test_port_set_by_hand_to_another_port() -> None:
    other = [{"name": "PORT", "value": "5000"}]
    path = f"{C0}.environmentVars[0].value"
    assert rules(artifact(environmentVars=other)) == [("port-env", "error", path)]
    # The local runtimes set $PORT themselves: it runs here, but would not on DataRobot.
    assert rules(artifact(environmentVars=other), Target.PROCESS) == [("port-env", "warning", path)]
    assert rules(artifact(environmentVars=[{"name": "PORT", "value": "8080"}])) == []


@pytest.mark.parametrize(
    ("probe", "field", "severity"),
    [
        ({"failureThreshold": 0}, "failureThreshold", "error"),
        ({"successThreshold": 0}, "successThreshold", "error"),
        # It passes while the app answers fast, but slow answers overlap the next probe.
        ({"periodSeconds": 2, "timeoutSeconds": 2}, "timeoutSeconds", "warning"),
        ({"periodSeconds": 1, "timeoutSeconds": 5}, "timeoutSeconds", "warning"),
    ],
)
def test_probe_timing_that_cannot_pass(probe: dict[str, Any], field: str, severity: str) -> None:
    spec = artifact(readinessProbe={"path": "/readyz", **probe})
    assert rules(spec) == [("probe-timing", severity, f"{C0}.readinessProbe.{field}")]


def test_probe_timing_that_can_pass() -> None:
    probe = {"path": "/readyz", "periodSeconds": 10, "timeoutSeconds": 9.5, "failureThreshold": 1}
    assert rules(artifact(readinessProbe=probe)) == []
    assert rules(artifact(readinessProbe={"path": "/readyz", "timeoutSeconds": 30})) == []


def test_every_shape_a_user_writes_is_read_with_the_apis_paths() -> None:
    spec = artifact(readinessProbe={"path": "/r", "port": 1})
    container = spec["spec"]["containerGroups"][0]["containers"][0]
    shapes = [
        spec,
        spec["spec"],
        {"name": "w", "artifact": spec},
        {k: v for k, v in container.items() if k != "primary"},
    ]
    for shape in shapes:
        assert rules(shape) == [("probe-port", "error", f"{C0}.readinessProbe.port")]
    assert spec_of({"unrelated": 1}) is None


@pytest.mark.parametrize(
    "odd",
    [None, 3, "text", [], {"spec": []}, {"spec": {"containerGroups": "x"}},
     {"containerGroups": [1, {"containers": [None, {"readinessProbe": []}]}]},
     {"containerGroups": [{"containers": [{"primary": True, "port": "x",
       "environmentVars": [1, {"name": 2}], "entrypoint": [None, "--host"],
       "readinessProbe": {"path": 3, "port": True, "periodSeconds": "x"}}]}]}],
)  # fmt: skip
def test_odd_shapes_never_raise(odd: Any) -> None:
    assert isinstance(check_spec(copy.deepcopy(odd)), list)


def test_errors_come_first_and_a_finding_reads_as_one_line() -> None:
    spec = artifact(
        readinessProbe={"path": "readyz"}, environmentVars=[{"name": "KEY", "value": SECRET}]
    )
    found = check_spec(spec)
    assert [f.severity for f in found] == [Severity.ERROR, Severity.WARNING]
    line = found[0].line()
    assert line.startswith(f"error: {C0}.readinessProbe.path: ")
    assert "\n" not in line
    assert Finding.model_validate(found[0].model_dump(mode="json")) == found[0]


def test_skipped_machine_checks_are_info_findings_that_say_why() -> None:
    skipped = skipped_machine_checks("DataRobot runs it on its own machines")
    assert {f.severity for f in skipped} == {Severity.INFO}
    assert all("DataRobot" in f.message for f in skipped)
    assert any("image" in f.message for f in skipped)
    assert blocking(skipped) == []


HUGE = 10**400
"""An integer JSON and YAML read exactly, and too large for a float."""


@pytest.mark.parametrize(
    "probe",
    [
        {"path": "/", "periodSeconds": HUGE, "timeoutSeconds": 1},
        {"path": "/", "periodSeconds": 2, "timeoutSeconds": HUGE},
        {"path": "/", "failureThreshold": -HUGE},
        {"path": "/", "successThreshold": HUGE},
    ],
)
def test_huge_numbers_are_judged_not_a_crash(probe: dict[str, Any]) -> None:
    found = check_spec(artifact(readinessProbe=probe))
    assert all(isinstance(f, Finding) for f in found)
    if probe.get("failureThreshold") == -HUGE:
        assert rules(artifact(readinessProbe=probe)) == [
            ("probe-timing", "error", f"{C0}.readinessProbe.failureThreshold")
        ]
    if probe.get("timeoutSeconds") == HUGE:
        assert ("probe-timing", "warning", f"{C0}.readinessProbe.timeoutSeconds") in rules(
            artifact(readinessProbe=probe)
        )


def test_nan_and_infinite_timings() -> None:
    nan, inf = float("nan"), float("inf")
    nan_period = {"path": "/", "periodSeconds": nan, "timeoutSeconds": 1}
    assert rules(artifact(readinessProbe=nan_period)) == []
    inf_timeout = {"path": "/", "periodSeconds": 2, "timeoutSeconds": inf}
    assert rules(artifact(readinessProbe=inf_timeout)) == [
        ("probe-timing", "warning", f"{C0}.readinessProbe.timeoutSeconds")
    ]


def test_a_boolean_is_no_port() -> None:
    """``port: true`` is not port 1: no finding talks of "port True"."""
    for spec in (
        artifact(readinessProbe={"path": "/", "port": True}),
        artifact(port=True, readinessProbe={"path": "/", "port": 8080}),
        artifact(port=True, environmentVars=[{"name": "PORT", "value": "8080"}]),
    ):
        assert not any("True" in f.message for f in check_spec(spec)), check_spec(spec)


@pytest.mark.parametrize(
    "host",
    [
        "::1",
        "[::1]",
        "[::1]:8080",
        "0:0:0:0:0:0:0:1",
        "::ffff:127.0.0.1",
        "127.0.0.53",
        "LOCALHOST",
    ],
)
def test_every_spelling_of_loopback_is_loopback(host: str) -> None:
    spec = artifact(environmentVars=[{"name": "HOST", "value": host}])
    assert rules(spec) == [("loopback-bind", "error", f"{C0}.environmentVars[0].value")]
    flag = artifact(entrypoint=["uvicorn", "app:app", "--host", host])
    assert rules(flag) == [("loopback-bind", "error", f"{C0}.entrypoint[3]")]


@pytest.mark.parametrize(
    "host", ["::", "[::]", "0.0.0.0", "0.0.0.0:8080", "::ffff:10.0.0.1", "app"]
)
def test_every_interface_or_another_host_is_no_loopback(host: str) -> None:
    assert rules(artifact(environmentVars=[{"name": "HOST", "value": host}])) == []
    assert rules(artifact(entrypoint=["uvicorn", "app:app", "--host", host])) == []
