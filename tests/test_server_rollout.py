"""Moving a deployment to another registered version: a rolling change (``workload-api.md`` §8).

The new instance starts beside the old one (both specs on the same port: the new one gets a
free port of its own), the endpoint switches to it once it is ready, and the old one stops; the
endpoint answers every call meanwhile. A new instance that fails leaves the old one serving.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from rollouttools import (
    InvokeLoop,
    collection_name,
    deploy,
    event_types,
    events_of,
    finished_rollout,
    move,
    register,
    runs,
    wait_marked,
)

from harness import (
    LocalServer,
    free_port,
    hello_spec,
    processes_marked,
    running_server,
    wait_status,
    wait_until,
)

CRASH_AT_START = [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """The module's server; a change whose new instance is not ready in 20 s is abandoned."""
    data_dir = tmp_path_factory.mktemp("server")
    with running_server(data_dir, "--rollout-timeout", "20s") as started:
        yield started


@dataclass
class SlowChange:
    """A deployment of version 1 moving to version 2, whose new instance never gets ready."""

    name: str
    port: int
    v1: dict[str, Any]
    workload_id: str
    deployment_id: str
    alone: int
    """Marked processes of the server before the change (the old instance among them)."""

    @classmethod
    def begin(cls, api: httpx.Client, server: LocalServer) -> SlowChange:
        """Deploy version 1, ask for version 2, and wait until its new instance runs."""
        name, port = collection_name(), free_port()
        v1 = register(api, hello_spec(port, "one"), name)
        slow = register(api, hello_spec(port, "slow", env={"STARTUP_DELAY": "60"}), name)
        workload_id, deployment_id = deploy(api, v1["id"])
        alone = len(processes_marked(server.data_dir))
        move(api, deployment_id, slow["id"])
        wait_marked(server, alone + 1)  # the new instance runs, not ready
        return cls(name, port, v1, workload_id, deployment_id, alone)


def deployment(api: httpx.Client, deployment_id: str) -> dict[str, Any]:
    answer = api.get(f"/console/deployments/{deployment_id}/")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def workload(api: httpx.Client, workload_id: str) -> dict[str, Any]:
    answer = api.get(f"/console/workloads/{workload_id}/")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_rollback_switches_once_and_every_call_is_answered(
    server: LocalServer, api: httpx.Client
) -> None:
    name, port = collection_name(), free_port()
    old = register(api, hello_spec(port, "old"), name)
    new = register(api, hello_spec(port, "new"), name)
    assert (old["version"], new["version"]) == (1, 2)
    others = set(processes_marked(server.data_dir))
    workload_id, deployment_id = deploy(api, new["id"])
    (first_pid,) = set(processes_marked(server.data_dir)) - others

    with InvokeLoop(server, f"/endpoints/deployments/{deployment_id}/") as calls:
        calls.wait_for(20)
        moving = move(api, deployment_id, old["id"])
        assert moving["artifactId"] == new["id"], "it moves only when the new instance is ready"
        assert workload(api, workload_id)["runningArtifact"]["id"] == new["id"]
        assert moving["rollout"]["status"] == "inProgress"
        assert (moving["rollout"]["fromVersion"], moving["rollout"]["toVersion"]) == (2, 1)
        assert workload(api, workload_id)["rollout"]["id"] == moving["rollout"]["id"]
        done = finished_rollout(api, deployment_id)
        calls.wait_for(20)

    assert calls.failures() == [], calls.failures()[:3]
    assert runs(calls.greetings()) == ["new", "old"], "one switch, no flapping"
    assert done["status"] == "completed"
    assert done["message"] == "switched to version 1; the old instance stops"
    moved = deployment(api, deployment_id)
    assert (moved["artifactId"], moved["artifact"]["version"]) == (old["id"], 1)
    running = workload(api, workload_id)
    assert running["artifactId"] == old["id"]
    assert running["status"] == "running"
    assert running["rollout"] is None
    assert (running["runningArtifact"]["id"], running["runningArtifact"]["version"]) == (
        old["id"],
        1,
    )
    assert running["runningArtifact"]["specDigest"] == old["specDigest"]
    # Beside the old instance on the spec's port, the new one got a port of its own.
    assert running["internalUrl"] != f"http://127.0.0.1:{port}"
    trail = event_types(api, f"/console/deployments/{deployment_id}/events")
    start = trail.index("deployment.rolloutStarted")
    assert trail[start:].count("workload.rolledOut") == 1
    assert trail.index("workload.rolledOut") < trail.index("deployment.artifactChanged")
    (changed,) = events_of(
        api, f"/console/workloads/{workload_id}/events", "deployment.artifactChanged"
    )
    assert changed["details"] | {"rolloutId": None} == {
        "rolloutId": None,
        "fromArtifactId": new["id"],
        "fromVersion": 2,
        "toArtifactId": old["id"],
        "toVersion": 1,
        "rolling": True,
    }
    assert "workload.statusChanged" not in trail[start:], "it served throughout"
    # The old instance is gone; the new one runs.
    wait_until(lambda: first_pid not in processes_marked(server.data_dir))
    assert len(set(processes_marked(server.data_dir)) - others) == 1


def test_a_call_under_way_at_the_switch_is_answered_by_the_old_instance(
    server: LocalServer, api: httpx.Client
) -> None:
    name, port = collection_name(), free_port()
    old = register(api, hello_spec(port, "old"), name)
    later = register(api, hello_spec(port, "new", env={"STARTUP_DELAY": "0.5"}), name)
    _, deployment_id = deploy(api, old["id"])
    switched = threading.Event()
    answers: list[httpx.Response] = []

    def body() -> Iterator[bytes]:
        yield b"sent before the switch, "
        switched.wait(20)
        yield b"and after it"

    def call() -> None:
        with server.client() as client:
            url = f"/endpoints/deployments/{deployment_id}/echo"
            answers.append(client.post(url, content=body(), headers={"Content-Type": "text/x"}))

    move(api, deployment_id, later["id"])  # the new instance is ready in 0.5 s: not yet
    caller = threading.Thread(target=call)
    caller.start()
    assert finished_rollout(api, deployment_id)["status"] == "completed"
    switched.set()
    caller.join(timeout=20)

    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert answer.text == "sent before the switch, and after it"


def test_a_new_version_that_crashes_at_start_is_abandoned_and_the_old_one_serves(
    api: httpx.Client, server: LocalServer
) -> None:
    name, port = collection_name(), free_port()
    steady = register(api, hello_spec(port, "steady"), name)
    broken = register(api, hello_spec(port, "broken", entrypoint=CRASH_AT_START), name)
    workload_id, deployment_id = deploy(api, steady["id"])

    with InvokeLoop(server, f"/endpoints/deployments/{deployment_id}/") as calls:
        calls.wait_for(10)
        move(api, deployment_id, broken["id"])
        abandoned = finished_rollout(api, deployment_id)
        calls.wait_for(10)

    assert abandoned["status"] == "abandoned"
    assert abandoned["message"] == (
        "the new instance's process exited with status 3 before it became ready"
    )
    assert calls.failures() == []
    assert runs(calls.greetings()) == ["steady"]
    kept = deployment(api, deployment_id)
    assert (kept["artifactId"], kept["status"]) == (steady["id"], "running")
    running = workload(api, workload_id)
    assert (running["artifactId"], running["restartCount"], running["rollout"]) == (
        steady["id"],
        0,
        None,
    )
    (why,) = events_of(
        api, f"/console/deployments/{deployment_id}/events", "workload.rolloutAbandoned"
    )
    assert why["details"]["reason"] == abandoned["message"]
    assert (why["details"]["fromVersion"], why["details"]["toVersion"]) == (1, 2)
    logs = api.get(f"/otel/workload/{workload_id}/logs/").json()["data"]
    assert "boom" in [line["message"] for line in logs], "the new instance's output is kept"


def test_refused_targets_change_nothing(api: httpx.Client) -> None:
    name, port = collection_name(), free_port()
    v1 = register(api, hello_spec(port, "one"), name)
    other = register(api, hello_spec(free_port(), "other"), collection_name())
    draft = api.post("/registry/artifacts/", json={**hello_spec(port, "draft"), "name": name})
    workload_id, deployment_id = deploy(api, v1["id"])
    before = deployment(api, deployment_id)
    trail = event_types(api, f"/console/deployments/{deployment_id}/events")

    for artifact_id, status, says in (
        ("0" * 24, 422, "does not exist"),
        (draft.json()["id"], 422, "is a draft"),
        (other["id"], 422, "is not a version of the collection"),
        (v1["id"], 409, "already runs artifact"),
    ):
        answer = api.patch(
            f"/console/deployments/{deployment_id}",
            json={"name": "renamed", "artifactId": artifact_id},
        )
        assert answer.status_code == status, answer.text
        detail = answer.json()["detail"]
        if status == 422:
            assert detail[0]["loc"] == ["body", "artifactId"]
            assert says in detail[0]["msg"]
        else:
            assert says in detail
    assert deployment(api, deployment_id) == before, "nothing stored, the name neither"
    assert event_types(api, f"/console/deployments/{deployment_id}/events") == trail
    assert workload(api, workload_id)["artifactId"] == v1["id"]


def test_a_stop_during_the_change_abandons_it_and_leaves_nothing_running(
    api: httpx.Client, server: LocalServer
) -> None:
    change = SlowChange.begin(api, server)
    workload_id, deployment_id, alone = change.workload_id, change.deployment_id, change.alone
    v3 = register(api, hello_spec(change.port, "three"), change.name)
    again = api.patch(f"/console/deployments/{deployment_id}", json={"artifactId": v3["id"]})
    assert again.status_code == 409, again.text
    assert "already moving to version 2" in again.json()["detail"]

    stop = api.post(f"/console/workloads/{workload_id}/stop", params={"force": "true"})
    assert stop.status_code == 202, stop.text
    wait_status(api, workload_id, "stopped")
    abandoned = finished_rollout(api, deployment_id)
    assert (abandoned["status"], abandoned["message"]) == (
        "abandoned",
        f"workload {workload_id} was stopped",
    )
    assert deployment(api, deployment_id)["artifactId"] == change.v1["id"]
    wait_marked(server, alone - 1)


def test_deleting_the_deployment_during_the_change_abandons_it(
    api: httpx.Client, server: LocalServer
) -> None:
    change = SlowChange.begin(api, server)
    workload_id, deployment_id, alone = change.workload_id, change.deployment_id, change.alone

    assert api.delete(f"/console/deployments/{deployment_id}/").status_code == 204

    trail = f"/console/workloads/{workload_id}/events"
    (why,) = wait_until(lambda: events_of(api, trail, "workload.rolloutAbandoned"))
    wait_marked(server, alone)
    assert why["details"]["reason"] == f"deployment {deployment_id} was deleted"
    running = workload(api, workload_id)
    assert (running["artifactId"], running["status"], running["rollout"]) == (
        change.v1["id"],
        "running",
        None,
    )


def test_deleting_the_workload_right_after_its_deployment_leaves_nothing_running(
    api: httpx.Client, server: LocalServer
) -> None:
    change = SlowChange.begin(api, server)

    assert api.delete(f"/console/deployments/{change.deployment_id}/").status_code == 204
    answer = api.delete(f"/console/workloads/{change.workload_id}/", params={"force": "true"})
    assert answer.status_code == 204, answer.text

    wait_marked(server, change.alone - 1)  # the old instance and the new one
    trail = "/console/events/?entityType=workload&entityId=" + change.workload_id
    assert event_types(api, trail)[-1] == "workload.deleted", "its trail ends with the delete"


def test_a_new_instance_not_ready_in_time_is_abandoned(data_dir: Path) -> None:
    with running_server(data_dir, "--rollout-timeout", "1s") as server, server.client() as api:
        name, port = collection_name(), free_port()
        v1 = register(api, hello_spec(port, "one"), name)
        slow = register(api, hello_spec(port, "slow", env={"STARTUP_DELAY": "60"}), name)
        _, deployment_id = deploy(api, v1["id"])
        move(api, deployment_id, slow["id"])
        abandoned = finished_rollout(api, deployment_id)
        assert (
            abandoned["message"] == "the new instance was not ready within 1 s (--rollout-timeout)"
        )
        assert deployment(api, deployment_id)["artifactId"] == v1["id"]
        wait_marked(server, 1)


def test_a_stopped_workload_moves_at_once(api: httpx.Client) -> None:
    name, port = collection_name(), free_port()
    v1 = register(api, hello_spec(port, "one"), name)
    v2 = register(api, hello_spec(port, "two"), name)
    workload_id, deployment_id = deploy(api, v1["id"])
    api.post(f"/console/workloads/{workload_id}/stop", params={"force": "true"})
    wait_status(api, workload_id, "stopped")

    moved = move(api, deployment_id, v2["id"])

    assert moved["artifactId"] == v2["id"]
    assert moved["rollout"]["status"] == "completed"
    assert workload(api, workload_id)["artifactId"] == v2["id"]
    (changed,) = events_of(
        api, f"/console/deployments/{deployment_id}/events", "deployment.artifactChanged"
    )
    assert changed["details"]["rolling"] is False
    api.post(f"/console/workloads/{workload_id}/start", params={"force": "true"})
    wait_status(api, workload_id, "running")
    greeting = api.get(f"/endpoints/deployments/{deployment_id}/").json()["greeting"]
    assert greeting == "two"
