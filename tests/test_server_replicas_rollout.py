"""A rolling change of a workload of three replicas: three new instances start beside the three
serving ones, the switch waits until every new one is ready, invoke answers every call, and the
old ones stop; a ``kill -9`` of the server meanwhile loses nothing and leaves no orphan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from rollouttools import (
    InvokeLoop,
    collection_name,
    event_types,
    finished_rollout,
    move,
    register,
    runs,
    wait_marked,
)
from test_server_replicas import who_answers

from harness import LocalServer, free_port, hello_spec, processes_marked, wait_status


def deploy_replicated(api: httpx.Client, artifact_id: str, count: int) -> tuple[str, str]:
    """A workload of ``count`` replicas of ``artifact_id`` (running asserted) and a deployment
    of it: their ids."""
    body = {"name": "prod", "artifactId": artifact_id, "runtime": {"replicaCount": count}}
    answer = api.post("/console/workloads/", json=body)
    assert answer.status_code == 201, answer.text
    workload_id: str = answer.json()["id"]
    wait_status(api, workload_id, "running")
    answer = api.post("/console/deployments/", json={"workloadId": workload_id, "name": "prod"})
    assert answer.status_code == 201, answer.text
    deployment_id: str = answer.json()["id"]
    return workload_id, deployment_id


def two_versions(api: httpx.Client, new_env: dict[str, str] | None = None) -> tuple[str, str]:
    """Versions 1 ("old") and 2 ("new", with ``new_env``) of one collection: their ids."""
    name, port = collection_name(), free_port()
    old: dict[str, Any] = register(api, hello_spec(port, "old"), name)
    new: dict[str, Any] = register(api, hello_spec(port, "new", env=new_env), name)
    return old["id"], new["id"]


def test_three_replicas_move_as_a_whole_and_every_call_is_answered(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            # The new instances take a second to get ready: the switch must wait for all three.
            old, new = two_versions(api, {"STARTUP_DELAY": "1"})
            workload_id, deployment_id = deploy_replicated(api, old, 3)
            old_pids = set(who_answers(api, workload_id, 6))
            assert len(old_pids) == 3
            with InvokeLoop(server, f"/endpoints/deployments/{deployment_id}/") as calls:
                calls.wait_for(20)
                move(api, deployment_id, new)
                assert len(wait_marked(server, 6)) == 6, "three new beside the three old"
                done = finished_rollout(api, deployment_id)
                assert done["status"] == "completed", done  # else its reason says why
                calls.wait_for(20)
            # Every new instance was ready at the switch: the next three calls reach three.
            new_pids = set(who_answers(api, workload_id, 3))
            assert len(new_pids) == 3
            assert not new_pids & old_pids
            assert calls.failures() == [], calls.failures()[:3]
            assert runs(calls.greetings()) == ["old", "new"], "one switch, no flapping"
            workload = wait_status(api, workload_id, "running")
            assert workload["artifactId"] == new
            assert [r["ready"] for r in workload["statusDetails"]["replicas"]] == [True] * 3
            assert set(wait_marked(server, 3)) == new_pids, "the old ones stopped"
            trail = event_types(api, f"/console/deployments/{deployment_id}/events")
            assert trail.count("workload.rolledOut") == 1
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_a_crash_mid_change_of_three_replicas_resumes_with_the_same_new_instances(
    data_dir: Path,
) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        old, new = two_versions(api, {"STARTUP_DELAY": "3"})
        workload_id, deployment_id = deploy_replicated(api, old, 3)
        old_pids = set(processes_marked(data_dir))
        move(api, deployment_id, new)
        new_pids = set(wait_marked(server, 6)) - old_pids
    server.kill()
    assert len(new_pids) == 3
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            assert finished_rollout(api, deployment_id)["status"] == "completed"
            assert set(wait_marked(server, 3)) == new_pids, "the new ones were adopted"
            assert set(who_answers(api, workload_id, 6)) == new_pids
            workload = wait_status(api, workload_id, "running")
            assert workload["artifactId"] == new
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_a_new_version_of_three_replicas_that_never_gets_ready_is_abandoned_whole(
    data_dir: Path,
) -> None:
    server = LocalServer(data_dir, ["--rollout-timeout", "3s"]).start()
    try:
        with server.client() as api:
            old, new = two_versions(api, {"STARTUP_DELAY": "600"})
            workload_id, deployment_id = deploy_replicated(api, old, 3)
            old_pids = set(processes_marked(data_dir))
            move(api, deployment_id, new)
            assert len(wait_marked(server, 6)) == 6
            done = finished_rollout(api, deployment_id)
            assert done["status"] == "abandoned"
            assert "not ready within 3 s" in done["message"]
            assert set(wait_marked(server, 3)) == old_pids, "the new ones stopped, all three"
            assert set(who_answers(api, workload_id, 6)) == old_pids
            workload = wait_status(api, workload_id, "running")
            assert workload["artifactId"] == old
    finally:
        server.stop()
    assert processes_marked(data_dir) == []
