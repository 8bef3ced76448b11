"""Live sync on the container runtime: the app's directory bind-mounted into the container
(``localMounts``), each save restarts the container on the files of this machine; without a
mount, sync refuses, saying what to add."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from workloadlab.client import AsyncClient
from workloadlab.server.runtimes.container.engine import Engine
from workloadlab.sync import SyncRefused, Syncs

from containertools import busybox_spec, running_containers_of
from harness import LocalServer, free_port
from synctools import sync_threads, synced, until_recorded

SERVE_A_COPY = [
    "/bin/sh",
    "-c",
    "mkdir -p /www && cp /app/index.html /www/ && echo ready >/www/readyz"
    ' && exec httpd -f -p "$PORT" -h /www',
]
"""Serve a copy of the mounted page, taken when the container starts: a new answer needs both
the mount (the file of this machine) and a restart (a new copy)."""


@pytest.fixture
async def client(server: LocalServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.endpoint, server.token) as client:
        yield client


async def _page(client: AsyncClient, workload_id: str) -> str:
    response = await client.workloads.invoke(workload_id, "/index.html")
    assert response.status_code == 200, response.text
    return response.text.strip()


async def test_a_save_restarts_the_container_on_the_mounted_files(
    client: AsyncClient, engine: Engine, server: LocalServer, tmp_path: Path
) -> None:
    app = tmp_path / "site"
    app.mkdir()
    (app / "index.html").write_text("first\n")
    mounts = [{"source": str(app), "target": "/app"}]
    artifact = busybox_spec(free_port(), entrypoint=SERVE_A_COPY, localMounts=mounts)
    workload = await client.workloads.create(name="container-sync", artifact=artifact)
    await client.workloads.wait_for_status(workload.id, "running", timeout=60)
    assert await _page(client, workload.id) == "first"
    identity = await client.local_server()
    assert identity is not None
    assert identity.runtime == "container"
    (before,) = running_containers_of(engine, server.data_dir, workload.id)

    syncs = Syncs()
    sync = await syncs.begin(client, workload.id)
    try:
        assert sync.roots == (app,), "the mount's source is watched"
        (app / "index.html").write_text("second\n")
        await until_recorded(sync, synced(1))
        assert await _page(client, workload.id) == "second"
        (after,) = running_containers_of(engine, server.data_dir, workload.id)
        assert after != before, "a new container"
        mounted = (engine.inspect(after) or {})["Mounts"]
        assert [(m["Source"], m["Destination"], m["RW"]) for m in mounted] == [
            (str(app), "/app", False)
        ], "read-only"
    finally:
        await syncs.end_all()
    assert not sync_threads()

    plain = await client.workloads.create(
        name="container-sync-unmounted", artifact=busybox_spec(free_port())
    )
    with pytest.raises(SyncRefused, match="mount the app's directory"):
        await Syncs().begin(client, plain.id)
    for workload_id in (workload.id, plain.id):
        await client.workloads.delete(workload_id)
