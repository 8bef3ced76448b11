"""Artifacts come back as they were sent, and what GET answers can be PUT back (v2.41).

- A number sent as an integer (probe seconds, ``cpu``, an autoscaling ``target``) comes back an
  integer in every answer, not ``10.0``; one sent with a fraction keeps it.
- ``name`` is optional, as v2.41 marks it: a standalone artifact without one is named
  ``artifact-`` and the last 8 characters of its id, an inline one takes its workload's name, and
  a ``PUT`` without one keeps the name it has.
- ``PUT /registry/artifacts/{id}`` takes a ``GET`` answer as it is: its read-only fields are
  ignored when they say what is stored (``updatedAt`` and ``specDigest``, which describe the
  version that was read, whatever they say), and one that differs is ``422`` naming it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import httpx
import pytest

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
    for schema_name in ("InputArtifact", "ArtifactReplacement"):
        schema = schemas[schema_name]
        assert "name" not in schema.get("required", []), schema_name
        assert "spec" in schema["required"]
    described = schemas["InputArtifact"]["properties"]["name"]["description"]
    assert "artifact-" in described
    assert "workload" in described


# -- GET then PUT ------------------------------------------------------------------------------


@pytest.fixture
def draft(api: httpx.Client) -> dict[str, Any]:
    body = hello_spec(free_port())
    body["name"] = "round-trip"
    body["spec"]["containerGroups"][0]["containers"][0]["resourceRequest"] = {
        "cpu": 0.5,
        "memory": 134217728,
    }
    return get_artifact(api, create_artifact(api, body)["id"])


def test_a_get_answer_can_be_put_back_as_it_is(api: httpx.Client, draft: dict[str, Any]) -> None:
    put = api.put(f"/registry/artifacts/{draft['id']}", json=draft)
    assert put.status_code == 200, put.text
    assert put.json() == draft, "nothing changed, not even updatedAt"

    edited = copy.deepcopy(draft)
    primary(edited)["environmentVars"] = [{"name": "GREETING", "value": "round"}]
    put = api.put(f"/registry/artifacts/{draft['id']}", json=edited)
    assert put.status_code == 200, put.text
    after = get_artifact(api, draft["id"])
    assert primary(after)["environmentVars"] == [{"name": "GREETING", "value": "round"}]
    assert after["specDigest"] != draft["specDigest"]
    for key in ("id", "name", "createdAt", "creator", "version", "artifactCollectionId"):
        assert after[key] == draft[key], key

    # What was read before that edit (updatedAt and specDigest of then) is taken too: they
    # describe the version the client read, which a PUT replaces whatever it was.
    put = api.put(f"/registry/artifacts/{draft['id']}", json=draft)
    assert put.status_code == 200, put.text
    assert (
        primary(get_artifact(api, draft["id"]))["environmentVars"]
        == primary(draft)["environmentVars"]
    )


def test_a_timestamp_in_another_spelling_of_the_same_instant_is_the_same(
    api: httpx.Client, draft: dict[str, Any]
) -> None:
    created = dt.datetime.fromisoformat(draft["createdAt"].replace("Z", "+00:00"))
    body = {**draft, "createdAt": created.isoformat()}  # +00:00, not Z
    put = api.put(f"/registry/artifacts/{draft['id']}", json=body)
    assert put.status_code == 200, put.text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", DUMMY_ID),
        ("createdAt", "2020-01-01T00:00:00.000000Z"),
        ("creator", {"id": DUMMY_ID, "username": "someone", "email": "someone@localhost"}),
        ("version", 3),
        ("artifactCollectionId", DUMMY_ID),
    ],
)
def test_a_read_only_field_that_differs_is_422_naming_it(
    api: httpx.Client, draft: dict[str, Any], key: str, value: Any
) -> None:
    body = copy.deepcopy(draft)
    body[key] = value
    primary(body)["environmentVars"] = [{"name": "GREETING", "value": "not stored"}]
    answer = api.put(f"/registry/artifacts/{draft['id']}", json=body)
    assert answer.status_code == 422, answer.text
    assert [issue["loc"] for issue in answer.json()["detail"]] == [["body", key]]
    assert get_artifact(api, draft["id"]) == draft, "nothing stored"


def test_unknown_keys_are_still_refused(api: httpx.Client, draft: dict[str, Any]) -> None:
    for key in ("tags", "artifactRepositoryId", "permissions"):
        answer = api.put(f"/registry/artifacts/{draft['id']}", json={**draft, key: []})
        assert answer.status_code == 422, answer.text
        assert [issue["loc"] for issue in answer.json()["detail"]] == [["body", key]]


def test_status_keeps_its_rules_through_a_round_trip(
    api: httpx.Client, draft: dict[str, Any]
) -> None:
    registered = api.put(
        f"/registry/artifacts/{draft['id']}", json={**draft, "status": "registered"}
    )
    assert registered.status_code == 200, registered.text
    frozen = registered.json()
    assert frozen["status"] == "registered"
    assert frozen["version"] is not None
    assert get_artifact(api, draft["id"]) == frozen

    # A registered artifact's GET answer, PUT back: 403 as any PUT of it, nothing stored.
    answer = api.put(f"/registry/artifacts/{draft['id']}", json=frozen)
    assert answer.status_code == 403, answer.text
    assert answer.json() == {"detail": "Cannot update artifact: artifact is registered"}
    answer = api.put(f"/registry/artifacts/{draft['id']}", json={**frozen, "status": "draft"})
    assert answer.status_code == 403, answer.text
    assert get_artifact(api, draft["id"]) == frozen
