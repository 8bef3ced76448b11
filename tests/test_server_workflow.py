"""The seed's iterate-then-deploy workflow, over real HTTP, against a real local server."""

from __future__ import annotations

import copy
import time

import httpx

from harness import LocalServer, free_port, hello_spec, wait_status


def test_seed_workflow(server: LocalServer, api: httpx.Client) -> None:
    artifact = hello_spec(free_port(), "hello from draft")

    # 1. Create a development workload with an inline draft artifact.
    created = api.post("/console/workloads/", json={"name": "seed", "artifact": artifact})
    assert created.status_code == 201, created.text
    workload = created.json()
    assert workload["status"] == "submitted"
    assert workload["artifact"]["status"] == "draft"
    assert workload["expiresAt"] is not None
    workload_id, artifact_id = workload["id"], workload["artifactId"]
    running = wait_status(api, workload_id, "running")
    assert running["runningSince"] is not None
    assert {"type": "Ready", "name": "primary", "value": "True"} in running["statusDetails"][
        "conditions"
    ]
    assert workload["endpoint"].startswith(server.endpoint)

    # 2. Iterate: PATCH metadata, PUT a changed container spec, stop and start.
    patched = api.patch(f"/registry/artifacts/{artifact_id}", json={"name": "hello-v2"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "hello-v2"

    changed = copy.deepcopy(artifact)
    changed["name"] = "hello-v2"
    changed["spec"]["containerGroups"][0]["containers"][0]["environmentVars"] = [
        {"name": "GREETING", "value": "hello after PUT"}
    ]
    put = api.put(f"/registry/artifacts/{artifact_id}", json=changed)
    assert put.status_code == 200, put.text
    assert api.get(f"/endpoints/workloads/{workload_id}/").json()["greeting"] == (
        "hello from draft"
    ), "a running workload must not pick up artifact edits by itself"

    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    assert api.post(f"/console/workloads/{workload_id}/start", json={}).status_code == 202
    wait_status(api, workload_id, "running")

    invoked = api.get(f"/endpoints/workloads/{workload_id}/")
    assert invoked.status_code == 200
    assert invoked.json()["greeting"] == "hello after PUT"

    # 3. Lock: register the artifact; its container spec is immutable from then on.
    registered = api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
    assert registered.status_code == 200, registered.text
    assert registered.json()["status"] == "registered"
    assert registered.json()["version"] == 1
    assert registered.json()["artifactCollectionId"]
    before = api.get(f"/registry/artifacts/{artifact_id}").json()

    refused = api.put(f"/registry/artifacts/{artifact_id}", json=artifact)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Cannot update artifact: artifact is registered"}
    assert api.get(f"/registry/artifacts/{artifact_id}").json() == before
    assert api.get(f"/console/workloads/{workload_id}/").json()["expiresAt"] is None

    # 4. Production: a governed deployment, invoked through its own endpoint.
    deployment = api.post(
        "/console/deployments/",
        json={"workloadId": workload_id, "name": "hello-prod", "importance": "high"},
    )
    assert deployment.status_code == 201, deployment.text
    deployment_id = deployment.json()["id"]
    assert deployment.json()["status"] == "running"
    assert deployment.json()["artifact"]["version"] == 1
    through = api.get(f"/endpoints/deployments/{deployment_id}/")
    assert through.status_code == 200
    assert through.json()["greeting"] == "hello after PUT"

    # The audit trail lists the whole journey, newest first.
    events = api.get(f"/console/workloads/{workload_id}/events").json()["data"]
    kinds = [event["eventType"] for event in reversed(events)]
    for expected in (
        "artifact.created",
        "workload.created",
        "artifact.updated",
        "workload.stopped",
        "workload.started",
        "artifact.registered",
        "deployment.created",
    ):
        assert expected in kinds, f"{expected} missing from {kinds}"
    order = [kinds.index(k) for k in ("workload.created", "artifact.registered")]
    assert order == sorted(order)
    spec_change = next(
        e
        for e in events
        if e["eventType"] == "artifact.updated" and e["details"].get("needsRestart")
    )
    assert (
        "spec.containerGroups[0].containers[0].environmentVars[GREETING].value"
        in spec_change["details"]["changedFields"]
    )
    statuses = [
        (e["details"]["from"], e["details"]["to"])
        for e in reversed(events)
        if e["eventType"] == "workload.statusChanged"
    ]
    assert ("running", "stopping") in statuses
    assert ("stopping", "stopped") in statuses
    assert statuses[-1][1] == "running"
    assert all(e["actorId"] for e in events)

    trail = api.get(f"/console/deployments/{deployment_id}/events").json()["data"]
    assert trail[0]["eventType"] == "deployment.created"
    assert trail[0]["details"]["importance"] == "high"

    # Clean up: a workload with a deployment cannot be deleted before it.
    assert api.delete(f"/console/workloads/{workload_id}/").status_code == 409
    assert api.delete(f"/console/deployments/{deployment_id}/").status_code == 204
    assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
    assert api.get(f"/console/workloads/{workload_id}/").status_code == 404
    assert api.get(f"/registry/artifacts/{artifact_id}").status_code == 200


def test_start_and_stop_are_idempotent_and_guarded(api: httpx.Client) -> None:
    created = api.post(
        "/console/workloads/", json={"name": "guarded", "artifact": hello_spec(free_port())}
    ).json()
    workload_id = created["id"]
    wait_status(api, workload_id, "running")
    again = api.post(f"/console/workloads/{workload_id}/start")
    assert again.status_code == 200
    assert again.json()["workloadId"] == workload_id
    assert again.json()["trackVia"].endswith(f"/console/workloads/{workload_id}/")
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 200
    unavailable = api.get(f"/endpoints/workloads/{workload_id}/")
    assert unavailable.status_code == 503
    assert "stopped" in unavailable.json()["detail"]
    assert api.delete(f"/console/workloads/{workload_id}").status_code == 204


def test_invoke_proxy_streams_bodies_and_strips_the_token(api: httpx.Client) -> None:
    created = api.post(
        "/console/workloads/", json={"name": "proxy", "artifact": hello_spec(free_port())}
    ).json()
    workload_id = created["id"]
    wait_status(api, workload_id, "running")
    payload = b"x" * 300_000
    echoed = api.post(
        f"/endpoints/workloads/{workload_id}/echo",
        content=payload,
        headers={"content-type": "application/octet-stream"},
    )
    assert echoed.status_code == 200
    assert echoed.content == payload
    seen = api.get(f"/endpoints/workloads/{workload_id}/deep/path?q=1&q=2").json()
    assert seen["path"] == "/deep/path?q=1&q=2"
    forwarded = api.get(
        f"/endpoints/workloads/{workload_id}/headers", headers={"X-Trace": "abc"}
    ).json()["headers"]
    assert forwarded["x-trace"] == "abc"
    assert "authorization" not in forwarded, "the server's token must not reach the app"
    api.delete(f"/console/workloads/{workload_id}")


def test_get_shows_every_change_at_once(api: httpx.Client) -> None:
    """GET of a workload is answered from a rendering reused while nothing changes: a change
    to the workload, to its artifact or to its logs must show in the very next GET."""
    created = api.post(
        "/console/workloads/", json={"name": "fresh", "artifact": hello_spec(free_port())}
    ).json()
    workload_id, artifact_id = created["id"], created["artifactId"]
    running = wait_status(api, workload_id, "running")
    again = api.get(f"/console/workloads/{workload_id}/").json()
    assert again["endpoint"] == running["endpoint"]
    host_alias = api.get(
        f"/console/workloads/{workload_id}/", headers={"Host": "localhost:1234"}
    ).json()
    assert host_alias["endpoint"].startswith("http://localhost:1234/")  # not another's links

    api.patch(f"/registry/artifacts/{artifact_id}", json={"name": "renamed"}).raise_for_status()
    assert api.get(f"/console/workloads/{workload_id}/").json()["artifact"]["name"] == "renamed"

    assert api.get(f"/endpoints/workloads/{workload_id}/ping-from-test").status_code == 200
    tail = wait_until_logged(api, workload_id, "ping-from-test")
    assert any("ping-from-test" in line for line in tail)

    api.post(f"/console/workloads/{workload_id}/stop").raise_for_status()
    assert api.get(f"/console/workloads/{workload_id}/").json()["status"] in ("stopping", "stopped")
    api.delete(f"/console/workloads/{workload_id}").raise_for_status()
    assert api.get(f"/console/workloads/{workload_id}/").status_code == 404


def wait_until_logged(api: httpx.Client, workload_id: str, text: str) -> list[str]:
    """The workload's log tail once a line containing ``text`` is in it (the app logs each
    request; the server reads its output every 50 ms)."""
    deadline = time.monotonic() + 10.0
    while True:
        tail: list[str] = api.get(f"/console/workloads/{workload_id}/").json()["statusDetails"][
            "logTail"
        ]
        if any(text in line for line in tail) or time.monotonic() > deadline:
            return tail
        time.sleep(0.02)
