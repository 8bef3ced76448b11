"""The versions of an artifact collection, and which deployments run them (what the notebook's
versions listing asks): ``collectionId`` on the artifacts list, ``artifactId`` on the
deployments list (local-server extensions)."""

from __future__ import annotations

import httpx

from rollouttools import collection_name, deploy, register

from harness import free_port, hello_spec


def test_the_versions_of_a_collection_and_who_runs_them(api: httpx.Client) -> None:
    name, port = collection_name(), free_port()
    v1 = register(api, hello_spec(port, "one"), name)
    v2 = register(api, hello_spec(port, "two"), name)
    register(api, hello_spec(port, "elsewhere"), collection_name())
    api.post("/registry/artifacts/", json={**hello_spec(port, "draft"), "name": name})
    _, deployment_id = deploy(api, v1["id"])

    listed = api.get(
        "/registry/artifacts/",
        params={"collectionId": v1["artifactCollectionId"], "status": "registered"},
    ).json()
    assert [a["version"] for a in listed["data"]] == [2, 1]
    assert [a["id"] for a in listed["data"]] == [v2["id"], v1["id"]]
    runs_them = api.get(
        "/console/deployments/", params=[("artifactId", v1["id"]), ("artifactId", v2["id"])]
    ).json()
    assert [d["id"] for d in runs_them["data"]] == [deployment_id]
