"""Credentials on the real local server: stored without ever being shown, referenced by
environment variables, checked, resolved into the process at each start, masked in its logs."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import (
    FAKE_TOKEN,
    LocalServer,
    create_workload,
    free_port,
    kill_marked,
    processes_marked,
    running_server,
    wait_status,
    wait_until,
)

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
APP = str(Path(__file__).with_name("secret_app.py"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    with running_server(tmp_path / "data") as started:
        yield started
    kill_marked(tmp_path / "data")


@pytest.fixture
def client(server: LocalServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


def new_credential(client: httpx.Client, name: str = "gh", value: str = SECRET) -> str:
    answer = client.post(
        "/credentials/", json={"name": name, "credentialType": "api_token", "apiToken": value}
    )
    assert answer.status_code == 201, answer.text
    credential_id: str = answer.json()["id"]
    return credential_id


def reference(credential_id: str, name: str = "GH_TOKEN", key: str = "apiToken") -> dict[str, Any]:
    return {"source": "dr-credential", "name": name, "drCredentialId": credential_id, "key": key}


def secret_artifact(port: int, *variables: dict[str, Any]) -> dict[str, Any]:
    """An inline artifact of ``secret_app.py`` with these environment variables."""
    primary = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": port,
        "entrypoint": [sys.executable, APP],
        "environmentVars": [{"name": "MODE", "value": "test"}, *variables],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
    }
    return {"name": "secret-app", "spec": {"containerGroups": [{"containers": [primary]}]}}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def everything_shown(client: httpx.Client, workload_id: str) -> str:
    """Every answer a client can get about the workload, its artifact and the credentials."""
    workload = client.get(f"/console/workloads/{workload_id}/")
    texts = [workload.text]
    artifact_id = workload.json()["artifactId"]
    for path in (
        f"/registry/artifacts/{artifact_id}",
        "/registry/artifacts/",
        "/console/workloads/",
        f"/console/workloads/{workload_id}/events?limit=100",
        f"/otel/workload/{workload_id}/logs/?limit=1000",
        "/credentials/",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.text)
        texts.append(answer.text)
    for credential in client.get("/credentials/").json()["data"]:
        texts.append(client.get(f"/credentials/{credential['id']}/").text)
    return "\n".join(texts)


def messages(client: httpx.Client, workload_id: str) -> list[str]:
    page = client.get(f"/otel/workload/{workload_id}/logs/?limit=1000").json()
    return [record["message"] for record in reversed(page["data"])]


def database_text(data_dir: Path) -> str:
    """Every row of every table as text, except the credentials' values column."""
    texts = []
    with sqlite3.connect(f"file:{data_dir / 'workloadlab.sqlite3'}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if not (table == "credentials" and c == "secret_values")]
            texts += [repr(row) for row in db.execute(f"SELECT {', '.join(kept)} FROM {table}")]
    return "\n".join(texts)


def test_credentials_are_stored_and_listed_without_values(
    server: LocalServer, client: httpx.Client
) -> None:
    created = client.post(
        "/credentials/",
        json={"name": "db", "credentialType": "basic", "user": "app", "password": SECRET},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["keys"] == ["password", "user"]
    assert body["credentialId"] == body["id"]
    assert body["creationDate"] == body["createdAt"]
    assert (body["name"], body["credentialType"], body["description"]) == ("db", "basic", "")
    other = new_credential(client, "gh")
    listed = client.get("/credentials/")
    assert [c["id"] for c in listed.json()["data"]] == [other, body["id"]]
    assert [c["id"] for c in client.get("/credentials/?types=basic").json()["data"]] == [body["id"]]
    assert client.get(f"/credentials/{body['id']}/").json() == body
    assert client.get(f"/credentials/{body['id']}").json() == body, "with or without the slash"
    for answer in (created, listed, client.get(f"/credentials/{body['id']}/")):
        assert SECRET not in answer.text

    assert client.delete(f"/credentials/{body['id']}/").status_code == 204
    assert client.get(f"/credentials/{body['id']}/").status_code == 404
    assert client.delete(f"/credentials/{body['id']}/").status_code == 404
    assert SECRET not in database_text(server.data_dir), "the audit trail holds no value"
    assert SECRET not in server.log()
    assert credential_events(server.data_dir) == [
        (
            "credential.created",
            body["id"],
            {"name": "db", "credentialType": "basic", "keys": ["password", "user"]},
        ),
        (
            "credential.created",
            other,
            {"name": "gh", "credentialType": "api_token", "keys": ["apiToken"]},
        ),
        (
            "credential.deleted",
            body["id"],
            {"name": "db", "credentialType": "basic", "referencedBy": []},
        ),
    ]


def credential_events(data_dir: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit trail's credential events, oldest first."""
    with sqlite3.connect(f"file:{data_dir / 'workloadlab.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT event_type, entity_id, details FROM events"
            " WHERE entity_type = 'credential' ORDER BY seq"
        ).fetchall()
    return [(kind, entity, json.loads(details)) for kind, entity, details in rows]


def test_bad_credentials_are_refused_and_nothing_is_stored(client: httpx.Client) -> None:
    cases: list[tuple[dict[str, Any], int, list[Any] | None]] = [
        (
            {"credentialType": "api_token", "password": SECRET},
            422,
            ["body", "api_token", "password"],
        ),
        ({"credentialType": "basic", "user": SECRET}, 422, ["body", "basic", "password"]),
        ({"credentialType": "kerberos", "token": SECRET}, 422, ["body"]),
        ({"apiToken": SECRET}, 422, ["body"]),
        ({"credentialType": "api_token", "apiToken": ""}, 422, ["body", "api_token", "apiToken"]),
        ({"credentialType": "api_token", "apiToken": SECRET, "name": ""}, 422, None),
    ]
    for body, status, loc in cases:
        answer = client.post("/credentials/", json={"name": "n", **body})
        assert answer.status_code == status, (body, answer.text)
        assert SECRET not in answer.text
        if loc is not None:
            assert loc in [problem["loc"] for problem in answer.json()["detail"]], answer.text
    assert client.get("/credentials/").json()["totalCount"] == 0
    new_credential(client, "gh")
    again = client.post(
        "/credentials/", json={"name": "gh", "credentialType": "bearer", "token": SECRET}
    )
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    assert client.get("/credentials/").json()["totalCount"] == 1


def test_a_secret_reaches_the_app_and_is_shown_nowhere(
    server: LocalServer, client: httpx.Client
) -> None:
    """The app gets the credential's value and the server's token (``api-key``), prints them,
    and no answer, event, stored log line, server log line or database column (but the
    credential's own) holds them: the printed lines are stored masked."""
    credential_id = new_credential(client)
    artifact = secret_artifact(free_port(), reference(credential_id), {"source": "api-key"})
    workload_id = create_workload(client, "secret", artifact)
    wait_status(client, workload_id, "running")

    answer = client.get(f"/endpoints/workloads/{workload_id}/").json()
    assert answer["secretSha256"] == sha256(SECRET)
    assert answer["tokenSha256"] == sha256(FAKE_TOKEN)
    assert answer["endpoint"] == server.endpoint

    wait_until(
        lambda: any(m.startswith("request /: secret=") for m in messages(client, workload_id))
    )
    printed = messages(client, workload_id)
    assert "secret=****" in printed
    assert "the secret is ****, twice: ********" in printed
    assert "token=****" in printed
    assert "request /: secret=****" in printed
    workload = client.get(f"/console/workloads/{workload_id}/").json()
    assert "secret=****" in workload["statusDetails"]["logTail"]

    shown = everything_shown(client, workload_id)
    assert SECRET not in shown
    assert FAKE_TOKEN not in shown
    assert (
        reference(credential_id)
        in client.get(f"/registry/artifacts/{workload['artifactId']}").json()["spec"][
            "containerGroups"
        ][0]["containers"][0]["environmentVars"]
    )
    assert SECRET not in server.log()
    stored = database_text(server.data_dir)
    assert SECRET not in stored
    assert FAKE_TOKEN not in stored


def test_a_deleted_credential_fails_the_next_start_with_a_clear_message(
    server: LocalServer, client: httpx.Client
) -> None:
    """Deleting a credential in use is allowed. The running instance keeps its value (and
    keeps it masked); a start asked for is ``422`` naming the variable, and a restart by the
    server (after a crash) ends ``errored`` with the same words."""
    credential_id = new_credential(client)
    workload_id = create_workload(
        client, "secret", secret_artifact(free_port(), reference(credential_id))
    )
    wait_status(client, workload_id, "running")
    assert client.delete(f"/credentials/{credential_id}/").status_code == 204
    artifact_id = client.get(f"/console/workloads/{workload_id}/").json()["artifactId"]
    assert credential_events(server.data_dir)[-1][2]["referencedBy"] == [artifact_id]

    assert client.get(f"/endpoints/workloads/{workload_id}/").status_code == 200
    wait_until(lambda: "request /: secret=****" in messages(client, workload_id))

    # A restart by the server: the app crashes, its restart cannot resolve the reference.
    for pid in processes_marked(server.data_dir):
        os.kill(pid, signal.SIGKILL)
    errored = wait_status(client, workload_id, "errored")
    message = errored["statusDetails"]["message"]
    assert "environment variable GH_TOKEN" in message
    assert f"credential {credential_id} does not exist" in message

    # A start asked for: refused, and nothing changes.
    started = client.post(f"/console/workloads/{workload_id}/start")
    assert started.status_code == 422, started.text
    assert started.json()["detail"] == (
        f"Cannot start workload {workload_id}: environment variable GH_TOKEN: credential"
        f" {credential_id} does not exist (it may have been deleted)"
    )
    assert client.get(f"/console/workloads/{workload_id}/").json()["status"] == "errored"
    assert SECRET not in everything_shown(client, workload_id)
    assert SECRET not in server.log()


def test_broken_references_are_refused_naming_the_variable(client: httpx.Client) -> None:
    credential_id = new_credential(client)
    unknown = "0" * 24
    env = ["containerGroups", 0, "containers", 0, "environmentVars"]
    port = free_port()

    answer = client.post("/registry/artifacts/", json=secret_artifact(port, reference(unknown)))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == [
        {
            "loc": ["body", "spec", *env, 1, "drCredentialId"],
            "msg": f"environment variable GH_TOKEN: credential {unknown} does not exist"
            " (it may have been deleted)",
            "type": "credential_reference",
        }
    ]
    bad_key = secret_artifact(port, reference(credential_id, key="password"))
    answer = client.post("/console/workloads/", json={"name": "w", "artifact": bad_key})
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "artifact", "spec", *env, 1, "key"]
    assert problem["msg"] == (
        f"environment variable GH_TOKEN: credential {credential_id} (gh) has no key 'password'"
        " (its keys: apiToken)"
    )
    assert client.get("/registry/artifacts/").json()["totalCount"] == 0
    assert client.get("/console/workloads/").json()["totalCount"] == 0

    good = client.post("/registry/artifacts/", json=secret_artifact(port, reference(credential_id)))
    assert good.status_code == 201, good.text
    artifact_id = good.json()["id"]
    replaced = client.put(
        f"/registry/artifacts/{artifact_id}", json=secret_artifact(port, reference(unknown))
    )
    assert replaced.status_code == 422
    assert replaced.json()["detail"][0]["loc"] == ["body", "spec", *env, 1, "drCredentialId"]

    assert client.delete(f"/credentials/{credential_id}/").status_code == 204
    answer = client.post("/console/workloads/", json={"name": "w", "artifactId": artifact_id})
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(
        f"Cannot run artifact {artifact_id}: environment variable GH_TOKEN: credential"
    )
    assert client.get("/console/workloads/").json()["totalCount"] == 0


def test_a_reference_round_trips_through_get_and_put(client: httpx.Client) -> None:
    credential_id = new_credential(client)
    body = secret_artifact(free_port(), reference(credential_id), {"source": "api-key"})
    created = client.post("/registry/artifacts/", json=body)
    assert created.status_code == 201, created.text
    artifact = client.get(f"/registry/artifacts/{created.json()['id']}").json()
    sent = {key: artifact[key] for key in ("name", "description", "type", "status", "spec")}
    replaced = client.put(f"/registry/artifacts/{artifact['id']}", json=sent)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["spec"] == artifact["spec"]
    variables = replaced.json()["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]
    assert variables == body["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]


def test_an_instance_adopted_after_a_server_crash_stays_masked(tmp_path: Path) -> None:
    """A ``kill -9`` of the server leaves the app running; the next server adopts it and
    masks what it prints with the values its references resolve to."""
    data_dir = tmp_path / "data"
    server = LocalServer(data_dir).start()
    try:
        with server.client() as client:
            workload_id = create_workload(
                client, "secret", secret_artifact(free_port(), reference(new_credential(client)))
            )
            wait_status(client, workload_id, "running")
            pids = processes_marked(data_dir)
        server.kill()
        server = LocalServer(data_dir).start()
        with server.client() as client:
            assert processes_marked(data_dir) == pids, "adopted, not restarted"
            before = messages(client, workload_id).count("request /: secret=****")
            assert client.get(f"/endpoints/workloads/{workload_id}/").status_code == 200
            wait_until(
                lambda: messages(client, workload_id).count("request /: secret=****") > before
            )
            assert SECRET not in everything_shown(client, workload_id)
        assert SECRET not in server.log()
    finally:
        server.stop()
        kill_marked(data_dir)
