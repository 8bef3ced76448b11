"""The ``workloadlab.jupyter`` server extension, without a browser: JupyterLab started the way
``make lab`` starts it (headless) starts the local Workload API server, stops it gracefully
when JupyterLab stops (its workloads come back next time), leaves it alone with
``local_server=never`` or when DataRobot is configured, and reuses one already running."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from harness import LocalServer, free_port, hello_spec, processes_marked, wait_status, wait_until
from labtools import Lab, LabFactory


def started_server(labs: LabFactory, lab: Lab, timeout: float = 30.0) -> dict[str, Any]:
    """The connection file of the local server the extension started (bounded wait)."""

    def found() -> dict[str, Any] | None:
        if lab.process.poll() is not None:
            raise AssertionError(f"JupyterLab exited:\n{lab.log()}")
        info = labs.server_json()
        return info if info is not None and labs.alive(int(info["pid"])) else None

    info: dict[str, Any] = wait_until(found, timeout=timeout, interval=0.05)
    return info


def client(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(
        base_url=info["endpoint"],
        headers={"Authorization": f"Bearer {info['token']}"},
        timeout=30.0,
    )


def test_lab_starts_the_local_server_and_stops_it_gracefully(
    start_lab: LabFactory, data_dir: Path
) -> None:
    began = time.monotonic()
    lab = start_lab()
    info = started_server(start_lab, lab)
    pid = int(info["pid"])
    assert lab.serve_children() == [pid]  # JupyterLab's child, not someone else's
    wait_until(lambda: "workloadlab: local Workload API server at" in lab.log(), timeout=30)
    with client(info) as api:
        listed = api.get("/console/workloads/")
        assert listed.status_code == 200, listed.text
        assert listed.json()["data"] == []
        assert httpx.get(f"{info['endpoint']}/console/workloads/").status_code == 401
        spec = hello_spec(free_port(), "hello from the extension test")
        created = api.post("/console/workloads/", json={"name": "ext-hello", "artifact": spec})
        assert created.status_code == 201, created.text
        workload_id = created.json()["id"]
        wait_status(api, workload_id, "running")
    assert processes_marked(data_dir) != []

    assert lab.stop() == 0
    assert not start_lab.alive(pid)
    assert not (data_dir / "server.json").exists()
    assert processes_marked(data_dir) == []
    assert "workloadlab: stopping the local server" in lab.log()
    assert "workloadlab local server stopped" in (data_dir / "server.log").read_text()

    again = start_lab()
    info_again = started_server(start_lab, again)
    assert int(info_again["pid"]) != pid
    with client(info_again) as api:
        wait_status(api, workload_id, "running")  # a workload that should run comes back
        assert [w["id"] for w in api.get("/console/workloads/").json()["data"]] == [workload_id]
    assert again.stop() == 0
    assert not start_lab.alive(int(info_again["pid"]))
    assert not (data_dir / "server.json").exists()
    assert processes_marked(data_dir) == []
    assert time.monotonic() - began < 60


def test_never_does_not_start_the_local_server(start_lab: LabFactory, data_dir: Path) -> None:
    lab = start_lab("--WorkloadLab.local_server=never")
    # The decision is logged synchronously while the extension loads, before the server
    # answers /api/status: once both happened, no server start can follow.
    assert "workloadlab: not starting the local server (local_server=never)" in lab.log()
    assert lab.serve_children() == []
    assert not (data_dir / "server.json").exists()
    assert lab.stop() == 0
    assert not (data_dir / "server.json").exists()


def test_auto_does_not_start_it_when_datarobot_is_configured(
    start_lab: LabFactory, data_dir: Path
) -> None:
    lab = start_lab(env={"DATAROBOT_ENDPOINT": "http://127.0.0.1:9/api/v2"})
    assert "workloadlab: DataRobot is configured; not starting the local server" in lab.log()
    assert lab.serve_children() == []
    assert not (data_dir / "server.json").exists()
    assert lab.stop() == 0
    assert not (data_dir / "server.json").exists()


def test_a_running_local_server_is_reused_and_left_running(
    start_lab: LabFactory, data_dir: Path
) -> None:
    server = LocalServer(data_dir).start()
    assert server.process is not None
    try:
        lab = start_lab()
        wait_until(lambda: "workloadlab: using the local server already running at" in lab.log())
        assert lab.serve_children() == []
        info = start_lab.server_json()
        assert info is not None
        assert info["pid"] == server.process.pid
        assert lab.stop() == 0
        assert server.process.poll() is None  # not stopped with JupyterLab
        assert start_lab.server_json() == info
        with server.client() as api:
            assert api.get("/console/workloads/").status_code == 200
    finally:
        server.stop()  # uvicorn re-raises SIGTERM after its graceful shutdown: status -15
    assert "workloadlab local server stopped" in server.log()
