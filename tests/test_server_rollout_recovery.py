"""A ``kill -9`` of the server in the middle of a rolling change leaves one consistent state after
the restart, and no orphan process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from rollouttools import (
    collection_name,
    deploy,
    event_types,
    finished_rollout,
    move,
    register,
    wait_marked,
)

from harness import LocalServer, free_port, hello_spec, processes_marked, wait_until

IGNORES_SIGTERM = [
    sys.executable,
    "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    " signal.signal = lambda *args: None; sys.argv = ['hello'];"
    " runpy.run_module('workloadlab.examples.hello', run_name='__main__')",
]
"""The example app, deaf to SIGTERM: it outlives a stop by the whole grace period."""


def greeting(api: httpx.Client, deployment_id: str) -> str:
    answer = api.get(f"/endpoints/deployments/{deployment_id}/")
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["greeting"]
    return text


def versions(api: httpx.Client, old: dict[str, object], new: dict[str, object]) -> tuple[str, str]:
    """Register two versions of one collection on one port; their ids."""
    name, port = collection_name(), free_port()
    first = register(api, hello_spec(port, "old", **old), name)
    second = register(api, hello_spec(port, "new", **new), name)
    return first["id"], second["id"]


@dataclass
class Crash:
    """A server killed while its deployment of ``v1`` moves to ``v2``, whose new instance runs
    but is not ready yet."""

    workload_id: str
    deployment_id: str
    v2: str
    old_pid: int
    new_pid: int

    @classmethod
    def mid_change(cls, data_dir: Path, startup_delay: str) -> Crash:
        server = LocalServer(data_dir).start()
        with server.client() as api:
            new = {"env": {"GREETING": "new", "STARTUP_DELAY": startup_delay}}
            v1, v2 = versions(api, {}, new)
            workload_id, deployment_id = deploy(api, v1)
            (old_pid,) = processes_marked(data_dir)
            move(api, deployment_id, v2)
            (new_pid,) = set(wait_marked(server, 2)) - {old_pid}
            # Killed once the server has stored the new instance (until then a crash leaves an
            # unknown process, which the next server removes, and the change starts another).
            wait_until(lambda: stored_new_pid(data_dir) == new_pid)
        server.kill()
        return cls(workload_id, deployment_id, v2, old_pid, new_pid)


def stored_new_pid(data_dir: Path) -> int | None:
    """The pid the server stored for its rolling change's new instance (``None``: none yet),
    read from its database as the next server will."""
    with contextlib.closing(sqlite3.connect(data_dir / "workloadlab.sqlite3", timeout=5)) as db:
        found = db.execute(
            "SELECT runtime_state FROM rollouts WHERE runtime_state IS NOT NULL"
        ).fetchone()
    return json.loads(found[0]).get("pid") if found else None


def test_a_crash_before_the_switch_resumes_the_change_with_the_same_new_instance(
    data_dir: Path,
) -> None:
    crash = Crash.mid_change(data_dir, startup_delay="2")
    old_pid, new_pid, deployment_id = crash.old_pid, crash.new_pid, crash.deployment_id
    assert sorted(processes_marked(data_dir)) == sorted([old_pid, new_pid]), "both run on"
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            done = finished_rollout(api, deployment_id)
            assert done["status"] == "completed"
            assert wait_marked(server, 1) == [new_pid], "the new instance was adopted"
            assert greeting(api, deployment_id) == "new"
            workload = api.get(f"/console/workloads/{crash.workload_id}/").json()
            assert (workload["artifactId"], workload["status"]) == (crash.v2, "running")
            trail = event_types(api, f"/console/deployments/{deployment_id}/events")
            assert trail.count("workload.rolledOut") == 1
            assert "workload.rolloutAbandoned" not in trail
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_a_crash_before_the_switch_whose_new_instance_died_starts_another(
    data_dir: Path,
) -> None:
    crash = Crash.mid_change(data_dir, startup_delay="1")
    old_pid, new_pid, deployment_id = crash.old_pid, crash.new_pid, crash.deployment_id
    os.killpg(new_pid, signal.SIGKILL)  # it dies while no server runs
    wait_until(lambda: new_pid not in processes_marked(data_dir))
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            assert finished_rollout(api, deployment_id)["status"] == "completed"
            (serving,) = wait_marked(server, 1)
            assert serving not in (old_pid, new_pid)
            assert greeting(api, deployment_id) == "new"
    finally:
        server.stop()


def test_a_crash_after_the_switch_leaves_the_old_instance_to_the_sweep(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()  # grace period: 3 s
    with server.client() as api:
        v1, v2 = versions(api, {"entrypoint": IGNORES_SIGTERM}, {})
        workload_id, deployment_id = deploy(api, v1)
        (old_pid,) = processes_marked(data_dir)
        move(api, deployment_id, v2)
        assert finished_rollout(api, deployment_id)["status"] == "completed"
        (new_pid,) = set(processes_marked(data_dir)) - {old_pid}

    server.kill()  # within the old instance's grace period: it still runs
    assert sorted(processes_marked(data_dir)) == sorted([old_pid, new_pid])
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            assert wait_marked(server, 1) == [new_pid]
            assert f"killed orphan process {old_pid} of workload {workload_id}" in server.log()
            assert greeting(api, deployment_id) == "new"
            deployment = api.get(f"/console/deployments/{deployment_id}/").json()
            assert (deployment["artifactId"], deployment["status"]) == (v2, "running")
    finally:
        server.stop()


def test_a_graceful_restart_during_the_change_starts_its_new_instance_again(
    data_dir: Path,
) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        v1, v2 = versions(api, {}, {"env": {"GREETING": "new", "STARTUP_DELAY": "1"}})
        _, deployment_id = deploy(api, v1)
        move(api, deployment_id, v2)
        wait_marked(server, 2)
    assert server.stop() == 0  # SIGTERM: every instance stops, the change stays in progress
    assert processes_marked(data_dir) == []

    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            assert finished_rollout(api, deployment_id)["status"] == "completed"
            assert greeting(api, deployment_id) == "new"
            wait_marked(server, 1)
    finally:
        server.stop()
