"""Artifacts come back as they were sent (v2.41).

- A number sent as an integer (probe seconds, ``cpu``, an autoscaling ``target``) comes back an
  integer in every answer, not ``10.0``; one sent with a fraction keeps it.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness import free_port, hello_spec

DUMMY_ID = "0123456789abcdef01234567"


def create_artifact(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.post("/registry/artifacts/", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def get_artifact(api: httpx.Client, artifact_id: str) -> dict[str, Any]:
    answer = api.get(f"/registry/artifacts/{artifact_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def primary(artifact: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = artifact["spec"]["containerGroups"][0]["containers"][0]
    return container


def assert_same_number(got: Any, sent: int | float) -> None:
    """``got`` is ``sent``, of the same JSON kind (an integer stays an integer)."""
    assert got == sent
    assert type(got) is type(sent), f"sent {sent!r}, got {got!r}"


# -- integers stay integers --------------------------------------------------------------------

PROBE = {
    "path": "/readyz",
    "initialDelaySeconds": 0,
    "periodSeconds": 10,
    "timeoutSeconds": 2,
    "failureThreshold": 3,
}


def assert_numbers_kept(artifact: dict[str, Any]) -> None:
    container = primary(artifact)
    for key, sent in PROBE.items():
        if key != "path":
            assert_same_number(container["readinessProbe"][key], sent)
    assert_same_number(container["livenessProbe"]["periodSeconds"], 2.5)
    assert_same_number(container["livenessProbe"]["timeoutSeconds"], 1)
    assert_same_number(container["resourceRequest"]["cpu"], 1)
    assert_same_number(container["resourceRequest"]["memory"], 268435456)


def test_integers_come_back_as_integers(api: httpx.Client) -> None:
    body = hello_spec(free_port())
    body["name"] = "numbers"
    container = primary(body)
    container["readinessProbe"] = PROBE
    container["livenessProbe"] = {"path": "/healthz", "periodSeconds": 2.5, "timeoutSeconds": 1}
    container["resourceRequest"] = {"cpu": 1, "memory": 268435456}

    created = create_artifact(api, body)
    assert_numbers_kept(created)
    assert_numbers_kept(get_artifact(api, created["id"]))
    listed = api.get("/registry/artifacts/", params={"search": "numbers"}).json()["data"]
    assert_numbers_kept(listed[0])
    put = api.put(f"/registry/artifacts/{created['id']}", json=body)
    assert put.status_code == 200, put.text
    assert_numbers_kept(put.json())

    runtime = {
        "autoscaling": {
            "enabled": True,
            "policies": [
                {
                    "scalingMetric": "cpuAverageUtilization",
                    "target": 70,
                    "minCount": 1,
                    "maxCount": 2,
                },
                {
                    "scalingMetric": "httpRequestsConcurrency",
                    "target": 2.5,
                    "minCount": 1,
                    "maxCount": 2,
                },
            ],
        }
    }
    body["name"] = "numbers-inline"
    answer = api.post(
        "/console/workloads/", json={"name": "numbers", "artifact": body, "runtime": runtime}
    )
    assert answer.status_code == 201, answer.text
    workload = answer.json()
    fetched = api.get(f"/console/workloads/{workload['id']}/").json()
    in_list = api.get("/console/workloads/", params={"ids": workload["id"]}).json()["data"]
    for shown in (workload, fetched, *in_list):
        assert shown["id"] == workload["id"]
        policies = shown["runtime"]["autoscaling"]["policies"]
        assert_same_number(policies[0]["target"], 70)
        assert_same_number(policies[1]["target"], 2.5)
    assert_numbers_kept(get_artifact(api, workload["artifactId"]))
