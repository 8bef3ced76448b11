"""Bearer auth on every route, and `422` with field paths (and nothing stored) for bad bodies."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest

from harness import FAKE_TOKEN, LocalServer, free_port, hello_spec

DUMMY_ID = "0123456789abcdef01234567"


def _routes(server: LocalServer) -> list[tuple[str, str]]:
    schema = httpx.get(f"{server.endpoint}/openapi.json").json()
    routes = []
    for path, operations in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", DUMMY_ID, path)
        for method in operations:
            routes.append((method.upper(), concrete))
    return routes


def test_openapi_lists_every_endpoint_of_the_contract(server: LocalServer) -> None:
    routes = set(_routes(server))
    base = "/api/v2"
    for method, path in [
        ("POST", "/console/workloads"),
        ("GET", "/console/workloads"),
        ("GET", f"/console/workloads/{DUMMY_ID}"),
        ("DELETE", f"/console/workloads/{DUMMY_ID}"),
        ("POST", f"/console/workloads/{DUMMY_ID}/start"),
        ("POST", f"/console/workloads/{DUMMY_ID}/stop"),
        ("GET", f"/console/workloads/{DUMMY_ID}/events"),
        ("POST", "/registry/artifacts"),
        ("GET", "/registry/artifacts"),
        ("GET", f"/registry/artifacts/{DUMMY_ID}"),
        ("PATCH", f"/registry/artifacts/{DUMMY_ID}"),
        ("PUT", f"/registry/artifacts/{DUMMY_ID}"),
        ("DELETE", f"/registry/artifacts/{DUMMY_ID}"),
        ("POST", "/console/deployments"),
        ("GET", "/console/deployments"),
        ("GET", f"/console/deployments/{DUMMY_ID}"),
        ("PATCH", f"/console/deployments/{DUMMY_ID}"),
        ("DELETE", f"/console/deployments/{DUMMY_ID}"),
        ("GET", f"/console/deployments/{DUMMY_ID}/events"),
        ("GET", f"/otel/workload/{DUMMY_ID}/logs"),
    ]:
        assert (method, base + path) in routes


@pytest.mark.parametrize("token", [None, "wrong-token", FAKE_TOKEN + "x"])
def test_every_route_needs_the_token(server: LocalServer, token: str | None) -> None:
    routes = _routes(server)
    routes += [("GET", f"/api/v2/endpoints/workloads/{DUMMY_ID}/")]
    assert len(routes) >= 20
    origin = server.endpoint.removesuffix("/api/v2")
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=origin, headers=headers) as raw:
        for method, path in routes:
            for variant in (path, path + "/"):
                answer = raw.request(method, variant, json={})
                assert answer.status_code == 401, (method, variant, answer.text)
                if method != "HEAD":
                    assert "token" in answer.json()["detail"]
                assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("scheme", "token", "status"),
    [
        ("Bearer", FAKE_TOKEN, 200),
        ("bearer", FAKE_TOKEN, 200),
        ("Token", FAKE_TOKEN, 200),  # DataRobot's SDK sends this scheme by default
        ("Token", "wrong-token", 401),
        ("Basic", FAKE_TOKEN, 401),
        ("", FAKE_TOKEN, 401),
    ],
    ids=["bearer", "lower-case", "token", "token-wrong", "basic", "no-scheme"],
)
def test_token_scheme_is_bearer_or_token(
    server: LocalServer, scheme: str, token: str, status: int
) -> None:
    answer = httpx.get(
        f"{server.endpoint}/console/workloads/",
        headers={"Authorization": f"{scheme} {token}".strip()},
    )
    assert answer.status_code == status


def test_paths_work_with_and_without_trailing_slash(api: httpx.Client) -> None:
    for path in ("/console/workloads", "/console/workloads/", "/registry/artifacts/"):
        answer = api.get(path)
        assert answer.status_code == 200, path
        assert answer.history == []


def _primary(artifact: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = artifact["spec"]["containerGroups"][0]["containers"][0]
    return container


def _bad_bodies() -> list[tuple[str, dict[str, Any], list[Any]]]:
    good = hello_spec(free_port())
    cases: list[tuple[str, dict[str, Any], list[Any]]] = []

    no_primary = copy.deepcopy(good)
    _primary(no_primary)["primary"] = False
    cases.append(("missing primary", no_primary, ["spec", "containerGroups", 0, "containers"]))

    two = copy.deepcopy(good)
    second = copy.deepcopy(_primary(two))
    second["name"] = "sidecar"
    two["spec"]["containerGroups"][0]["containers"].append(second)
    cases.append(("two primaries", two, ["spec", "containerGroups", 0, "containers"]))

    port80 = copy.deepcopy(good)
    _primary(port80)["port"] = 80
    cases.append(("port 80", port80, ["spec", "containerGroups", 0, "containers", 0, "port"]))

    bad_env = copy.deepcopy(good)
    _primary(bad_env)["environmentVars"] = [{"name": "1-BAD", "value": "x"}]
    cases.append(
        (
            "bad env name",
            bad_env,
            ["spec", "containerGroups", 0, "containers", 0, "environmentVars", 0, "name"],
        )
    )

    bad_header = copy.deepcopy(good)
    _primary(bad_header)["readinessProbe"]["httpHeaders"] = {"X-Token": "a\r\nX-Injected: 1"}
    cases.append(
        (
            "header with a line break",
            bad_header,
            ["spec", "containerGroups", 0, "containers", 0, "readinessProbe", "httpHeaders"],
        )
    )

    unknown = copy.deepcopy(good)
    _primary(unknown)["imageURI"] = "typo"
    cases.append(
        ("unknown key", unknown, ["spec", "containerGroups", 0, "containers", 0, "imageURI"])
    )

    unknown_top = copy.deepcopy(good)
    unknown_top["colour"] = "blue"
    cases.append(("unknown top key", unknown_top, ["colour"]))
    return cases


def _counts(api: httpx.Client) -> tuple[int, int, int]:
    return (
        api.get("/console/workloads/").json()["totalCount"],
        api.get("/registry/artifacts/").json()["totalCount"],
        api.get("/console/deployments/").json()["totalCount"],
    )


@pytest.mark.parametrize(("case", "artifact", "loc"), _bad_bodies(), ids=lambda v: str(v)[:20])
def test_bad_specs_are_422_with_field_paths_and_nothing_stored(
    api: httpx.Client, case: str, artifact: dict[str, Any], loc: list[Any]
) -> None:
    before = _counts(api)
    inline = api.post("/console/workloads/", json={"name": "bad", "artifact": artifact})
    assert inline.status_code == 422, case
    assert ["body", "artifact", *loc] in [error["loc"] for error in inline.json()["detail"]]
    direct = api.post("/registry/artifacts/", json=artifact)
    assert direct.status_code == 422, case
    assert ["body", *loc] in [error["loc"] for error in direct.json()["detail"]]
    for error in direct.json()["detail"]:
        assert set(error) == {"loc", "msg", "type"}, "422 must not echo the rejected input"
    assert _counts(api) == before


def test_put_of_a_bad_spec_keeps_the_stored_one(api: httpx.Client) -> None:
    good = hello_spec(free_port())
    created = api.post("/registry/artifacts/", json=good).json()
    bad = copy.deepcopy(good)
    _primary(bad)["port"] = 80
    answer = api.put(f"/registry/artifacts/{created['id']}", json=bad)
    assert answer.status_code == 422
    assert api.get(f"/registry/artifacts/{created['id']}").json() == created


@pytest.mark.parametrize(
    "body",
    [
        {"name": "neither"},
        {"name": "both", "artifactId": DUMMY_ID, "artifact": "ARTIFACT"},
    ],
)
def test_artifact_and_artifact_id_both_or_neither(api: httpx.Client, body: dict[str, Any]) -> None:
    if body.get("artifact") == "ARTIFACT":
        body = {**body, "artifact": hello_spec(free_port())}
    before = _counts(api)
    answer = api.post("/console/workloads/", json=body)
    assert answer.status_code == 422
    assert "exactly one of artifact" in answer.json()["detail"][0]["msg"]
    assert _counts(api) == before


def test_patch_rules(api: httpx.Client) -> None:
    created = api.post("/registry/artifacts/", json=hello_spec(free_port())).json()
    url = f"/registry/artifacts/{created['id']}"
    spec_patch = api.patch(url, json={"spec": created["spec"]})
    assert spec_patch.status_code == 422
    assert "PUT" in spec_patch.json()["detail"][0]["msg"]
    assert api.patch(url, json={"status": "registered"}).status_code == 200
    assert api.patch(url, json={"status": "registered"}).status_code == 409
    back = api.patch(url, json={"status": "draft"})
    assert back.status_code == 422
    assert back.json()["detail"][0]["loc"] == ["body", "status"]
    renamed = api.patch(url, json={"description": "still editable"})
    assert renamed.status_code == 200
    assert renamed.json()["description"] == "still editable"
    assert api.delete(url).status_code == 409


def test_deploying_a_draft_is_422(api: httpx.Client) -> None:
    workload = api.post(
        "/console/workloads/", json={"name": "draft", "artifact": hello_spec(free_port())}
    ).json()
    answer = api.post(
        "/console/deployments/", json={"workloadId": workload["id"], "name": "too-early"}
    )
    assert answer.status_code == 422
    assert "draft" in answer.json()["detail"]
    unknown = api.post(
        "/console/deployments/",
        json={"workloadId": workload["id"], "name": "x", "governance": "skip"},
    )
    assert unknown.status_code == 422
    assert (
        api.post("/console/deployments/", json={"workloadId": DUMMY_ID, "name": "x"}).status_code
        == 404
    )
    api.delete(f"/console/workloads/{workload['id']}")


def test_a_query_parameter_of_one_value_given_twice_is_422(api: httpx.Client) -> None:
    # Found by the fuzz test: ?search=a&search=b was answered 200 with one of the two.
    for path, name in (
        ("/registry/artifacts/", "search"),
        ("/registry/artifacts/", "collectionId"),
        ("/console/deployments/", "workloadId"),
        ("/console/workloads/", "limit"),
    ):
        answer = api.get(path, params=[(name, "1"), (name, "2")])
        assert answer.status_code == 422, (path, name, answer.text)
        (issue,) = answer.json()["detail"]
        assert issue["loc"] == ["query", name]
        assert issue["msg"] == "given more than once: this parameter takes one value"
    # Repeatable ones stay repeatable.
    assert api.get("/registry/artifacts/", params=[("status", "draft"), ("status", "x")]).is_success
    repeated = [("artifactId", "a"), ("artifactId", "b")]
    assert api.get("/console/deployments/", params=repeated).is_success


def test_list_limits_and_pages(api: httpx.Client) -> None:
    assert api.get("/console/workloads/?limit=101").status_code == 422
    assert api.get("/registry/artifacts/?limit=0").status_code == 422
    for index in range(5):
        spec = hello_spec(free_port())
        spec["name"] = f"paged-{index}"
        assert api.post("/registry/artifacts/", json=spec).status_code == 201
    first = api.get("/registry/artifacts/", params={"search": "PAGED", "limit": 2}).json()
    assert first["count"] == 2
    assert first["totalCount"] == 5
    assert first["previous"] is None
    names = [a["name"] for a in first["data"]]
    url = first["next"]
    while url:
        page = api.get(url).json()
        names += [a["name"] for a in page["data"]]
        assert page["next"] is None or page["next"].startswith("http://127.0.0.1:")
        url = page["next"]
    assert sorted(names) == [f"paged-{i}" for i in range(5)]
    drafts = api.get("/registry/artifacts/", params={"status": "registered", "search": "paged"})
    assert drafts.json()["totalCount"] == 0


def test_unknown_ids_are_404(api: httpx.Client) -> None:
    for path in (
        f"/console/workloads/{DUMMY_ID}/",
        f"/registry/artifacts/{DUMMY_ID}",
        f"/console/deployments/{DUMMY_ID}/",
        f"/otel/workload/{DUMMY_ID}/logs/",
        f"/endpoints/workloads/{DUMMY_ID}/",
    ):
        answer = api.get(path)
        assert answer.status_code == 404, path
        assert DUMMY_ID in answer.json()["detail"]
