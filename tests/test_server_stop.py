"""``POST .../stop`` answers once the workload is stopped (bounded), so a start right after it
works; a workload slow to stop is answered at the bound and goes on stopping."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

from harness import free_port, hello_spec, running_server, wait_status

DRAINS_SLOWLY = [
    sys.executable,
    "-c",
    "import signal; "
    "signal.signal(signal.SIGTERM, lambda *_: print('draining, slowly', flush=True)); "
    "signal.signal = lambda *_: None; "
    "from workloadlab.examples.hello import main; main()",
]
"""The example app, which only says so on SIGTERM: the SIGKILL after the grace period stops
it."""


def _log_tail(api: httpx.Client, workload_id: str) -> list[str]:
    tail: list[str] = api.get(f"/console/workloads/{workload_id}/").json()["statusDetails"][
        "logTail"
    ]
    return tail


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
        assert _log_tail(api, workload_id)[-1] == "hello: stopping (SIGTERM)"  # stored with it
        start = api.post(f"/console/workloads/{workload_id}/start")
        assert start.status_code == 202, start.text  # not 409: it is stopped already
        wait_status(api, workload_id, "running")
    api.delete(f"/console/workloads/{workload_id}").raise_for_status()


@pytest.mark.slow
def test_a_slow_stop_is_answered_at_the_bound_and_finishes_later(data_dir: Path) -> None:
    wait = 0.3
    grace = 3.0
    options = ("--stop-answer-wait", f"{wait}s", "--grace-period", f"{grace}s")
    with running_server(data_dir, *options) as server, server.client() as api:
        spec = hello_spec(free_port(), entrypoint=DRAINS_SLOWLY)
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
        # What it prints while stopping is stored during the stop, not only at its end.
        while "draining, slowly" not in _log_tail(api, workload_id):
            assert time.monotonic() - began < grace - 0.5, "not stored during the stop"
            time.sleep(0.02)
        again = api.post(f"/console/workloads/{workload_id}/stop")  # a retry waits the same
        assert again.status_code == 202
        assert "stopping" in again.json()["status"]
        assert time.monotonic() - began < grace
        wait_status(api, workload_id, "stopped", timeout=grace + 5)
        assert time.monotonic() - began >= grace  # it took the SIGKILL
        assert _log_tail(api, workload_id).count("draining, slowly") == 1


def test_an_app_that_exits_at_once_on_sigterm_is_stopped_not_crashed(api: httpx.Client) -> None:
    """The stop signal goes out before the stop is committed, so the app may be gone before
    its task has read the request: that is a stop, never a crash to restart."""
    instant = ["sh", "-c", 'trap "exit 0" TERM; while :; do sleep 0.01; done']
    spec = hello_spec(free_port(), entrypoint=instant, readinessProbe=None)
    created = api.post("/console/workloads/", json={"name": "instant", "artifact": spec}).json()
    workload_id = created["id"]
    wait_status(api, workload_id, "running")
    for _ in range(5):
        stop = api.post(f"/console/workloads/{workload_id}/stop")
        assert stop.json()["status"] == "Workload has stopped."
        stopped = api.get(f"/console/workloads/{workload_id}/").json()
        assert stopped["status"] == "stopped"
        assert stopped["restartCount"] == 0
        assert "restarting" not in stopped["statusDetails"].get("message", "")
        api.post(f"/console/workloads/{workload_id}/start").raise_for_status()
        wait_status(api, workload_id, "running")
    events = api.get(f"/console/workloads/{workload_id}/events", params={"limit": 100}).json()
    changes = [e["details"] for e in events["data"] if e["eventType"] == "workload.statusChanged"]
    assert not [c for c in changes if "restarting" in c.get("message", "")]
    api.delete(f"/console/workloads/{workload_id}").raise_for_status()
