"""The supervisor's read-only picture of a workload's replicas and of its rolling change's new
instances (what the current generation's protons are rendered from), on a real app in-process:
the app's lifespan, the real process runtime, the real example app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from workloadlab.server.app import create_app
from workloadlab.server.settings import ServerSettings, Timings
from workloadlab.server.supervisor import Supervisor

from harness import free_port, hello_spec

TOKEN = "wl-test-token-views-0123456789"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Supervisor]]:
    settings = ServerSettings(data_dir=tmp_path / "data", timings=Timings(grace_period=3.0))
    app = create_app(settings, TOKEN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://local/api/v2", headers=headers
        ) as api:
            yield api, app.state.context.supervisor


async def until(predicate: Any, within: float = 20.0) -> Any:
    """``predicate()`` once truthy (polled), or fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.02)


async def test_replica_views_name_each_instance_and_its_state(
    served: tuple[httpx.AsyncClient, Supervisor],
) -> None:
    api, supervisor = served
    port = free_port()
    body = {"name": "duo", "artifact": hello_spec(port), "runtime": {"replicaCount": 2}}
    workload_id = (await api.post("/console/workloads/", json=body)).json()["id"]
    views = await until(
        lambda: (v := supervisor.replicas(workload_id)) and all(r.ready for r in v) and v
    )
    assert [(v.ordinal, v.name) for v in views] == [
        (0, f"{workload_id}-0"),
        (1, f"{workload_id}-1"),
    ]
    assert views[0].port == port, "the first keeps the spec's port"
    assert views[1].port not in (None, port)
    assert all(v.address == f"http://127.0.0.1:{v.port}" for v in views)
    assert all(v.started_at and v.restart_count == 0 for v in views)
    workload = (await api.get(f"/console/workloads/{workload_id}/")).json()
    assert workload["statusDetails"]["replicas"] == [v.to_wire() for v in views]
    assert supervisor.candidate_replicas(workload_id) == []

    # A rolling change: its two new instances are shown, not ready until they are.
    name, port = "views-collection", free_port()
    versions = []
    for greeting, env in (("old", {}), ("new", {"STARTUP_DELAY": "2"})):
        spec = hello_spec(port, greeting, env=env) | {"name": name, "status": "registered"}
        versions.append((await api.post("/registry/artifacts/", json=spec)).json()["id"])
    other = {"name": "prod", "artifactId": versions[0], "runtime": {"replicaCount": 2}}
    prod = (await api.post("/console/workloads/", json=other)).json()["id"]
    await until(lambda: all(r.ready for r in supervisor.replicas(prod)))
    deployment = (
        await api.post("/console/deployments/", json={"workloadId": prod, "name": "prod"})
    ).json()["id"]
    moved = await api.patch(f"/console/deployments/{deployment}", json={"artifactId": versions[1]})
    assert moved.status_code == 200, moved.text
    await until(lambda: len(supervisor.candidate_replicas(prod)) == 2)
    early = supervisor.candidate_replicas(prod)
    assert [v.ordinal for v in early] == [0, 1]
    assert not any(v.ready for v in early), "not ready for two seconds (STARTUP_DELAY)"
    new_addresses = {v.address for v in early}
    await until(lambda: supervisor.candidate_replicas(prod) == [])
    after = supervisor.replicas(prod)
    assert {v.address for v in after} == new_addresses, "the new ones took over"


async def test_a_new_replica_count_with_a_kick_scales_without_a_restart(
    served: tuple[httpx.AsyncClient, Supervisor],
) -> None:
    api, supervisor = served
    body = {"name": "scaled", "artifact": hello_spec(free_port())}
    workload_id = (await api.post("/console/workloads/", json=body)).json()["id"]
    await until(lambda: [v.ready for v in supervisor.replicas(workload_id)] == [True])
    (first,) = supervisor.replicas(workload_id)
    # What an operation that changes the runtime does: store it, kick the workload's task.
    store = supervisor.store
    store.update_workload(workload_id, runtime={"replicaCount": 3})
    supervisor.kick(workload_id)
    await until(lambda: [v.ready for v in supervisor.replicas(workload_id)] == [True] * 3)
    assert supervisor.replicas(workload_id)[0] == first, "the first one was not restarted"
    store.update_workload(workload_id, runtime={"replicaCount": 2})
    supervisor.kick(workload_id)
    await until(lambda: len(supervisor.replicas(workload_id)) == 2)
    assert supervisor.replicas(workload_id)[0] == first
    workload = (await api.get(f"/console/workloads/{workload_id}/")).json()
    assert workload["status"] == "running"
    assert workload["restartCount"] == 0
