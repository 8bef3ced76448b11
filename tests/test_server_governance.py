"""Governance of the local server (``workload-api.md`` §8): what is locked is what is deployed,
and deployments are protected.

A workload shows which artifact spec its running instance runs (``runningArtifact``), an
artifact its own spec's digest (``specDigest``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

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


def register(api: httpx.Client, artifact_id: str) -> dict[str, Any]:
    answer = api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


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


def test_the_new_fields_are_in_the_response_schemas(api: httpx.Client) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    assert "runningArtifact" in schemas["Workload"]["properties"]
    assert "specDigest" in schemas["Artifact"]["properties"]
    running = schemas["RunningArtifact"]["properties"]
    assert set(running) == {"id", "version", "specDigest", "startedAt"}
