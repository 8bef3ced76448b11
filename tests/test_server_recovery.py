"""A crash or restart of the local server loses nothing and leaves no orphan process."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from harness import (
    LocalServer,
    free_port,
    hello_spec,
    processes_marked,
    wait_status,
    wait_until,
)


def _snapshot(api: httpx.Client) -> dict[str, object]:
    workloads = api.get("/console/workloads/").json()["data"]
    return {
        "workloads": sorted(
            (w["id"], w["name"], w["artifactId"], w["createdAt"], w["creator"]["id"])
            for w in workloads
        ),
        "artifacts": sorted(
            (a["id"], a["name"], a["status"], a["version"], str(a["spec"]))
            for a in api.get("/registry/artifacts/").json()["data"]
        ),
        "deployments": sorted(
            (d["id"], d["name"], d["workloadId"], d["importance"])
            for d in api.get("/console/deployments/").json()["data"]
        ),
        "events": {w["id"]: _event_ids(api, w["id"]) for w in workloads},
    }


def _event_ids(api: httpx.Client, workload_id: str) -> list[str]:
    events = api.get(f"/console/workloads/{workload_id}/events").json()["data"]
    return [e["id"] for e in events if e["eventType"] != "workload.statusChanged"]


def _pid_of(server: LocalServer, workload_id: str) -> int:
    import sqlite3

    db = sqlite3.connect(server.data_dir / "workloadlab.sqlite3")
    (state,) = db.execute(
        "SELECT runtime_state FROM workloads WHERE id = ?", (workload_id,)
    ).fetchone()
    db.close()
    import json

    return int(json.loads(state)["pid"])


def test_kill_9_with_three_running_workloads(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        ids = []
        for index in range(3):
            body = {"name": f"survivor-{index}", "artifact": hello_spec(free_port(), f"hi {index}")}
            ids.append(api.post("/console/workloads/", json=body).json()["id"])
        for workload_id in ids:
            wait_status(api, workload_id, "running")
        registered = api.get(f"/console/workloads/{ids[0]}/").json()["artifactId"]
        api.patch(f"/registry/artifacts/{registered}", json={"status": "registered"})
        api.post("/console/deployments/", json={"workloadId": ids[0], "name": "kept"})
        before = _snapshot(api)
        pids_before = {w: _pid_of(server, w) for w in ids}

    server.kill()
    # The workloads keep running without their server...
    assert sorted(processes_marked(data_dir)) == sorted(pids_before.values())
    # ...and a new server on the same data dir adopts them.
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            for index, workload_id in enumerate(ids):
                workload = wait_status(api, workload_id, "running")
                assert workload["name"] == f"survivor-{index}"
                invoked = api.get(f"/endpoints/workloads/{workload_id}/")
                assert invoked.json()["greeting"] == f"hi {index}"
            assert _snapshot(api) == before
            assert {w: _pid_of(server, w) for w in ids} == pids_before, "adopted, not restarted"
            assert sorted(processes_marked(data_dir)) == sorted(pids_before.values())
            # Logs keep flowing into the same records after adoption.
            api.get(f"/endpoints/workloads/{ids[1]}/after-adoption")
            wait_until(
                lambda: any(
                    "after-adoption" in r["message"]
                    for r in api.get(f"/otel/workload/{ids[1]}/logs/").json()["data"]
                )
            )
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_a_workload_that_died_with_the_server_is_restarted(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        workload_id = api.post(
            "/console/workloads/", json={"name": "phoenix", "artifact": hello_spec(free_port())}
        ).json()["id"]
        wait_status(api, workload_id, "running")
        old_pid = _pid_of(server, workload_id)
    server.kill()
    os.killpg(old_pid, signal.SIGKILL)
    wait_until(lambda: processes_marked(data_dir) == [])
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            wait_status(api, workload_id, "running")
            assert _pid_of(server, workload_id) != old_pid
            assert len(processes_marked(data_dir)) == 1
            changes = api.get(f"/console/workloads/{workload_id}/events").json()["data"]
            restarted = next(e for e in changes if e["details"].get("to") == "submitted")
            assert restarted["details"]["from"] == "running", "no stale 'running' is kept"
            assert "server restarted" in restarted["details"]["message"]
    finally:
        server.stop()


def test_orphans_are_removed_and_stopped_workloads_stay_stopped(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        workload_id = api.post(
            "/console/workloads/", json={"name": "to-stop", "artifact": hello_spec(free_port())}
        ).json()["id"]
        wait_status(api, workload_id, "running")
        pid = _pid_of(server, workload_id)
        # Simulate a crash in the middle of a stop: desired state written, process still up.
        import sqlite3

        db = sqlite3.connect(data_dir / "workloadlab.sqlite3")
        server.kill()
        with db:
            db.execute("UPDATE workloads SET desired = 'stopped' WHERE id = ?", (workload_id,))
        db.close()
    assert pid in processes_marked(data_dir)
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            wait_status(api, workload_id, "stopped")
            assert processes_marked(data_dir) == []
    finally:
        server.stop()


def test_graceful_shutdown_stops_workloads_and_keeps_the_desired_state(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        running = api.post(
            "/console/workloads/", json={"name": "keep", "artifact": hello_spec(free_port())}
        ).json()["id"]
        stopped = api.post(
            "/console/workloads/", json={"name": "off", "artifact": hello_spec(free_port())}
        ).json()["id"]
        wait_status(api, running, "running")
        wait_status(api, stopped, "running")
        api.post(f"/console/workloads/{stopped}/stop")
        wait_status(api, stopped, "stopped")
    began = time.monotonic()
    assert server.stop(signal.SIGTERM) == 0, "a clean shutdown exits with status 0"
    assert time.monotonic() - began < 3 + 2, "within the grace period"
    assert processes_marked(data_dir) == []
    assert not (data_dir / "server.json").exists()
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            wait_status(api, running, "running")
            assert api.get(f"/console/workloads/{stopped}/").json()["status"] == "stopped"
    finally:
        server.stop()


def test_a_second_server_on_the_same_data_dir_is_refused(data_dir: Path) -> None:
    first = LocalServer(data_dir).start()
    try:
        import subprocess
        import sys

        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "workloadlab",
                "serve",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode != 0
        assert "another server already uses" in second.stderr
        assert first.endpoint in second.stderr
    finally:
        first.stop()
