"""The local server's current API generation (``--api current``, ``workload-api-current.md``):
workloads, artifacts, repositories, list rules, errors, what is not served, over real HTTP."""

from __future__ import annotations

import copy
import hashlib
import sys
from pathlib import Path

import httpx

import test_server_openapi as openapi
from currenttools import create, current_artifact, runtime, statuses_until, wait_for

from harness import FAKE_TOKEN, LocalServer, free_port

SECRET_APP = str(Path(__file__).with_name("secret_app.py"))


def test_each_profile_mounts_only_its_generation(api: httpx.Client, capi: httpx.Client) -> None:
    for path in ("/workloads/", "/artifacts/", "/artifactRepositories/", "/account/info"):
        assert api.get(path).status_code == 404, path
    for path in ("/console/workloads/", "/registry/artifacts/", "/console/deployments/"):
        assert capi.get(path).status_code == 404, path
    for client in (api, capi):  # shared by both generations
        assert client.get("/credentials/").status_code == 200
    current_paths = capi.get("/openapi.json").json()["paths"]
    assert "/api/v2/workloads/{workload_id}/start" in current_paths
    assert "/api/v2/artifacts/{artifact_id}/clone" in current_paths
    assert not any(path.startswith("/api/v2/console/") for path in current_paths)
    assert "/api/v2/workloads" not in api.get("/openapi.json").json()["paths"]


def test_create_start_stop_delete(capi: httpx.Client, current: LocalServer) -> None:
    body = {"artifact": current_artifact(free_port(), "hi", securityContext={"runAsNonRoot": None})}
    assert capi.post("/workloads/", json={"name": "x", **body}).status_code == 422

    artifact = current_artifact(free_port(), "hi", securityContext={"readOnlyRootFilesystem": True})
    created = create(
        capi,
        "hello",
        {
            "artifact": artifact,
            "description": "first",
            "runtime": runtime(cpu=1, memory="512MB"),
        },
    )
    assert created["status"] == "submitted"
    assert created["endpoint"] == f"{current.endpoint}/endpoints/workloads/{created['id']}/"
    assert created["artifact"]["status"] == "draft"
    assert created["artifact"]["type"] == created["type"] == "service"
    assert created["artifact"]["artifactRepositoryId"]
    assert created["description"] == "first"
    assert created["importance"] == "low"
    assert created["runtime"] == runtime(cpu=1, memory="512MB")
    assert created["replacement"] is None
    assert created["expiresAt"] is not None
    for gone in ("internalUrl", "runningSince", "runningArtifact", "rollout"):
        assert gone not in created
    workload_id = created["id"]
    assert statuses_until(capi, workload_id, "running")[-2:] == ["launching", "running"]
    running = capi.get(f"/workloads/{workload_id}/").json()
    assert running["protonId"] is not None
    assert capi.get(f"/endpoints/workloads/{workload_id}/").json()["greeting"] == "hi"
    found = capi.get("/workloads/", params=[("status", "launching"), ("status", "running")])
    assert workload_id in [w["id"] for w in found.json()["data"]]
    assert workload_id not in [
        w["id"] for w in capi.get("/workloads/", params={"status": "stopped"}).json()["data"]
    ]

    patched = capi.patch(f"/workloads/{workload_id}", json={"importance": "high", "name": "h2"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["importance"], patched.json()["name"]) == ("high", "h2")
    assert patched.json()["protonId"] == running["protonId"], "a PATCH does not restart"
    assert capi.patch(f"/workloads/{workload_id}", json={"runtime": {}}).status_code == 422

    assert capi.post(f"/workloads/{workload_id}/start").status_code == 200
    stopped = capi.post(f"/workloads/{workload_id}/stop")
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["workloadId"] == workload_id
    assert stopped.json()["trackVia"].endswith(f"/api/v2/workloads/{workload_id}/")
    wait_for(capi, workload_id, "stopped")
    assert capi.post(f"/workloads/{workload_id}/stop").status_code == 200
    assert capi.post(f"/workloads/{workload_id}/start", json={}).status_code == 202
    wait_for(capi, workload_id, "running")

    events = capi.get(f"/workloads/{workload_id}/events").json()["data"]
    assert events[0]["timestamp"] >= events[-1]["timestamp"], "newest first"
    assert {"workload.created", "workload.updated", "workload.stopped"} <= {
        event["eventType"] for event in events
    }
    assert all(event["type"] in ("Normal", "Warning") and event["reason"] for event in events)
    assert all(event["workloadId"] == workload_id for event in events)

    deleted = capi.delete(f"/workloads/{workload_id}")
    assert deleted.status_code == 204
    assert capi.get(f"/workloads/{workload_id}").status_code == 404
    assert capi.get(f"/endpoints/workloads/{workload_id}/").status_code == 404
    assert capi.get(f"/artifacts/{created['artifactId']}").status_code == 200, "artifact kept"


def test_create_refusals(capi: httpx.Client) -> None:
    artifact = current_artifact(free_port())
    missing = capi.post("/workloads/", json={"name": "x", "artifactId": "0" * 24})
    assert missing.status_code == 404
    both = {"name": "x", "artifact": artifact, "artifactId": "0" * 24}
    assert capi.post("/workloads/", json=both).status_code == 422

    unbuilt = copy.deepcopy(artifact)
    main = unbuilt["spec"]["containerGroups"][0]["containers"][0]
    del main["imageUri"]
    main["imageBuildConfig"] = {"dockerfile": {"source": "generated"}}
    refused = capi.post("/workloads/", json={"name": "x", "artifact": unbuilt})
    assert refused.status_code == 422
    assert "imageUri" in refused.json()["detail"][0]["msg"]

    wrong_group = {"containerGroups": [{"name": "gpu", "replicaCount": 1}]}
    refused = capi.post(
        "/workloads/", json={"name": "x", "artifact": artifact, "runtime": wrong_group}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "runtime", "containerGroups", 0, "name"]
    both_scaling = runtime()
    both_scaling["containerGroups"][0]["autoscaling"] = {"enabled": True, "maxReplicaCount": 2}
    refused = capi.post(
        "/workloads/", json={"name": "x", "artifact": artifact, "runtime": both_scaling}
    )
    assert refused.status_code == 422
    bad_memory = runtime(memory="12 parsecs")
    refused = capi.post(
        "/workloads/", json={"name": "x", "artifact": artifact, "runtime": bad_memory}
    )
    assert refused.status_code == 422
    no_primary = copy.deepcopy(artifact)
    no_primary["spec"]["containerGroups"][0]["containers"][0]["primary"] = False
    refused = capi.post("/workloads/", json={"name": "x", "artifact": no_primary})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:5] == [
        "body",
        "artifact",
        "spec",
        "containerGroups",
        0,
    ]
    assert capi.get("/workloads/", params={"search": "x"}).json()["totalCount"] == 0

    draft = capi.post("/artifacts/", json=current_artifact(free_port())).json()
    first = create(capi, "first", {"artifactId": draft["id"]})
    assert first["expiresAt"] is not None, "a draft's workload has a TTL"
    again = capi.post("/workloads/", json={"name": "second", "artifactId": draft["id"]})
    assert again.status_code == 409, again.text
    referenced = capi.delete(f"/artifacts/{draft['id']}")
    assert referenced.status_code == 409
    assert referenced.json()["detail"] == (
        f"Cannot delete artifact referenced by 1 workload(s): {first['id']}."
        " Delete the workload(s) first."
    )
    assert capi.delete(f"/workloads/{first['id']}").status_code == 204
    assert capi.delete(f"/artifacts/{draft['id']}").status_code == 204


def test_artifacts_lock_clone_and_repositories(capi: httpx.Client) -> None:
    body = current_artifact(free_port(), name="versioned")
    main = body["spec"]["containerGroups"][0]["containers"][0]
    main["securityContext"] = {"capabilities": {"drop": ["ALL"]}}
    main["imageBuildConfig"] = {"codeRef": {"x": 1}, "dockerfile": {"source": "provided"}}
    answer = capi.post("/artifacts/", json=body)
    assert answer.status_code == 201, answer.text
    draft = answer.json()
    assert (draft["status"], draft["version"], draft["type"]) == ("draft", None, "service")
    assert draft["spec"] == {**body["spec"], "type": "service"}, "the spec as sent, with type"
    repository_id = draft["artifactRepositoryId"]
    repository = capi.get(f"/artifactRepositories/{repository_id}").json()
    assert (repository["numArtifacts"], repository["lastVersionNumber"]) == (1, None)

    # GET -> PUT back is accepted (spec.type equal to type); PATCH replaces the whole spec.
    put = capi.put(f"/artifacts/{draft['id']}", json={"name": "versioned", "spec": draft["spec"]})
    assert put.status_code == 200, put.text
    changed = copy.deepcopy(body["spec"])
    changed["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = "v2"
    patched = capi.patch(f"/artifacts/{draft['id']}", json={"spec": changed})
    assert patched.status_code == 200, patched.text
    assert patched.json()["spec"]["containerGroups"] == changed["containerGroups"]
    typed = capi.patch(f"/artifacts/{draft['id']}", json={"spec": {**changed, "type": "service"}})
    assert typed.status_code == 422

    locked = capi.patch(f"/artifacts/{draft['id']}", json={"status": "locked"})
    assert locked.status_code == 200, locked.text
    assert (locked.json()["status"], locked.json()["version"]) == ("locked", 1)
    assert capi.get(f"/artifactRepositories/{repository_id}").json()["lastVersionNumber"] == 1
    refused = capi.put(f"/artifacts/{draft['id']}", json={"name": "v", "spec": changed})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Cannot update artifact: artifact is locked"}
    assert capi.patch(f"/artifacts/{draft['id']}", json={"name": "n"}).status_code == 403
    assert capi.patch(f"/artifacts/{draft['id']}", json={"status": "locked"}).status_code == 409
    assert capi.delete(f"/artifacts/{draft['id']}").status_code == 409

    clone = capi.post(f"/artifacts/{draft['id']}/clone", json={"name": "versioned"})
    assert clone.status_code == 200, clone.text
    assert clone.json()["status"] == "draft"
    assert clone.json()["artifactRepositoryId"] == repository_id
    assert clone.json()["spec"] == locked.json()["spec"]
    second = capi.patch(f"/artifacts/{clone.json()['id']}", json={"status": "locked"}).json()
    assert second["version"] == 2
    at_once = capi.post(
        "/artifacts/",
        json={**body, "status": "locked", "artifactRepositoryId": repository_id},
    ).json()
    assert (at_once["status"], at_once["version"]) == ("locked", 3)

    unbuilt = copy.deepcopy(body)
    del unbuilt["spec"]["containerGroups"][0]["containers"][0]["imageUri"]
    unbuilt_draft = capi.post("/artifacts/", json=unbuilt).json()
    cannot = capi.patch(f"/artifacts/{unbuilt_draft['id']}", json={"status": "locked"})
    assert cannot.status_code == 422
    assert cannot.json()["detail"].startswith("Cannot lock artifact: imageBuildConfig is set")

    listed = capi.get("/artifacts/", params={"repositoryId": repository_id, "orderBy": "createdAt"})
    assert [a["version"] for a in listed.json()["data"]] == [1, 2, 3]
    locked_only = capi.get("/artifacts/", params=[("status", "locked"), ("ids", draft["id"])])
    assert [a["id"] for a in locked_only.json()["data"]] == [draft["id"]]
    assert capi.delete(f"/artifactRepositories/{repository_id}").status_code == 409

    fresh = "ab" * 12  # an unknown repository id creates it
    made = capi.post("/artifacts/", json={**body, "artifactRepositoryId": fresh})
    assert made.json()["artifactRepositoryId"] == fresh
    assert capi.delete(f"/artifactRepositories/{fresh}").status_code == 204
    assert capi.get(f"/artifacts/{made.json()['id']}").status_code == 404
    assert capi.get(f"/artifactRepositories/{fresh}").status_code == 404


def test_list_rules(capi: httpx.Client) -> None:
    for name in ("order-b", "order-a", "order-c"):
        assert capi.post("/artifacts/", json=current_artifact(1024, name=name)).status_code == 201
    names = [
        a["name"]
        for a in capi.get("/artifacts/", params={"search": "ORDER-", "orderBy": "-name"}).json()[
            "data"
        ]
    ]
    assert names == ["order-c", "order-b", "order-a"]
    newest = capi.get("/artifacts/", params={"search": "order-"}).json()["data"]
    assert [a["name"] for a in newest] == ["order-c", "order-a", "order-b"], "-createdAt"
    assert capi.get("/artifacts/", params={"orderBy": "importance"}).status_code == 422
    assert capi.get("/artifactRepositories/", params={"orderBy": "status"}).status_code == 422
    both = ",".join(a["id"] for a in newest[:2])
    assert len(capi.get("/artifacts/", params={"ids": both}).json()["data"]) == 2
    assert capi.get("/workloads/", params={"orderBy": "-importance"}).status_code == 200
    assert capi.get("/workloads/", params={"limit": 101}).status_code == 422
    assert capi.get("/workloads/", params={"search": "x" * 101}).status_code == 422
    lacking = capi.get("/workloads/", params={"createdBy": "me", "tagKeys": "a"})
    assert lacking.status_code == 422
    assert [issue["loc"] for issue in lacking.json()["detail"]] == [
        ["query", "createdBy"],
        ["query", "tagKeys"],
    ]
    paged = capi.get("/artifacts/", params={"search": "order-", "limit": 2}).json()
    assert (paged["count"], paged["totalCount"]) == (2, 3)
    assert paged["next"]
    some_id = "0" * 24
    for path in (f"/otel/workload/{some_id}/logs/", "/credentials/"):
        refused = capi.get(path, params={"spanId": "a"})
        assert refused.status_code == 422, path
        assert refused.json()["detail"][0]["loc"] == ["query", "spanId"]
    repositories = capi.get("/artifactRepositories/", params={"search": "order-a"}).json()
    assert [r["name"] for r in repositories["data"]] == ["order-a"]


def test_not_served_and_account(capi: httpx.Client) -> None:
    some_id = "0" * 24
    for method, path, feature in (
        ("GET", "/workloads/stats", "Workload stats"),
        ("GET", f"/workloads/{some_id}/stats/latency", "Workload stats"),
        ("POST", f"/artifacts/{some_id}/builds", "Artifact builds"),
        ("GET", f"/artifacts/{some_id}/builds/{some_id}", "Artifact builds"),
        ("GET", f"/workloads/{some_id}/sharedRoles", "Sharing (sharedRoles)"),
        ("GET", f"/otel/workload/{some_id}/traces", "OTel traces"),
        ("GET", f"/otel/workload/{some_id}/metrics", "OTel metrics"),
    ):
        answer = capi.request(method, path)
        assert answer.status_code == 501, path
        assert answer.json() == {"detail": f"{feature} is not implemented by workloadlab serve"}
    info = capi.get("/account/info").json()
    assert info["limits"] == {"maxConcurrentWorkloads": 0, "maxWorkloadReplicas": 0}
    assert info["uid"]
    assert info["email"]


def test_credentials_and_api_key_variables(capi: httpx.Client, current: LocalServer) -> None:
    secret = "ghp-current-generation-secret"
    credential = capi.post(
        "/credentials/",
        json={"name": "gh-current", "credentialType": "api_token", "apiToken": secret},
    )
    assert credential.status_code == 201, credential.text
    credential_id = credential.json()["id"]
    reference = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": credential_id,
        "key": "apiToken",
    }
    artifact = current_artifact(
        free_port(), entrypoint=[sys.executable, SECRET_APP], env=[reference, {"source": "api-key"}]
    )
    broken = copy.deepcopy(artifact)
    broken["spec"]["containerGroups"][0]["containers"][0]["environmentVars"][1][
        "drCredentialId"
    ] = "f" * 24
    refused = capi.post("/workloads/", json={"name": "s", "artifact": broken})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][:3] == ["body", "artifact", "spec"]

    workload = create(capi, "secrets", {"artifact": artifact})
    wait_for(capi, workload["id"], "running")
    seen = capi.get(f"/endpoints/workloads/{workload['id']}/").json()
    assert seen["secretSha256"] == hashlib.sha256(secret.encode()).hexdigest()
    assert seen["tokenSha256"] == hashlib.sha256(FAKE_TOKEN.encode()).hexdigest()
    assert seen["endpoint"] == current.endpoint
    stored = capi.get(f"/artifacts/{workload['artifactId']}").text
    assert secret not in stored
    assert "drCredentialId" in stored
    assert capi.delete(f"/workloads/{workload['id']}").status_code == 204


def test_draft_ttl(capi: httpx.Client) -> None:
    draft = create(capi, "ttl", {"artifact": current_artifact(free_port())})
    first_expiry = draft["expiresAt"]
    assert first_expiry is not None
    wait_for(capi, draft["id"], "running")
    assert capi.post(f"/workloads/{draft['id']}/stop").status_code == 202
    wait_for(capi, draft["id"], "stopped")
    settings = capi.get(f"/workloads/{draft['id']}/settings").json()
    refused = capi.patch(f"/workloads/{draft['id']}/settings", json=settings)
    assert refused.status_code == 422, "nothing running to roll"
    assert capi.post(f"/workloads/{draft['id']}/start").status_code == 202
    assert capi.get(f"/workloads/{draft['id']}").json()["expiresAt"] > first_expiry, "reset"
    assert capi.delete(f"/workloads/{draft['id']}").status_code == 204

    locked = capi.post(
        "/artifacts/", json={**current_artifact(free_port()), "status": "locked"}
    ).json()
    steady = create(capi, "steady", {"artifactId": locked["id"]})
    assert steady["expiresAt"] is None, "a locked artifact's workload has no TTL"
    assert create(capi, "steady-2", {"artifactId": locked["id"]})["artifact"]["version"] == 1
    for workload in capi.get("/workloads/", params={"artifactId": locked["id"]}).json()["data"]:
        assert capi.delete(f"/workloads/{workload['id']}").status_code == 204


def test_the_openapi_document_is_the_current_generations(current: LocalServer) -> None:
    document = httpx.get(f"{current.endpoint}/openapi.json").json()
    openapi.test_the_bearer_scheme_is_declared_and_required_by_every_operation(document)
    openapi.test_every_operation_documents_the_errors_it_can_answer(document)
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    paths = document["paths"]

    def answer_schema(method: str, path: str, code: str) -> str:
        content = paths[f"/api/v2{path}"][method]["responses"][code]["content"]
        return str(content["application/json"]["schema"])

    assert "WorkloadFormatted" in answer_schema("get", "/workloads/{workload_id}", "200")
    assert "Replacement" in answer_schema("post", "/workloads/{workload_id}/replacement", "202")
    assert "ArtifactFormatted" in answer_schema("post", "/artifacts/{artifact_id}/clone", "200")
    assert "ErrorBody" in answer_schema("get", "/workloads/stats", "501")
    create = paths["/api/v2/workloads"]["post"]["requestBody"]["content"]["application/json"]
    assert "CreateCurrentWorkload" in str(create["schema"])


def test_a_runtime_of_two_replicas_runs_two_instances_behind_the_endpoint(
    capi: httpx.Client,
) -> None:
    body = {"artifact": current_artifact(free_port()), "runtime": runtime(replicas=2)}
    workload = create(capi, "twice", body)
    workload_id = workload["id"]
    wait_for(capi, workload_id, "running")
    ports = {
        capi.get(f"/endpoints/workloads/{workload_id}/instance").json()["port"] for _ in range(10)
    }
    assert len(ports) == 2, ports
    settings = capi.get(f"/workloads/{workload_id}/settings").json()
    assert settings["runtime"]["containerGroups"][0]["replicaCount"] == 2
    assert capi.delete(f"/workloads/{workload_id}").status_code == 204


def test_a_get_of_a_workload_can_wait_for_its_change_as_in_v241(capi: httpx.Client) -> None:
    workload = create(capi, "waited", {"artifact": current_artifact(free_port())})
    workload_id = workload["id"]
    wait_for(capi, workload_id, "running")
    assert capi.post(f"/workloads/{workload_id}/stop").status_code == 202
    wait_for(capi, workload_id, "stopped")  # a running app's log tail changes all the time
    first = capi.get(f"/workloads/{workload_id}", headers={"Prefer": "wait=5"})
    assert first.headers["Preference-Applied"] == "wait=5"
    etag = first.headers["ETag"]
    unchanged = capi.get(
        f"/workloads/{workload_id}", headers={"If-None-Match": etag, "Prefer": "wait=0.2"}
    )
    assert unchanged.status_code == 304
    assert capi.post(f"/workloads/{workload_id}/start").status_code == 202
    changed = capi.get(
        f"/workloads/{workload_id}", headers={"If-None-Match": etag, "Prefer": "wait=10"}
    )
    assert changed.status_code == 200
    assert changed.json()["status"] != "stopped"
    assert changed.headers["ETag"] != etag
    assert capi.delete(f"/workloads/{workload_id}").status_code == 204
