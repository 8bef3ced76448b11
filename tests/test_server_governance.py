"""Governance of the local server (``workload-api.md`` §8): what is locked is what is deployed,
and deployments are protected.

A workload shows which artifact spec its running instance runs (``runningArtifact``), an
artifact its own spec's digest (``specDigest``); a deployment needs a workload that is running
and ready with the registered spec, and a workload backs at most one; stop, start and delete of
a deployed workload need ``?force=true``, which the trail records with its actor.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import LocalServer, create_workload, free_port, hello_spec, wait_status


def canonical_digest(spec: dict[str, Any]) -> str:
    """The digest of a spec as the API documents it: SHA-256 of its canonical JSON."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def workload(api: httpx.Client, workload_id: str) -> dict[str, Any]:
    answer = api.get(f"/console/workloads/{workload_id}/")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def artifact_of(api: httpx.Client, workload_id: str) -> dict[str, Any]:
    answer = api.get(f"/registry/artifacts/{workload(api, workload_id)['artifactId']}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def edit_greeting(api: httpx.Client, artifact: dict[str, Any], greeting: str) -> dict[str, Any]:
    """PUT the artifact back with another greeting; the new artifact."""
    body = {k: copy.deepcopy(artifact[k]) for k in ("name", "description", "spec")}
    body["spec"]["containerGroups"][0]["containers"][0]["environmentVars"] = [
        {"name": "GREETING", "value": greeting}
    ]
    answer = api.put(f"/registry/artifacts/{artifact['id']}", json=body)
    assert answer.status_code == 200, answer.text
    edited: dict[str, Any] = answer.json()
    return edited


def restart(api: httpx.Client, workload_id: str, **params: str) -> dict[str, Any]:
    stop = api.post(f"/console/workloads/{workload_id}/stop", params=params)
    assert stop.status_code == 202, stop.text
    wait_status(api, workload_id, "stopped")
    start = api.post(f"/console/workloads/{workload_id}/start", params=params)
    assert start.status_code == 202, start.text
    return wait_status(api, workload_id, "running")


def register(api: httpx.Client, artifact_id: str) -> dict[str, Any]:
    answer = api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def deploy(api: httpx.Client, workload_id: str, name: str) -> httpx.Response:
    return api.post("/console/deployments/", json={"workloadId": workload_id, "name": name})


def deployed_workload(api: httpx.Client, name: str) -> tuple[str, dict[str, Any]]:
    """A running workload with a registered artifact and its deployment."""
    workload_id = create_workload(api, name, hello_spec(free_port(), name))
    wait_status(api, workload_id, "running")
    register(api, workload(api, workload_id)["artifactId"])
    answer = deploy(api, workload_id, f"{name}-prod")
    assert answer.status_code == 201, answer.text
    deployment: dict[str, Any] = answer.json()
    return workload_id, deployment


# -- 1. the running artifact -------------------------------------------------------------------


def test_the_workload_shows_the_artifact_spec_its_instance_runs(api: httpx.Client) -> None:
    workload_id = create_workload(api, "shows-spec", hello_spec(free_port(), "first"))
    running = wait_status(api, workload_id, "running")
    artifact = artifact_of(api, workload_id)
    assert artifact["specDigest"] == canonical_digest(artifact["spec"])
    runs = running["runningArtifact"]
    assert runs["id"] == artifact["id"]
    assert runs["version"] is None  # a draft
    assert runs["specDigest"] == artifact["specDigest"]
    assert runs["startedAt"] is not None

    edited = edit_greeting(api, artifact, "second")
    assert edited["specDigest"] == canonical_digest(edited["spec"]) != artifact["specDigest"]
    assert workload(api, workload_id)["runningArtifact"] == runs, "it still runs the first spec"

    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    assert workload(api, workload_id)["runningArtifact"] is None
    assert api.post(f"/console/workloads/{workload_id}/start").status_code == 202
    again = wait_status(api, workload_id, "running")["runningArtifact"]
    assert again["specDigest"] == edited["specDigest"]
    assert again["startedAt"] > runs["startedAt"]

    registered = register(api, artifact["id"])
    assert registered["specDigest"] == edited["specDigest"], "registering changes no spec"
    assert workload(api, workload_id)["runningArtifact"] == {**again, "version": 1}
    listed = api.get("/console/workloads/", params={"search": "shows-spec"}).json()["data"]
    assert listed[0]["runningArtifact"]["specDigest"] == registered["specDigest"]
    assert api.get("/registry/artifacts/").json()["data"][0]["specDigest"].startswith("sha256:")


def test_a_restarted_server_keeps_what_adopted_instances_run(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            workload_id = create_workload(api, "adopted", hello_spec(free_port(), "before"))
            runs = wait_status(api, workload_id, "running")["runningArtifact"]
            edit_greeting(api, artifact_of(api, workload_id), "edited while the server is down")
        server.kill()  # its workloads keep running, and the next server adopts them
        server = LocalServer(data_dir).start()
        with server.client() as api:
            adopted = wait_status(api, workload_id, "running")
            assert adopted["runningArtifact"] == runs
            assert api.get(f"/endpoints/workloads/{workload_id}/").json()["greeting"] == "before"
    finally:
        server.stop()


# -- 2. a deployment needs the registered spec, running and ready ------------------------------


def test_deploying_a_workload_that_runs_an_older_spec_is_409_until_it_restarts(
    api: httpx.Client,
) -> None:
    workload_id = create_workload(api, "stale", hello_spec(free_port(), "old"))
    runs = wait_status(api, workload_id, "running")["runningArtifact"]
    edited = edit_greeting(api, artifact_of(api, workload_id), "new")
    registered = register(api, edited["id"])

    refused = deploy(api, workload_id, "stale-prod")
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert workload_id in detail
    assert runs["specDigest"][:19] in detail
    assert registered["specDigest"][:19] in detail
    assert "draft" in detail
    assert f"registered version {registered['version']}" in detail
    assert "restart it first" in detail
    assert (
        api.get("/console/deployments/", params={"workloadId": workload_id}).json()["totalCount"]
        == 0
    )

    restart(api, workload_id)
    created = deploy(api, workload_id, "stale-prod")
    assert created.status_code == 201, created.text
    assert api.get(f"/endpoints/deployments/{created.json()['id']}/").json()["greeting"] == "new"


def test_deploying_a_workload_that_is_not_running_and_ready_is_409(api: httpx.Client) -> None:
    workload_id = create_workload(api, "resting", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    register(api, workload(api, workload_id)["artifactId"])
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    refused = deploy(api, workload_id, "resting-prod")
    assert refused.status_code == 409, refused.text
    assert "stopped" in refused.json()["detail"]
    assert "running" in refused.json()["detail"]

    never_ready = create_workload(
        api,
        "never-ready",
        # probed where nothing listens: the example app answers 200 on any path of its own
        hello_spec(free_port(), readinessProbe={"path": "/readyz", "port": free_port()}),
    )
    wait_status(api, never_ready, "initializing")
    register(api, workload(api, never_ready)["artifactId"])
    refused = deploy(api, never_ready, "never-ready-prod")
    assert refused.status_code == 409, refused.text
    assert "initializing" in refused.json()["detail"]
    assert api.delete(f"/console/workloads/{never_ready}/").status_code == 204


# -- 3. one live deployment per workload -------------------------------------------------------


def test_a_workload_backs_at_most_one_live_deployment(api: httpx.Client) -> None:
    workload_id, first = deployed_workload(api, "single")
    second = deploy(api, workload_id, "single-again")
    assert second.status_code == 409, second.text
    assert first["id"] in second.json()["detail"]
    assert first["name"] in second.json()["detail"]
    assert api.delete(f"/console/deployments/{first['id']}/").status_code == 204
    assert deploy(api, workload_id, "single-again").status_code == 201


# -- 4. deployed workloads are protected -------------------------------------------------------


def _events(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    answer = api.get(path)
    assert answer.status_code == 200, answer.text
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_stop_and_start_of_a_deployed_workload_need_force(
    server: LocalServer, api: httpx.Client
) -> None:
    workload_id, deployment = deployed_workload(api, "guarded")
    named = f"backs deployment {deployment['name']} ({deployment['id']})"
    for method, path in (
        ("POST", f"/console/workloads/{workload_id}/stop"),
        ("DELETE", f"/console/workloads/{workload_id}/"),
    ):
        for params in ({}, {"force": "false"}):
            refused = api.request(method, path, params=params)
            assert refused.status_code == 409, refused.text
            assert named in refused.json()["detail"]
            assert "force=true" in refused.json()["detail"]
    assert workload(api, workload_id)["status"] == "running"
    assert api.post(f"/console/workloads/{workload_id}/stop?force=maybe").status_code == 422

    stopped = api.post(f"/console/workloads/{workload_id}/stop", params={"force": "true"})
    assert stopped.status_code == 202, stopped.text
    wait_status(api, workload_id, "stopped")
    mirrored = api.get(f"/console/deployments/{deployment['id']}/").json()
    assert mirrored["status"] == "stopped"
    user = workload(api, workload_id)["creator"]["id"]
    forced = next(
        e
        for e in _events(api, f"/console/workloads/{workload_id}/events")
        if e["eventType"] == "workload.stopped"
    )
    assert forced["details"]["forced"] is True
    assert forced["details"]["deploymentIds"] == [deployment["id"]]
    assert forced["actorId"] == user
    trail = _events(api, f"/console/deployments/{deployment['id']}/events")
    assert forced["id"] in [e["id"] for e in trail]
    tagged = _events(api, f"/console/events/?entityId={deployment['id']}&entityType=deployment")
    assert forced["id"] in [e["id"] for e in tagged]

    refused = api.post(f"/console/workloads/{workload_id}/start")
    assert refused.status_code == 409, refused.text
    assert named in refused.json()["detail"]
    started = api.post(f"/console/workloads/{workload_id}/start", params={"force": "true"})
    assert started.status_code == 202, started.text
    wait_status(api, workload_id, "running")
    restarted = _events(api, f"/console/deployments/{deployment['id']}/events")
    start_event = next(e for e in restarted if e["eventType"] == "workload.started")
    assert start_event["details"] == {"forced": True, "deploymentIds": [deployment["id"]]}
    assert start_event["actorId"] == user
    # A start of a running workload changes nothing: no guard, as before.
    assert api.post(f"/console/workloads/{workload_id}/start").status_code == 200


def test_force_deleting_a_deployed_workload_deletes_its_deployment_too(
    api: httpx.Client,
) -> None:
    workload_id, deployment = deployed_workload(api, "doomed")
    refused = api.delete(f"/console/workloads/{workload_id}/")
    assert refused.status_code == 409
    assert deployment["id"] in refused.json()["detail"]
    assert api.get(f"/endpoints/deployments/{deployment['id']}/").status_code == 200

    deleted = api.delete(f"/console/workloads/{workload_id}/", params={"force": "true"})
    assert deleted.status_code == 204, deleted.text
    assert api.get(f"/console/workloads/{workload_id}/").status_code == 404
    assert api.get(f"/console/deployments/{deployment['id']}/").status_code == 404

    user = deployment["creator"]["id"]
    trail = _events(api, f"/console/deployments/{deployment['id']}/events")
    assert trail[0]["eventType"] == "deployment.deleted"
    assert trail[0]["details"]["forced"] is True
    assert trail[0]["actorId"] == user
    workload_trail = _events(api, f"/console/workloads/{workload_id}/events")
    assert [e["eventType"] for e in workload_trail[:2]] == [
        "workload.deleted",
        "deployment.deleted",
    ]
    assert workload_trail[0]["details"]["forced"] is True
    assert workload_trail[0]["details"]["deploymentIds"] == [deployment["id"]]
    assert workload_trail[0]["actorId"] == user


def test_a_workload_without_deployments_needs_no_force(api: httpx.Client) -> None:
    workload_id = create_workload(api, "free", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    stopped = next(
        e
        for e in _events(api, f"/console/workloads/{workload_id}/events")
        if e["eventType"] == "workload.stopped"
    )
    assert "forced" not in stopped["details"]
    forced = api.delete(f"/console/workloads/{workload_id}/", params={"force": "true"})
    assert forced.status_code == 204


@pytest.mark.parametrize("action", ["stop", "start"])
def test_force_is_documented_on_the_guarded_actions(api: httpx.Client, action: str) -> None:
    document = api.get("/openapi.json").json()
    operation = document["paths"][f"/api/v2/console/workloads/{{workload_id}}/{action}"]["post"]
    assert "409" in operation["responses"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["force"]


def test_the_new_fields_are_in_the_response_schemas(api: httpx.Client) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert "runningArtifact" in schemas["Workload"]["properties"]
    assert "specDigest" in schemas["Artifact"]["properties"]
    running = schemas["RunningArtifact"]["properties"]
    assert set(running) == {"id", "version", "specDigest", "startedAt"}
