"""``POST .../stop`` answers once the workload is stopped (bounded), so a start right after it
works; a workload slow to stop is answered at the bound and goes on stopping."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from harness import free_port, hello_spec, running_server, wait_status

IGNORES_SIGTERM = [
    sys.executable,
    "-c",
    "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); signal.signal = print; "
    "from workloadlab.examples.hello import main; main()",
]
"""The example app, deaf to SIGTERM: only the SIGKILL after the grace period stops it."""


def test_stop_answers_once_stopped_and_a_start_right_after_works(api: httpx.Client) -> None:
    created = api.post(
        "/console/workloads/", json={"name": "quick", "artifact": hello_spec(free_port())}
    ).json()
    workload_id = created["id"]
    wait_status(api, workload_id, "running")
    for _ in range(3):
        stop = api.post(f"/console/workloads/{workload_id}/stop")
        assert stop.status_code == 202
        assert stop.json()["status"] == "Workload has stopped."
        assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "stopped"
        start = api.post(f"/console/workloads/{workload_id}/start")
        assert start.status_code == 202, start.text  # not 409: it is stopped already
        wait_status(api, workload_id, "running")
    api.delete(f"/console/workloads/{workload_id}").raise_for_status()


def test_a_slow_stop_is_answered_at_the_bound_and_finishes_later(data_dir: Path) -> None:
    wait = 0.3
    grace = 1.5
    options = ("--stop-answer-wait", f"{wait}s", "--grace-period", f"{grace}s")
    with running_server(data_dir, *options) as server, server.client() as api:
        spec = hello_spec(free_port(), entrypoint=IGNORES_SIGTERM)
        created = api.post("/console/workloads/", json={"name": "deaf", "artifact": spec})
        workload_id = created.json()["id"]
        wait_status(api, workload_id, "running")
        began = time.monotonic()
        stop = api.post(f"/console/workloads/{workload_id}/stop")
        answered = time.monotonic() - began
        assert stop.status_code == 202
        assert "stopping" in stop.json()["status"]
        assert wait <= answered < grace
        assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "stopping"
        again = api.post(f"/console/workloads/{workload_id}/stop")  # a retry waits the same
        assert again.status_code == 202
        assert "stopping" in again.json()["status"]
        wait_status(api, workload_id, "stopped", timeout=grace + 5)
        assert time.monotonic() - began >= grace  # it took the SIGKILL
