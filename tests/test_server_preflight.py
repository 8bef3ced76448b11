"""``POST /local/preflight`` on the real local server (process runtime): the pure rules judged
for the process runtime, and the checks only the machine answers (the entrypoint's executable,
resources); nothing stored."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx

from harness import hello_spec

PATH = "/local/preflight"
C0 = "spec.containerGroups[0].containers[0]"
SECRET = "sk-live-TESTSECRET-0123456789abcdef"


def found(api: httpx.Client, body: Any) -> list[dict[str, Any]]:
    answer = api.post(PATH, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["runtime"] == "process"
    findings: list[dict[str, Any]] = answer.json()["findings"]
    return findings


def test_a_spec_that_runs_here_has_no_finding(api: httpx.Client) -> None:
    assert found(api, hello_spec(8080)) == []


def test_an_entrypoint_executable_not_found_is_an_error_at_its_field(api: httpx.Client) -> None:
    spec = hello_spec(8080, entrypoint=["no-such-program-xyz", "--serve"])
    findings = found(api, spec)
    assert [(f["rule"], f["severity"], f["path"]) for f in findings] == [
        ("entrypoint-executable", "error", f"{C0}.entrypoint[0]")
    ]
    assert "no-such-program-xyz" in findings[0]["message"]
    missing_path = hello_spec(8080, entrypoint=["/nowhere/app"])
    assert found(api, missing_path)[0]["rule"] == "entrypoint-executable"
    no_entrypoint = hello_spec(8080)
    del no_entrypoint["spec"]["containerGroups"][0]["containers"][0]["entrypoint"]
    assert [f["path"] for f in found(api, no_entrypoint)] == [f"{C0}.entrypoint"]


def test_the_issues_example_on_the_process_runtime(api: httpx.Client) -> None:
    spec = hello_spec(
        8080,
        env={"OPENAI_API_KEY": SECRET, "HOST": "127.0.0.1"},
        readinessProbe={"path": "/readyz", "port": 9000},
    )
    findings = found(api, spec)
    assert sorted((f["rule"], f["severity"], f["path"]) for f in findings) == [
        # loopback is reachable on the host: a warning here, an error in a container
        ("loopback-bind", "warning", f"{C0}.environmentVars[2].value"),
        ("plain-secret", "warning", f"{C0}.environmentVars[1].value"),
        ("probe-port", "error", f"{C0}.readinessProbe.port"),
    ]
    assert SECRET not in str(findings)


def test_requests_larger_than_the_machine_are_a_warning(api: httpx.Client) -> None:
    cores = len(os.sched_getaffinity(0))
    request = {"cpu": cores + 1, "memory": 2**44}
    findings = found(api, hello_spec(8080, resourceRequest=request))
    assert [(f["rule"], f["severity"], f["path"]) for f in findings] == [
        ("resources", "warning", f"{C0}.resourceRequest.cpu"),
        ("resources", "warning", f"{C0}.resourceRequest.memory"),
    ]
    fits = {"cpu": 0.5, "memory": "64Mi"}
    assert found(api, hello_spec(8080, resourceRequest=fits)) == []


def test_odd_bodies_are_findings_or_nothing_never_a_crash(api: httpx.Client) -> None:
    assert found(api, {"unrelated": True}) == []
    odd = {"containerGroups": [{"containers": [{"primary": True, "entrypoint": [1]}]}]}
    assert isinstance(found(api, odd), list)
    assert api.post(PATH, json=[1, 2]).status_code == 422
    assert api.get("/console/workloads/").json()["totalCount"] == 0  # nothing stored


def test_the_current_generation_serves_it_too(capi: httpx.Client) -> None:
    answer = capi.post(PATH, json=hello_spec(8080, entrypoint=["no-such-program-xyz"]))
    assert answer.status_code == 200
    assert [f["rule"] for f in answer.json()["findings"]] == ["entrypoint-executable"]


def test_a_number_too_large_for_a_float_is_judged_not_a_500(api: httpx.Client) -> None:
    """JSON integers have no size limit; the rules compare them without turning them into
    floats (a 400-digit ``periodSeconds`` was a 500)."""
    spec = hello_spec(8080, readinessProbe={"path": "/", "periodSeconds": 1, "timeoutSeconds": 1})
    text = json.dumps(spec).replace('"periodSeconds": 1', f'"periodSeconds": {"9" * 400}')
    answer = api.post(PATH, content=text, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["findings"] == []
    huge_port = text.replace(f'"periodSeconds": {"9" * 400}', f'"port": {"9" * 400}')
    answer = api.post(PATH, content=huge_port, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    assert [f["rule"] for f in answer.json()["findings"]] == ["probe-port"]


def test_a_huge_resource_request_is_judged_and_the_other_checks_still_run(
    api: httpx.Client,
) -> None:
    """A request too large for a float (``cpu`` of 400 digits, ``memory`` of 500 digits and a
    unit) asks more than any machine has; it used to stop every machine check with an
    overflow, the missing executable unreported."""
    spec = hello_spec(8080, entrypoint=["no-such-program-xyz"])
    for request in ({"cpu": 10**400}, {"memory": 10**400}, {"memory": "9" * 500 + "Gi"}):
        spec["spec"]["containerGroups"][0]["containers"][0]["resourceRequest"] = request
        text = json.dumps(spec)
        answer = api.post(PATH, content=text, headers={"content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        findings = answer.json()["findings"]
        assert [(f["rule"], f["path"].rsplit(".", 1)[-1]) for f in findings] == [
            ("entrypoint-executable", "entrypoint[0]"),
            ("resources", next(iter(request))),
        ], findings
        assert "9" * 50 not in answer.text


def test_a_value_of_almost_a_megabyte_is_judged_while_the_server_keeps_answering(
    api: httpx.Client,
) -> None:
    """The rules run on the server's event loop: a quadratic pattern over a 900 KB value
    blocked every request for minutes."""
    spec = hello_spec(8080, env={"BLOB": "x" * 900_000})
    started = time.monotonic()
    answer = api.post(PATH, json=spec, timeout=30)
    assert answer.status_code == 200, answer.text[:200]
    assert time.monotonic() - started < 5
    assert api.get("/localServer").status_code == 200
