"""The ``workloadlab.jupyter`` server extension, without a browser: JupyterLab started the way
``make lab`` starts it (headless) starts the local Workload API server, stops it gracefully
when JupyterLab stops (its workloads come back next time), leaves it alone with
``local_server=never`` or when DataRobot is configured, and reuses one already running. Two
JupyterLabs and a kernel share one server, which the last JupyterLab stops; a JupyterLab and
kernels starting at once make one server."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from jupyter_client.blocking.client import BlockingKernelClient

from clitools import cli_env, ok_json, serve_processes
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


def kernel_of(labs: LabFactory, lab: Lab) -> BlockingKernelClient:
    """A kernel JupyterLab starts (as opening a notebook does), and a client of it."""
    with lab.api() as api:
        started = api.post("/api/kernels", json={"name": "python3"})
        assert started.status_code == 201, started.text
    connection_file = labs.tmp_path / "jupyter" / "runtime" / f"kernel-{started.json()['id']}.json"
    kernel = BlockingKernelClient(connection_file=str(connection_file))
    kernel.load_connection_file()
    kernel.start_channels()
    kernel.wait_for_ready(timeout=60)
    return kernel


def run_in(kernel: BlockingKernelClient, code: str) -> str:
    """Run a cell in ``kernel``: what it printed or displayed, as text (it must succeed)."""
    printed: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] in ("display_data", "execute_result"):
            printed.append(message["content"]["data"].get("text/plain", ""))
        elif message["msg_type"] == "error":
            printed.append("\n".join(message["content"]["traceback"]))

    reply = kernel.execute_interactive(code, timeout=90, output_hook=collect)
    assert reply["content"]["status"] == "ok", "".join(printed)
    return "".join(printed)


def test_two_labs_and_a_kernel_share_one_server(
    start_lab: LabFactory, data_dir: Path, tmp_path: Path
) -> None:
    first = start_lab()
    pid = int(started_server(start_lab, first)["pid"])
    second = start_lab()
    wait_until(lambda: "workloadlab: using the local server already running at" in second.log())
    assert second.serve_children() == []
    kernel = kernel_of(start_lab, second)
    try:
        spec = tmp_path / "shared.yaml"
        spec.write_text(yaml.safe_dump(hello_spec(free_port(), "shared")))
        said = run_in(
            kernel,
            "%load_ext workloadlab\n"
            f"%workload create {spec} --name shared\n"
            "from workloadlab.notebook.session import get_session\n"
            "print(get_session().client.endpoint)",
        )
        assert said.strip().endswith(started_server(start_lab, first)["endpoint"])
        status = ok_json(data_dir, "server", "status")
        assert status["pid"] == pid
        assert status["startedBy"]["by"] == "jupyterlab"
        assert status["startedBy"]["pid"] == first.process.pid
        assert sorted(status["jupyterlabs"]) == sorted([first.process.pid, second.process.pid])

        assert first.stop() == 0  # the first JupyterLab goes; the second still uses the server
        assert start_lab.alive(pid)
        row = run_in(kernel, "%workload list").splitlines()[1]  # the kernel carries on
        assert row.startswith("shared")
        assert " running " in row
        leaving = f"leaving the local server running for JupyterLab {second.process.pid}"
        assert leaving in first.log()
        assert ok_json(data_dir, "server", "status")["jupyterlabs"] == [second.process.pid]
    finally:
        kernel.stop_channels()

    assert second.stop() == 0  # the last JupyterLab stops it, gracefully
    assert not start_lab.alive(pid)
    assert "workloadlab: stopping the local server" in second.log()
    assert not (data_dir / "server.json").exists()
    assert processes_marked(data_dir) == []


CLIENT = (
    "import asyncio, workloadlab\n"
    "async def main():\n"
    "    async with workloadlab.AsyncClient.local() as client:\n"
    "        print(client.endpoint)\n"
    "asyncio.run(main())\n"
)
"""What a kernel's first ``%workload`` does: find the local server, or start it."""


def test_a_lab_and_kernels_starting_at_once_make_one_server(
    start_lab: LabFactory, data_dir: Path
) -> None:
    lab = start_lab(wait=False)
    env = {**cli_env(data_dir), "WORKLOADLAB_JUPYTERLAB_PID": str(lab.process.pid)}
    kernels = [
        subprocess.Popen([sys.executable, "-c", CLIENT], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    lab.wait_ready()
    endpoints = {kernel.communicate(timeout=90)[0].strip() for kernel in kernels}
    info = started_server(start_lab, lab)
    assert endpoints == {info["endpoint"]}
    wait_until(lambda: "workloadlab: using the local server" in lab.log()
               or "workloadlab: local Workload API server at" in lab.log())  # fmt: skip
    assert serve_processes(data_dir) == [int(info["pid"])]
    assert lab.stop() == 0  # started for this JupyterLab (by it or its kernels): stopped
    assert serve_processes(data_dir) == []
