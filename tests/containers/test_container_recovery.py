"""A crash or restart of a container-runtime server loses nothing and leaves no orphan container."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

import test_server_recovery as recovery
from workloadlab.server.runtimes import data_dir_id
from workloadlab.server.runtimes.container.engine import Engine
from workloadlab.server.runtimes.container.runtime import LABEL_DATA_DIR, LABEL_ROLE, LABEL_WORKLOAD

from containertools import (
    apps_of,
    busybox_spec,
    containers_of,
    image_ref,
    remove_containers,
    running_containers_of,
)
from harness import LocalServer, free_port, wait_status, wait_until

CONTAINER_ARGS = ["--runtime", "container"]


def _server(data_dir: Path) -> LocalServer:
    return LocalServer(data_dir, list(CONTAINER_ARGS)).start()


def _state(data_dir: Path, workload_id: str) -> dict[str, Any]:
    """The runtime state the server stored for a workload (``{}`` if none)."""
    db = sqlite3.connect(data_dir / "workloadlab.sqlite3")
    try:
        (state,) = db.execute(
            "SELECT runtime_state FROM workloads WHERE id = ?", (workload_id,)
        ).fetchone()
    finally:
        db.close()
    loaded: dict[str, Any] = json.loads(state) if state else {}
    return loaded


def _messages(api: httpx.Client, workload_id: str) -> list[str]:
    """The workload's log messages, oldest first."""
    page = api.get(f"/otel/workload/{workload_id}/logs/", params={"limit": 1000}).json()
    return [record["message"] for record in reversed(page["data"])]


def test_kill_9_keeps_containers_running_and_a_new_server_adopts_them(
    data_dir: Path, engine: Engine
) -> None:
    server = _server(data_dir)
    with server.client() as api:
        ids = [
            api.post(
                "/console/workloads/",
                json={"name": f"survivor-{i}", "artifact": busybox_spec(free_port(), f"hi {i}")},
            ).json()["id"]
            for i in range(2)
        ]
        for workload_id in ids:
            wait_status(api, workload_id, "running")
        artifact_id = api.get(f"/console/workloads/{ids[0]}/").json()["artifactId"]
        api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
        api.post("/console/deployments/", json={"workloadId": ids[0], "name": "kept"})
        before = recovery._snapshot(api)
        # Per workload: its container and the sandbox that holds its network and port.
        containers = {w: containers_of(engine, data_dir, w) for w in ids}
        states = {w: _state(data_dir, w) for w in ids}
        assert {
            w: sorted([state["containers"][0]["id"], state["sandbox"]["id"]])
            for w, state in states.items()
        } == containers
        wait_until(lambda: "WARNING: this is a test image" in _messages(api, ids[1]))
        logs_before = _messages(api, ids[1])

    server.kill()
    # The containers keep running without their server...
    every_container = sorted(c for found in containers.values() for c in found)
    assert running_containers_of(engine, data_dir, sandboxes=True) == every_container
    # ...and a new server on the same data dir adopts them.
    server = _server(data_dir)
    try:
        with server.client() as api:
            for index, workload_id in enumerate(ids):
                wait_status(api, workload_id, "running")
                invoked = api.get(f"/endpoints/workloads/{workload_id}/")
                assert invoked.json()["greeting"] == f"hi {index}"
            assert recovery._snapshot(api) == before
            assert {w: containers_of(engine, data_dir, w) for w in ids} == containers, (
                "adopted, not restarted"
            )
            # Logs resume where they were: nothing stored twice, new lines keep coming.
            assert api.get(f"/endpoints/workloads/{ids[1]}/after-adoption").status_code == 404
            wait_until(lambda: any("response:404" in m for m in _messages(api, ids[1])))
            logs_after = _messages(api, ids[1])
            assert logs_after[: len(logs_before)] == logs_before
            assert sum(m.startswith("serving on port") for m in logs_after) == 1
            assert not any("response:404" in m for m in logs_before)
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    # A graceful stop stops and removes every container, sandboxes included.
    assert containers_of(engine, data_dir) == []


def test_a_container_that_died_with_the_server_is_replaced(data_dir: Path, engine: Engine) -> None:
    server = _server(data_dir)
    with server.client() as api:
        workload_id = api.post(
            "/console/workloads/", json={"name": "phoenix", "artifact": busybox_spec(free_port())}
        ).json()["id"]
        wait_status(api, workload_id, "running")
    (old,) = apps_of(engine, data_dir, workload_id)
    server.kill()
    engine.kill(old, "SIGKILL")
    wait_until(lambda: running_containers_of(engine, data_dir) == [])
    server = _server(data_dir)
    try:
        with server.client() as api:
            # (Its stored status still says "running" until the new server catches up.)
            def stored() -> str | None:
                containers = _state(data_dir, workload_id).get("containers") or [{}]
                return containers[0].get("id") if containers[0].get("id") != old else None

            new = wait_until(stored)
            wait_status(api, workload_id, "running")
            assert apps_of(engine, data_dir, workload_id) == [new], "the dead one was removed"
    finally:
        server.stop()


def test_orphans_are_removed_and_other_servers_containers_are_not(
    data_dir: Path, engine: Engine
) -> None:
    other_dir = data_dir.parent / "another-server"
    server = _server(data_dir)
    try:
        with server.client() as api:
            workload_id = api.post(
                "/console/workloads/",
                json={"name": "to-stop", "artifact": busybox_spec(free_port())},
            ).json()["id"]
            wait_status(api, workload_id, "running")
        # A crash in the middle of a stop (desired state written, container still up), ...
        db = sqlite3.connect(data_dir / "workloadlab.sqlite3")
        server.kill()
        with db:
            db.execute("UPDATE workloads SET desired = 'stopped' WHERE id = ?", (workload_id,))
        db.close()
        # ... one in the middle of a start (a container no state names), and a container of
        # another server using the same engine.
        labels = {LABEL_WORKLOAD: "0" * 24, LABEL_ROLE: "primary"}
        for directory, name in ((data_dir, "half-started"), (other_dir, "not-ours")):
            created = engine.create(
                image=image_ref(),
                name=f"workloadlab-test-{name}-{time.monotonic_ns()}",
                labels={**labels, LABEL_DATA_DIR: data_dir_id(directory)},
                environment={"PORT": "8080"},
                entrypoint=None,
            )
            engine.start(created)
        assert len(running_containers_of(engine, data_dir)) == 2  # (and the sandbox)
        server = _server(data_dir)
        with server.client() as api:
            wait_status(api, workload_id, "stopped")
        assert containers_of(engine, data_dir) == []
        assert len(running_containers_of(engine, other_dir)) == 1
    finally:
        server.stop()
        remove_containers(engine, other_dir)
