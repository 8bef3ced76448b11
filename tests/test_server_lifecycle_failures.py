"""Probes, crash loops and start failures: `errored` with the reason, never a hang."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import (
    LocalServer,
    create_workload,
    free_port,
    hello_spec,
    processes_marked,
    wait_status,
    wait_until,
)


def _status_events(api: httpx.Client, workload_id: str) -> list[dict[str, Any]]:
    events = api.get(f"/console/workloads/{workload_id}/events").json()["data"]
    return [e for e in reversed(events) if e["eventType"] == "workload.statusChanged"]


def test_port_taken_is_errored(api: httpx.Client) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        workload_id = create_workload(api, "port-taken", hello_spec(port))
        errored = wait_status(api, workload_id, "errored")
    assert f"port {port}" in errored["statusDetails"]["message"]
    assert "in use" in errored["statusDetails"]["message"]


def test_missing_entrypoint_is_errored(api: httpx.Client) -> None:
    artifact = hello_spec(free_port(), entrypoint=["/no/such/program", "--serve"])
    errored = wait_status(api, create_workload(api, "missing", artifact), "errored")
    assert "/no/such/program" in errored["statusDetails"]["message"]


def test_spec_without_entrypoint_is_errored(api: httpx.Client) -> None:
    artifact = hello_spec(free_port(), entrypoint=None)
    errored = wait_status(api, create_workload(api, "no-entrypoint", artifact), "errored")
    assert "entrypoint" in errored["statusDetails"]["message"]


def test_process_that_exits_at_once_is_errored_with_its_last_words(api: httpx.Client) -> None:
    artifact = hello_spec(
        free_port(),
        entrypoint=["sh", "-c", "echo booting; echo 'ERROR: no model file' >&2; exit 3"],
    )
    workload_id = create_workload(api, "exits", artifact)
    errored = wait_status(api, workload_id, "errored")
    details = errored["statusDetails"]
    assert details["exitCode"] == 3
    assert "status 3" in details["message"]
    assert "ERROR: no model file" in details["logTail"]
    logs = api.get(f"/otel/workload/{workload_id}/logs/", params={"level": "error"}).json()
    assert [r["message"] for r in logs["data"]] == ["ERROR: no model file"]
    assert logs["data"][0]["stream"] == "stderr"
    # errored is sticky: nothing restarts it until the user starts it again.
    assert api.get(f"/console/workloads/{workload_id}/").json()["restartCount"] == 0
    assert api.post(f"/console/workloads/{workload_id}/start").status_code == 202
    wait_status(api, workload_id, "errored")
    assert api.get(f"/console/workloads/{workload_id}/").json()["restartCount"] == 0


def test_startup_probe_exhaustion_is_errored(api: httpx.Client) -> None:
    port = free_port()
    artifact = hello_spec(
        port,
        env={"STARTUP_DELAY": "60"},
        startupProbe={"path": "/readyz", "periodSeconds": 0.2, "failureThreshold": 3},
    )
    workload_id = create_workload(api, "slow-start", artifact)
    errored = wait_status(api, workload_id, "errored")
    assert "startup probe /readyz failed 3 times" in errored["statusDetails"]["message"]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the app was stopped"


def test_startup_probe_gates_readiness(api: httpx.Client) -> None:
    artifact = hello_spec(
        free_port(),
        env={"STARTUP_DELAY": "0.5"},
        startupProbe={"path": "/readyz", "periodSeconds": 0.2, "failureThreshold": 10},
    )
    workload_id = create_workload(api, "gated", artifact)
    running = wait_status(api, workload_id, "running")
    assert running["restartCount"] == 0


@pytest.mark.slow
def test_liveness_failure_restarts_with_backoff(api: httpx.Client) -> None:
    artifact = hello_spec(
        free_port(),
        # Healthy for 1 s after each start: time to be ready (running) first, even on a busy
        # machine, before liveness fails and restarts it.
        env={"FAIL_HEALTH_AFTER": "1"},
        livenessProbe={"path": "/healthz", "periodSeconds": 0.2, "failureThreshold": 2},
    )
    workload_id = create_workload(api, "unhealthy", artifact)
    wait_until(lambda: api.get(f"/console/workloads/{workload_id}/").json()["restartCount"] >= 1)
    messages = [e["details"].get("message", "") for e in _status_events(api, workload_id)]
    assert any("liveness probe /healthz failed 2 times; restarting in" in m for m in messages)
    # It comes back up after the restart (and keeps failing, so it loops until it gives up).
    errored = wait_status(api, workload_id, "errored", timeout=30)
    assert "gave up after 3 restarts" in errored["statusDetails"]["message"]
    tos = [e["details"]["to"] for e in _status_events(api, workload_id)]
    assert tos.count("running") == 4, tos


def test_crash_loop_backs_off(api: httpx.Client) -> None:
    artifact = hello_spec(
        free_port(),
        entrypoint=["sh", "-c", "echo up; sleep 0.2; echo 'crashed' >&2; exit 1"],
        readinessProbe=None,
    )
    workload_id = create_workload(api, "crashy", artifact)
    errored = wait_status(api, workload_id, "errored", timeout=30)
    assert errored["restartCount"] == 3
    assert errored["statusDetails"]["exitCode"] == 1
    events = _status_events(api, workload_id)
    delays = [
        e["details"]["message"].rsplit("restarting in ", 1)[1]
        for e in events
        if "restarting in" in e["details"].get("message", "")
    ]
    assert delays == ["0.2 s", "0.4 s", "0.8 s"]
    starts = [
        dt.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        for e in events
        if e["details"]["to"] == "running"
    ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3
    assert gaps[0] < gaps[1] < gaps[2], gaps
    assert gaps[2] >= 0.8 + 0.2


def test_draft_ttl_removes_draft_workloads_only(data_dir: Path) -> None:
    server = LocalServer(
        data_dir, ["--draft-ttl", "1500ms", "--ttl-check-interval", "100ms"]
    ).start()
    try:
        with server.client() as api:
            draft = create_workload(api, "draft", hello_spec(free_port()))
            kept = create_workload(api, "kept", hello_spec(free_port()))
            first = wait_status(api, draft, "running")
            expires = dt.datetime.fromisoformat(first["expiresAt"].replace("Z", "+00:00"))
            created = dt.datetime.fromisoformat(first["createdAt"].replace("Z", "+00:00"))
            assert (expires - created).total_seconds() == 1.5
            artifact_id = api.get(f"/console/workloads/{kept}/").json()["artifactId"]
            api.patch(f"/registry/artifacts/{artifact_id}", json={"status": "registered"})
            wait_until(lambda: api.get(f"/console/workloads/{draft}/").status_code == 404)
            assert api.get(f"/registry/artifacts/{first['artifactId']}").status_code == 200
            assert api.get(f"/console/workloads/{kept}/").json()["status"] == "running"
            assert len(processes_marked(data_dir)) == 1
    finally:
        server.stop()


def test_logs_are_capped_per_workload_oldest_dropped(data_dir: Path) -> None:
    server = LocalServer(data_dir, ["--log-cap", "20"]).start()
    try:
        with server.client() as api:
            # stdout and stderr are two pipes, read side by side: the stderr line comes once
            # every stdout line is stored, so the order of the stored lines is known.
            stdout_stored = data_dir.parent / "stdout-stored"
            script = (
                "for i in $(seq 1 50); do echo line-$i; done; "
                f"until [ -e {stdout_stored} ]; do sleep 0.01; done; "
                "echo WARNING: done >&2; exec sleep 60"
            )
            artifact = hello_spec(free_port(), entrypoint=["sh", "-c", script], readinessProbe=None)
            workload_id = create_workload(api, "chatty", artifact)
            logs_url = f"/otel/workload/{workload_id}/logs/"

            def newest() -> str:
                data = api.get(logs_url).json()["data"]
                return str(data[0]["message"]) if data else ""

            wait_until(lambda: newest() == "line-50")
            stdout_stored.touch()
            wait_until(lambda: newest() == "WARNING: done")
            page = api.get(logs_url, params={"limit": 1000}).json()
            assert page["totalCount"] == 20
            messages = [r["message"] for r in reversed(page["data"])]
            assert messages[-1] == "WARNING: done"
            assert messages[:-1] == [f"line-{i}" for i in range(32, 51)]
            warnings = api.get(logs_url, params={"level": "warning"}).json()["data"]
            assert [(r["level"], r["stream"]) for r in warnings] == [("warning", "stderr")]
            assert api.get(logs_url, params={"level": "loud"}).status_code == 422
    finally:
        server.stop()
