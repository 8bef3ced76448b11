"""Replicas and resource allocations with the container runtime, against a real engine."""

from __future__ import annotations

import collections
from pathlib import Path

from logsink import Sink
from test_server_replicas import replicas_of
from workloadlab.models import ArtifactSpec
from workloadlab.server.runtimes.container.engine import Engine
from workloadlab.server.runtimes.container.runtime import ContainerRuntime
from workloadlab.server.settings import ServerSettings
from workloadlab.server.supervisor.sizing import sized

from containertools import busybox_spec, running_containers_of
from harness import LocalServer, free_port, wait_status, wait_until

CONTAINER_ARGS = ["--runtime", "container"]
WORKLOAD = "0123456789abcdef01234567"


def test_three_replicas_are_three_containers_behind_the_proxy(
    data_dir: Path, engine: Engine
) -> None:
    server = LocalServer(data_dir, list(CONTAINER_ARGS)).start()
    try:
        with server.client() as api:
            body = {
                "name": "trio",
                # Probed every minute once ready: the requests it logs meanwhile are ours.
                "artifact": busybox_spec(
                    free_port(), readinessProbe={"path": "/readyz", "periodSeconds": 60}
                ),
                "runtime": {"replicaCount": 3},
            }
            answer = api.post("/console/workloads/", json=body)
            assert answer.status_code == 201, answer.text
            workload_id = answer.json()["id"]
            workload = wait_status(api, workload_id, "running", timeout=60)
            replicas = workload["statusDetails"]["replicas"]
            assert [r["ready"] for r in replicas] == [True, True, True]
            containers = running_containers_of(engine, data_dir, workload_id)
            assert len(containers) == 3
            # Each container logs a stderr line per request it answers (busybox httpd -v).
            served: collections.Counter[str] = collections.Counter()
            before = {c: _requests(engine, c) for c in containers}
            for _ in range(30):
                answer = api.get(f"/endpoints/workloads/{workload_id}/")
                assert answer.status_code == 200, answer.text
            for container in containers:
                served[container] = _requests(engine, container) - before[container]
            assert all(served[c] >= 8 for c in containers), f"round-robin: {served}"
            assert api.post(f"/console/workloads/{workload_id}/stop").status_code < 300
            wait_status(api, workload_id, "stopped", timeout=60)
            assert running_containers_of(engine, data_dir) == []  # (sandboxes wait for reuse)
    finally:
        server.stop()
    wait_until(lambda: running_containers_of(engine, data_dir, sandboxes=True) == [])


def test_a_restarted_server_adopts_every_replica_container_and_delete_removes_them(
    data_dir: Path, engine: Engine
) -> None:
    server = LocalServer(data_dir, list(CONTAINER_ARGS)).start()
    with server.client() as api:
        artifact = busybox_spec(free_port())
        body = {"name": "trio", "artifact": artifact, "runtime": {"replicaCount": 3}}
        workload_id = api.post("/console/workloads/", json=body).json()["id"]
        wait_status(api, workload_id, "running", timeout=60)
        before = running_containers_of(engine, data_dir, workload_id)
        assert len(before) == 3
    server.kill()
    assert running_containers_of(engine, data_dir, workload_id) == before, "they run on"
    server = LocalServer(data_dir, list(CONTAINER_ARGS)).start()
    try:
        with server.client() as api:
            workload = wait_status(api, workload_id, "running", timeout=60)
            assert running_containers_of(engine, data_dir, workload_id) == before, "adopted"
            wait_until(lambda: all(r["ready"] for r in replicas_of(api, workload_id)), timeout=30)
            for _ in range(6):
                assert api.get(f"/endpoints/workloads/{workload_id}/").status_code == 200
            assert workload["restartCount"] == 0
            assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
            wait_until(lambda: running_containers_of(engine, data_dir, sandboxes=True) == [])
    finally:
        server.stop()


def _requests(engine: Engine, container_id: str) -> int:
    """How many requests a test-image container logged (its probes' too)."""
    lines = engine.logs(container_id, "stderr", None).decode(errors="replace").splitlines()
    return sum(1 for line in lines if "response:" in line)


async def test_the_runtime_allocation_becomes_the_container_s_limits(
    tmp_path: Path, engine_host: str, engine: Engine
) -> None:
    spec = ArtifactSpec.model_validate(busybox_spec(8080)["spec"])
    runtime_field = {
        "containerGroups": [
            {
                "name": "default",
                "replicaCount": 1,
                "containers": [
                    {"name": "primary", "resourceAllocation": {"cpu": 0.25, "memory": "48Mi"}}
                ],
            }
        ]
    }
    runtime = ContainerRuntime(ServerSettings(data_dir=tmp_path / "data"), host=engine_host)
    try:
        instance = await runtime.start(WORKLOAD, sized(spec, runtime_field), Sink())
        (member,) = instance.state["containers"]
        host = (engine.inspect(member["id"]) or {})["HostConfig"]
        assert host["NanoCpus"] == 250_000_000
        assert host["Memory"] == 48 * 1024 * 1024
        await instance.stop(5)
    finally:
        await runtime.sweep([])
        await runtime.close()
