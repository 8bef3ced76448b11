"""``replicaCount`` > 1: that many instances behind the invoke proxy, round-robin among the
ready ones; each restarts on its own; stop, delete and the server's restart handle them all."""

from __future__ import annotations

import collections
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from harness import LocalServer, free_port, hello_spec, processes_marked, wait_status, wait_until


def create_replicated(api: httpx.Client, name: str, count: int, **container: Any) -> str:
    """A workload of the example app running ``count`` replicas; its id."""
    body = {
        "name": name,
        "artifact": hello_spec(free_port(), **container),
        "runtime": {"replicaCount": count},
    }
    answer = api.post("/console/workloads/", json=body)
    assert answer.status_code == 201, answer.text
    workload_id: str = answer.json()["id"]
    return workload_id


def who_answers(api: httpx.Client, workload_id: str, calls: int) -> collections.Counter[int]:
    """Invoke ``calls`` times (each ``200`` asserted); how many answers came from each pid."""
    pids: collections.Counter[int] = collections.Counter()
    for _ in range(calls):
        answer = api.get(f"/endpoints/workloads/{workload_id}/instance")
        assert answer.status_code == 200, answer.text
        pids[answer.json()["pid"]] += 1
    return pids


def replicas_of(api: httpx.Client, workload_id: str) -> list[dict[str, Any]]:
    """``statusDetails.replicas`` of the workload."""
    workload = api.get(f"/console/workloads/{workload_id}/").json()
    replicas: list[dict[str, Any]] = workload["statusDetails"]["replicas"]
    return replicas


def test_three_replicas_share_300_invoke_calls(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            workload_id = create_replicated(api, "trio", 3)
            workload = wait_status(api, workload_id, "running")
            replicas = workload["statusDetails"]["replicas"]
            assert [r["ordinal"] for r in replicas] == [0, 1, 2]
            assert all(r["ready"] for r in replicas), replicas
            ports = {r["port"] for r in replicas}
            assert len(ports) == 3, "each replica has its own host port"
            assert len(processes_marked(data_dir)) == 3

            pids = who_answers(api, workload_id, 300)
            assert sorted(pids) == sorted(processes_marked(data_dir))
            assert min(pids.values()) >= 90, f"round-robin: {pids}"
            # The app says which $PORT it serves: the replicas' own ports.
            served = {
                int(api.get(f"/endpoints/workloads/{workload_id}/instance").json()["port"])
                for _ in range(6)
            }
            assert served == ports
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_one_replica_is_restarted_on_its_own_while_the_others_serve(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            workload_id = create_replicated(api, "phoenix", 3)
            wait_status(api, workload_id, "running")
            before = set(who_answers(api, workload_id, 6))
            assert len(before) == 3
            victim = max(before)
            os.killpg(victim, signal.SIGKILL)
            # Every call meanwhile is answered: a dead replica gets no traffic.
            answered: collections.Counter[int] = collections.Counter()

            def back() -> bool:
                answered.update(who_answers(api, workload_id, 3))
                now = set(processes_marked(data_dir))
                return len(now) == 3 and victim not in now

            wait_until(back, timeout=20)
            workload = wait_status(api, workload_id, "running")
            after = set(processes_marked(data_dir))
            assert before - {victim} <= after, "the others were not restarted"
            assert workload["restartCount"] == 1
            restarted = [r for r in workload["statusDetails"]["replicas"] if r["restartCount"]]
            assert len(restarted) == 1
            assert restarted[0]["ready"]
            assert set(who_answers(api, workload_id, 6)) == after
    finally:
        server.stop()
    assert processes_marked(data_dir) == []


def test_stop_start_and_delete_handle_every_replica(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            workload_id = create_replicated(api, "trio", 3)
            wait_status(api, workload_id, "running")
            assert len(processes_marked(data_dir)) == 3
            assert api.post(f"/console/workloads/{workload_id}/stop").status_code < 300
            wait_status(api, workload_id, "stopped")
            assert processes_marked(data_dir) == []
            answer = api.get(f"/endpoints/workloads/{workload_id}/")
            assert answer.status_code == 503
            assert api.post(f"/console/workloads/{workload_id}/start").status_code < 300
            wait_status(api, workload_id, "running")
            assert len(set(who_answers(api, workload_id, 6))) == 3
            assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
            wait_until(lambda: processes_marked(data_dir) == [])
    finally:
        server.stop()


def test_one_replica_keeps_today_s_shape(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            workload_id = create_replicated(api, "solo", 1)
            workload = wait_status(api, workload_id, "running")
            assert "replicas" not in workload["statusDetails"]
            assert len(processes_marked(data_dir)) == 1
    finally:
        server.stop()


def test_a_restarted_server_adopts_every_replica(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    with server.client() as api:
        workload_id = create_replicated(api, "survivor", 3)
        wait_status(api, workload_id, "running")
        pids = set(who_answers(api, workload_id, 6))
    assert len(pids) == 3
    server.kill()
    assert set(processes_marked(data_dir)) == pids, "they run on without their server"
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            wait_status(api, workload_id, "running")
            assert set(processes_marked(data_dir)) == pids, "adopted, not restarted"
            assert set(who_answers(api, workload_id, 9)) == pids
            assert all(r["ready"] for r in replicas_of(api, workload_id))
    finally:
        server.stop()
    assert processes_marked(data_dir) == [], "a graceful stop leaves none behind"


def ready_only_on(port: int, *, there: bool) -> list[str]:
    """The example app, ready at once only on ``port`` (``there``) or only elsewhere: the
    first replica alone gets the spec's port, the others a free one each."""
    delays = ("'0'", "'600'") if there else ("'600'", "'0'")
    return [
        sys.executable,
        "-c",
        f"import os, runpy, sys; os.environ['STARTUP_DELAY'] = {delays[0]}"
        f" if os.environ['PORT'] == '{port}' else {delays[1]}; sys.argv = ['hello'];"
        " runpy.run_module('workloadlab.examples.hello', run_name='__main__')",
    ]


def create_partly_ready(api: httpx.Client, name: str, *, first_ready: bool) -> tuple[str, int]:
    """A workload of 3 replicas of which only the first is ready, or only the others; its id
    and its spec's port."""
    port = free_port()
    artifact = hello_spec(port, entrypoint=ready_only_on(port, there=first_ready))
    primary = artifact["spec"]["containerGroups"][0]["containers"][0]
    primary["readinessProbe"] = {"path": "/readyz", "periodSeconds": 1}
    body = {"name": name, "artifact": artifact, "runtime": {"replicaCount": 3}}
    answer = api.post("/console/workloads/", json=body)
    assert answer.status_code == 201, answer.text
    workload_id: str = answer.json()["id"]
    return workload_id, port


def test_replicas_that_are_not_ready_get_no_call(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            first, port = create_partly_ready(api, "first-only", first_ready=True)
            others, _ = create_partly_ready(api, "others-only", first_ready=False)

            def ready_flags(workload_id: str) -> list[bool]:
                details = api.get(f"/console/workloads/{workload_id}/").json()["statusDetails"]
                return [r["ready"] for r in details.get("replicas", [])]

            wait_until(lambda: ready_flags(first) == [True, False, False])
            wait_until(lambda: ready_flags(others) == [False, True, True])
            # Partly ready: initializing, and it says how many are ready...
            workload = api.get(f"/console/workloads/{first}/").json()
            assert workload["status"] == "initializing"
            assert workload["statusDetails"]["message"] == "1 of 3 replicas ready"
            # ...while the ready ones take every call, and only they do.
            served = who_answers(api, first, 12)
            assert len(served) == 1
            answer = api.get(f"/endpoints/workloads/{first}/instance")
            assert answer.json()["port"] == str(port)
            assert len(who_answers(api, others, 12)) == 2
            assert api.get(f"/console/workloads/{others}/").json()["status"] == "initializing"
    finally:
        server.stop()


def test_invoke_answers_503_when_no_replica_is_ready(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            body = {
                "name": "none-ready",
                "artifact": hello_spec(
                    free_port(),
                    env={"STARTUP_DELAY": "600"},
                    readinessProbe={"path": "/readyz", "periodSeconds": 1},
                ),
                "runtime": {"replicaCount": 3},
            }
            workload_id = api.post("/console/workloads/", json=body).json()["id"]
            wait_until(lambda: len(processes_marked(data_dir)) == 3)
            answer = api.get(f"/endpoints/workloads/{workload_id}/")
            assert answer.status_code == 503
            assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "initializing"
    finally:
        server.stop()


def test_a_replica_that_keeps_crashing_makes_the_workload_errored(data_dir: Path) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            port = free_port()
            # Only the first replica (on the spec's port) serves; the others exit at once.
            entrypoint = [
                sys.executable,
                "-c",
                f"import os, runpy, sys; os.environ['PORT'] != '{port}' and sys.exit(3);"
                " sys.argv = ['hello'];"
                " runpy.run_module('workloadlab.examples.hello', run_name='__main__')",
            ]
            body = {
                "name": "crashy",
                "artifact": hello_spec(port, entrypoint=entrypoint),
                "runtime": {"replicaCount": 2},
            }
            workload_id = api.post("/console/workloads/", json=body).json()["id"]
            errored = wait_status(api, workload_id, "errored", timeout=30)
            message = errored["statusDetails"]["message"]
            assert message.startswith("replica 1: the process exited with status 3;"), message
            assert message.endswith("gave up after 3 restarts")
            assert errored["restartCount"] == 3
            wait_until(lambda: processes_marked(data_dir) == [])
            assert api.get(f"/endpoints/workloads/{workload_id}/").status_code == 503
    finally:
        server.stop()
