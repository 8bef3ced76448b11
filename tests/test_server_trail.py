"""The trail outlives deletes (``workload-api.md`` §8): the events of a deleted workload,
deployment or artifact stay readable, ending with the delete (or the draft TTL's expiry) and
its actor; ``GET /console/events/`` lists the trail of any entity, deleted or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from harness import LocalServer, create_workload, free_port, hello_spec, wait_status, wait_until

UNKNOWN_ID = "0123456789abcdef01234567"


def trail(api: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    """Every event of a trail, newest first (following the pages)."""
    answer = api.get(path, params=params)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["data"]
    url = answer.json()["next"]
    while url:
        page = api.get(url).json()
        events += page["data"]
        url = page["next"]
    return events


def test_a_deleted_workloads_trail_stays_readable(api: httpx.Client) -> None:
    workload_id = create_workload(api, "gone", hello_spec(free_port()))
    running = wait_status(api, workload_id, "running")
    artifact_id, user = running["artifactId"], running["creator"]["id"]
    before = trail(api, f"/console/workloads/{workload_id}/events")
    assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
    assert api.get(f"/console/workloads/{workload_id}/").status_code == 404

    after = trail(api, f"/console/workloads/{workload_id}/events")
    assert after[0]["eventType"] == "workload.deleted"
    assert after[0]["actorId"] == user
    assert after[0]["entityId"] == workload_id
    assert after[1:] == before
    assert "artifact.created" in [e["eventType"] for e in after]  # its artifact's, as before
    # What happens to its artifact after the delete is not the workload's trail any more.
    api.patch(f"/registry/artifacts/{artifact_id}", json={"name": "renamed-after"})
    assert trail(api, f"/console/workloads/{workload_id}/events") == after
    assert api.get(f"/console/workloads/{UNKNOWN_ID}/events").status_code == 404


def test_a_deleted_deployments_trail_stays_readable(api: httpx.Client) -> None:
    workload_id = create_workload(api, "undeployed", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    artifact_id = api.get(f"/console/workloads/{workload_id}/").json()["artifactId"]
    api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
    deployment = api.post(
        "/console/deployments/", json={"workloadId": workload_id, "name": "short-lived"}
    )
    assert deployment.status_code == 201, deployment.text
    deployment_id = deployment.json()["id"]
    assert api.delete(f"/console/deployments/{deployment_id}/").status_code == 204
    assert api.get(f"/console/deployments/{deployment_id}/").status_code == 404

    events = trail(api, f"/console/deployments/{deployment_id}/events")
    assert [e["eventType"] for e in events] == ["deployment.deleted", "deployment.created"]
    assert events[0]["actorId"] == deployment.json()["creator"]["id"]
    # The workload's later life is not the deleted deployment's trail.
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    assert trail(api, f"/console/deployments/{deployment_id}/events") == events
    assert api.get(f"/console/deployments/{UNKNOWN_ID}/events").status_code == 404
    api.delete(f"/console/workloads/{workload_id}/")


def test_an_artifacts_trail_before_and_after_its_delete(api: httpx.Client) -> None:
    created = api.post("/registry/artifacts/", json=hello_spec(free_port()))
    artifact_id = created.json()["id"]
    api.patch(f"/registry/artifacts/{artifact_id}", json={"description": "changed"})
    live = trail(api, f"/registry/artifacts/{artifact_id}/events")
    assert [e["eventType"] for e in live] == ["artifact.updated", "artifact.created"]
    assert api.delete(f"/registry/artifacts/{artifact_id}").status_code == 204
    gone = trail(api, f"/registry/artifacts/{artifact_id}/events")
    assert [e["eventType"] for e in gone] == ["artifact.deleted", *[e["eventType"] for e in live]]
    assert gone[0]["actorId"] == created.json()["creator"]["id"]
    assert api.get(f"/registry/artifacts/{UNKNOWN_ID}/events").status_code == 404


def test_the_draft_ttls_expiry_is_in_the_trail(data_dir: Path) -> None:
    server = LocalServer(data_dir, ["--draft-ttl", "1500ms", "--ttl-check-interval", "100ms"])
    server.start()
    try:
        with server.client() as api:
            workload_id = create_workload(api, "expiring", hello_spec(free_port()))
            wait_status(api, workload_id, "running")
            wait_until(lambda: api.get(f"/console/workloads/{workload_id}/").status_code == 404)
            events = trail(api, f"/console/workloads/{workload_id}/events")
            assert events[0]["eventType"] == "workload.expired"
            assert events[0]["actorId"] == "system"
            assert events[0]["details"]["reason"] == "draft TTL reached"
            same = trail(api, "/console/events/", entityId=workload_id, entityType="workload")
            assert same == events
    finally:
        server.stop()


def test_the_events_list_filters_by_entity(api: httpx.Client) -> None:
    workload_id = create_workload(api, "listed", hello_spec(free_port()))
    wait_status(api, workload_id, "running")
    artifact_id = api.get(f"/console/workloads/{workload_id}/").json()["artifactId"]

    for entity_type, entity_id, own in (
        ("workload", workload_id, f"/console/workloads/{workload_id}/events"),
        ("artifact", artifact_id, f"/registry/artifacts/{artifact_id}/events"),
    ):
        listed = trail(api, "/console/events/", entityId=entity_id, entityType=entity_type)
        assert listed == trail(api, own)
        assert listed, entity_type
    by_id = trail(api, "/console/events/", entityId=workload_id)
    assert by_id == trail(api, f"/console/workloads/{workload_id}/events")

    paged = api.get(
        "/console/events/", params={"entityId": workload_id, "entityType": "workload", "limit": 1}
    ).json()
    assert paged["count"] == 1
    assert paged["totalCount"] == len(by_id)
    assert "entityType=workload" in paged["next"]
    assert f"entityId={workload_id}" in paged["next"]

    artifacts_only = trail(api, "/console/events/", entityType="artifact")
    assert artifacts_only
    assert {e["entityType"] for e in artifacts_only} == {"artifact"}
    everything = api.get("/console/events/").json()
    assert everything["totalCount"] >= len(by_id) + len(artifacts_only)

    unknown_type = api.get("/console/events/", params={"entityType": "workloads"})
    assert unknown_type.status_code == 422
    assert unknown_type.json()["detail"][0]["loc"] == ["query", "entityType"]
    assert "workloads" not in unknown_type.text, "a validation error never echoes the input"
    empty = api.get("/console/events/", params={"entityId": UNKNOWN_ID})
    assert empty.status_code == 200
    assert empty.json()["totalCount"] == 0
    assert api.get("/console/events/", params={"limit": 101}).status_code == 422
    api.delete(f"/console/workloads/{workload_id}/")


def test_a_deleted_credentials_trail_is_listed_too(api: httpx.Client) -> None:
    created = api.post(
        "/credentials/",
        json={"name": "trail-token", "credentialType": "api_token", "apiToken": "s3cr3t-value"},
    )
    assert created.status_code == 201, created.text
    credential_id = created.json()["id"]
    assert api.delete(f"/credentials/{credential_id}/").status_code == 204
    events = trail(api, "/console/events/", entityId=credential_id, entityType="credential")
    assert [e["eventType"] for e in events] == ["credential.deleted", "credential.created"]
    assert trail(api, "/console/events/", entityId=credential_id) == events
    assert {e["entityType"] for e in trail(api, "/console/events/", entityType="credential")} == {
        "credential"
    }
    assert "s3cr3t-value" not in api.get("/console/events/").text
