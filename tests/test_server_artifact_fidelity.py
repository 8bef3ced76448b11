"""Artifacts come back as they were sent (v2.41).

- A number sent as an integer (probe seconds, ``cpu``, an autoscaling ``target``) comes back an
  integer in every answer, not ``10.0``; one sent with a fraction keeps it.
- ``name`` is optional, as v2.41 marks it: a standalone artifact without one is named
  ``artifact-`` and the last 8 characters of its id, an inline one takes its workload's name, and
  a ``PUT`` without one keeps the name it has.
"""

from __future__ import annotations

from typing import Any

import httpx

from harness import LocalServer, create_workload, free_port, hello_spec

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


# -- name is optional --------------------------------------------------------------------------


def test_an_artifact_without_a_name_gets_one(api: httpx.Client) -> None:
    body = hello_spec(free_port())
    del body["name"]
    created = create_artifact(api, body)
    assert created["name"] == f"artifact-{created['id'][-8:]}"
    assert get_artifact(api, created["id"])["name"] == created["name"]

    # A PUT without a name keeps the one it has; with one, changes it.
    body["description"] = "changed"
    put = api.put(f"/registry/artifacts/{created['id']}", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["name"] == created["name"]
    assert put.json()["description"] == "changed"
    put = api.put(f"/registry/artifacts/{created['id']}", json={**body, "name": "named"})
    assert put.json()["name"] == "named"

    # null is the same as left out; an empty name is still refused.
    assert create_artifact(api, {**body, "name": None})["name"].startswith("artifact-")
    empty = api.post("/registry/artifacts/", json={**body, "name": ""})
    assert empty.status_code == 422
    assert [issue["loc"] for issue in empty.json()["detail"]] == [["body", "name"]]


def test_an_inline_artifact_without_a_name_takes_its_workloads(api: httpx.Client) -> None:
    body = hello_spec(free_port())
    del body["name"]
    workload_id = create_workload(api, "inline-unnamed", body)
    workload = api.get(f"/console/workloads/{workload_id}/").json()
    assert workload["artifact"]["name"] == "inline-unnamed"
    assert get_artifact(api, workload["artifactId"])["name"] == "inline-unnamed"


def test_the_api_document_says_name_is_optional_and_what_it_defaults_to(
    server: LocalServer,
) -> None:
    document = httpx.get(f"{server.endpoint}/openapi.json").json()
    schemas = document["components"]["schemas"]
    for schema_name in ("InputArtifact",):
        schema = schemas[schema_name]
        assert "name" not in schema.get("required", []), schema_name
        assert "spec" in schema["required"]
    described = schemas["InputArtifact"]["properties"]["name"]["description"]
    assert "artifact-" in described
    assert "workload" in described
