"""The v2.41 lists' filters, order and page links, as DataRobot's clients send them.

``ids`` (repeated, comma-separated, or both), ``orderBy`` (``sort`` as another spelling, which
``orderBy`` overrides: a field, ``-`` in front for descending; anything else is ``422`` naming the
parameter) on workloads, artifacts and deployments; ``wid`` (and ``workloadId``: with both, a
deployment matches both) on deployments; ``next``/``previous``
keep the path as it was requested, trailing slash included, and the other query parameters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from harness import LocalServer, create_workload, free_port, hello_spec, wait_status

RESOURCES = ("/console/workloads/", "/registry/artifacts/", "/console/deployments/")


def make_artifact(api: httpx.Client, name: str) -> str:
    body = hello_spec(free_port())
    body["name"] = name
    answer = api.post("/registry/artifacts/", json=body)
    assert answer.status_code == 201, answer.text
    artifact_id: str = answer.json()["id"]
    return artifact_id


def listed(api: httpx.Client, path: str, params: Any) -> list[str]:
    """The names a list answers (``200`` asserted), in its order."""
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["count"] == len(page["data"]) == page["totalCount"]
    return [item["name"] for item in page["data"]]


def refused_at(answer: httpx.Response) -> list[list[Any]]:
    assert answer.status_code == 422, answer.text
    return [issue["loc"] for issue in answer.json()["detail"]]


@pytest.fixture(scope="module")
def deployed(server: LocalServer) -> dict[str, dict[str, Any]]:
    """Two running workloads with registered artifacts, each with a deployment (``beta``
    created first, with importance ``high``; ``alpha`` then, ``low``): name → deployment."""
    made = {}
    with server.client() as api:
        for name, importance in (("beta", "high"), ("alpha", "low")):
            workload_id = create_workload(api, f"dep-{name}", hello_spec(free_port(), name))
            artifact_id = wait_status(api, workload_id, "running")["artifactId"]
            registered = api.patch(
                f"/registry/artifacts/{artifact_id}", json={"status": "registered"}
            )
            assert registered.status_code == 200, registered.text
            body = {"workloadId": workload_id, "name": f"dep-{name}", "importance": importance}
            answer = api.post("/console/deployments/", json=body)
            assert answer.status_code == 201, answer.text
            made[name] = answer.json()
    return made


# -- ids ---------------------------------------------------------------------------------------


def test_ids_are_repeatable_and_comma_separated_on_artifacts(api: httpx.Client) -> None:
    ids = [make_artifact(api, f"ids-{index}") for index in range(4)]
    assert listed(api, "/registry/artifacts/", {"search": "ids-"}) == [
        "ids-3",
        "ids-2",
        "ids-1",
        "ids-0",
    ]
    assert listed(api, "/registry/artifacts/", {"ids": ids[1]}) == ["ids-1"]
    assert listed(api, "/registry/artifacts/", {"ids": f"{ids[0]},{ids[2]}"}) == ["ids-2", "ids-0"]
    both = [("ids", f"{ids[0]},{ids[1]}"), ("ids", ids[3])]
    assert listed(api, "/registry/artifacts/", both) == ["ids-3", "ids-1", "ids-0"]
    # Other filters still apply; an id nothing has matches nothing.
    assert listed(api, "/registry/artifacts/", {"ids": ids[0], "status": "registered"}) == []
    assert listed(api, "/registry/artifacts/", {"ids": "0123456789abcdef01234567"}) == []
    assert listed(api, "/registry/artifacts/", {"ids": f",{ids[2]},,"}) == ["ids-2"]


def test_ids_filter_workloads_and_deployments(
    api: httpx.Client, deployed: dict[str, dict[str, Any]]
) -> None:
    alpha, beta = deployed["alpha"], deployed["beta"]
    assert listed(api, "/console/workloads/", {"ids": alpha["workloadId"]}) == ["dep-alpha"]
    both = f"{alpha['workloadId']},{beta['workloadId']}"
    assert listed(api, "/console/workloads/", {"ids": both}) == ["dep-alpha", "dep-beta"]
    assert listed(api, "/console/deployments/", {"ids": beta["id"]}) == ["dep-beta"]
    repeated = [("ids", alpha["id"]), ("ids", beta["id"])]
    assert listed(api, "/console/deployments/", repeated) == ["dep-alpha", "dep-beta"]


# -- orderBy / sort ----------------------------------------------------------------------------


def test_artifacts_are_ordered_as_asked(api: httpx.Client) -> None:
    for name in ("order-b", "order-a", "order-c"):
        make_artifact(api, name)
    search = {"search": "order-"}
    created = ["order-b", "order-a", "order-c"]
    assert listed(api, "/registry/artifacts/", search) == created[::-1], "newest first by default"
    for spelling in ("orderBy", "sort"):
        assert listed(api, "/registry/artifacts/", {**search, spelling: "name"}) == sorted(created)
        by_name_desc = listed(api, "/registry/artifacts/", {**search, spelling: "-name"})
        assert by_name_desc == sorted(created, reverse=True)
        assert listed(api, "/registry/artifacts/", {**search, spelling: "createdAt"}) == created
        assert (
            listed(api, "/registry/artifacts/", {**search, spelling: "-createdAt"})
            == (created[::-1])
        )
    # Both spellings: orderBy wins (what the API document says is valid is not refused).
    both = {**search, "orderBy": "name", "sort": "-name"}
    assert listed(api, "/registry/artifacts/", both) == sorted(created)


def test_an_unknown_order_is_422_naming_the_parameter(api: httpx.Client) -> None:
    for path in RESOURCES:
        for spelling in ("orderBy", "sort"):
            for value in ("size", "--name", "", "name,createdAt", "Name"):
                answer = api.get(path, params={spelling: value})
                assert refused_at(answer) == [["query", spelling]], (path, spelling, value)


def test_workloads_and_deployments_are_ordered_as_asked(
    api: httpx.Client, deployed: dict[str, dict[str, Any]]
) -> None:
    search = {"search": "dep-"}
    assert listed(api, "/console/workloads/", search) == ["dep-alpha", "dep-beta"]
    assert listed(api, "/console/workloads/", {**search, "orderBy": "name"}) == [
        "dep-alpha",
        "dep-beta",
    ]
    assert listed(api, "/console/workloads/", {**search, "orderBy": "createdAt"}) == [
        "dep-beta",
        "dep-alpha",
    ]
    assert listed(api, "/console/workloads/", {**search, "sort": "-name"}) == [
        "dep-beta",
        "dep-alpha",
    ]
    assert listed(api, "/console/deployments/", {"orderBy": "-name"}) == ["dep-beta", "dep-alpha"]
    assert listed(api, "/console/deployments/", {"orderBy": "createdAt"}) == [
        "dep-beta",
        "dep-alpha",
    ]
    # Importance goes low < moderate < high < critical, not by its spelling.
    assert listed(api, "/console/deployments/", {"orderBy": "importance"}) == [
        "dep-alpha",
        "dep-beta",
    ]
    assert listed(api, "/console/deployments/", {"sort": "-importance"}) == [
        "dep-beta",
        "dep-alpha",
    ]


# -- wid ---------------------------------------------------------------------------------------


def test_deployments_filter_by_wid_and_workload_id(
    api: httpx.Client, deployed: dict[str, dict[str, Any]]
) -> None:
    alpha, beta = deployed["alpha"], deployed["beta"]
    assert listed(api, "/console/deployments/", {"wid": alpha["workloadId"]}) == ["dep-alpha"]
    assert listed(api, "/console/deployments/", {"wid": beta["workloadId"]}) == ["dep-beta"]
    assert listed(api, "/console/deployments/", {"workloadId": beta["workloadId"]}) == ["dep-beta"]
    same = {"wid": alpha["workloadId"], "workloadId": alpha["workloadId"]}
    assert listed(api, "/console/deployments/", same) == ["dep-alpha"]
    differ = {"wid": alpha["workloadId"], "workloadId": beta["workloadId"]}
    assert listed(api, "/console/deployments/", differ) == [], "no deployment has both"
    assert listed(api, "/console/deployments/", {"wid": "0123456789abcdef01234567"}) == []


# -- next / previous ---------------------------------------------------------------------------


def _link(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", dict(parse_qsl(parts.query))


@pytest.mark.parametrize("slash", ["/", ""])
def test_page_links_keep_the_path_as_requested(
    server: LocalServer, api: httpx.Client, slash: str
) -> None:
    search = f"linked-{'slash' if slash else 'bare'}-"
    for index in range(3):
        make_artifact(api, f"{search}{index}")
    path = f"/registry/artifacts{slash}"
    first = api.get(path, params={"search": search, "limit": 1, "orderBy": "name"}).json()
    assert first["previous"] is None
    url, query = _link(first["next"])
    assert url == f"{server.endpoint}{path}"
    assert query == {"search": search, "orderBy": "name", "offset": "1", "limit": "1"}
    second = api.get(first["next"]).json()
    assert [a["name"] for a in second["data"]] == [f"{search}1"]
    for link, offset in ((second["next"], "2"), (second["previous"], "0")):
        url, query = _link(link)
        assert url == f"{server.endpoint}{path}"
        assert query == {"search": search, "orderBy": "name", "offset": offset, "limit": "1"}


def test_trail_links_keep_the_path_as_requested(server: LocalServer, api: httpx.Client) -> None:
    artifact_id = make_artifact(api, "trail-links")
    api.patch(f"/registry/artifacts/{artifact_id}", json={"description": "one"})
    api.patch(f"/registry/artifacts/{artifact_id}", json={"description": "two"})
    for slash in ("/", ""):
        path = f"/registry/artifacts/{artifact_id}/events{slash}"
        page = api.get(path, params={"limit": 1, "offset": 1}).json()
        assert _link(page["next"])[0] == f"{server.endpoint}{path}"
        assert _link(page["previous"])[0] == f"{server.endpoint}{path}"


def test_the_api_document_lists_the_filters_and_orders(server: LocalServer) -> None:
    paths = httpx.get(f"{server.endpoint}/openapi.json").json()["paths"]

    def parameters(path: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p["schema"] for p in paths[f"/api/v2{path}"]["get"]["parameters"]}

    def values(schema: dict[str, Any]) -> set[str]:
        return {v for variant in schema["anyOf"] for v in variant.get("enum", [])}

    orders = {"name", "createdAt", "updatedAt", "status"}
    for path in ("/console/workloads", "/registry/artifacts", "/console/deployments"):
        found = parameters(path)
        assert {"ids", "orderBy", "sort"} <= set(found), path
        extra = {"importance"} if "deployments" in path else set()
        expected = {f"{sign}{o}" for o in orders | extra for sign in ("", "-")}
        assert values(found["orderBy"]) == values(found["sort"]) == expected, path
    assert {"wid", "workloadId"} <= set(parameters("/console/deployments"))
