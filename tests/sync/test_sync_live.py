"""Live sync against the real local server (process runtime): a save restarts the workload on
the new code, a burst of saves is one restart, a syntax error keeps the last good instance."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from workloadlab.client import AsyncClient
from workloadlab.models.neutral import Workload
from workloadlab.sync import AFTER_SYNC, LiveSync, Outcome, SyncRefused, Syncs

from harness import LocalServer, free_port
from synctools import app_spec, ended, sync_threads, synced, until_recorded, write_app

TIMEOUT = 60.0


async def _workload(client: AsyncClient, app: Path, name: str) -> str:
    return await _workload_of(client, app_spec(app, free_port()), name)


async def _workload_of(client: AsyncClient, artifact: dict[str, Any], name: str) -> str:
    workload = await client.workloads.create(name=name, artifact=artifact)
    await client.workloads.wait_for_status(workload.id, "running", timeout=TIMEOUT)
    return workload.id


async def _synced_app(
    client: AsyncClient, syncs: Syncs, directory: Path, answer: str
) -> tuple[Path, str, LiveSync]:
    """The app answering ``answer``, its running workload and the workload's live sync."""
    app = write_app(directory, answer)
    workload_id = await _workload(client, app, f"sync-{directory.parent.name[-20:]}")
    return app, workload_id, await syncs.begin(client, workload_id)


async def _answer(client: AsyncClient, workload_id: str) -> str:
    response = await client.workloads.invoke(workload_id, "/")
    assert response.status_code == 200, response.text
    answer: str = response.json()["answer"]
    return answer


async def _starts(client: AsyncClient, workload_id: str) -> int:
    """How often the workload was started, by its trail."""
    return sum(
        [e.event_type == "workload.started" async for e in client.workloads.events(workload_id)]
    )


async def test_a_save_restarts_the_workload_on_the_new_code(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app = write_app(tmp_path / "app", "first")
    workload_id = await _workload(client, app, "sync-save")
    assert await _answer(client, workload_id) == "first"
    sync = await syncs.begin(client, workload_id)
    assert sync.roots == (app.parent.resolve(),)
    write_app(app.parent, "second")
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload_id) == "second"
    assert sync.last is not None
    assert sync.last.outcome is Outcome.SYNCED
    assert app.resolve() in sync.last.files
    assert 0 < sync.last.seconds < TIMEOUT
    await syncs.end(workload_id)
    assert not sync.running
    assert not sync_threads()
    await client.workloads.delete(workload_id)


async def test_a_burst_of_ten_saves_is_one_restart(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app, workload_id, sync = await _synced_app(client, syncs, tmp_path / "app", "v0")
    starts = await _starts(client, workload_id)
    for n in range(1, 11):
        write_app(app.parent, f"v{n}")
    await until_recorded(sync, synced(1))
    assert await _answer(client, workload_id) == "v10"
    await asyncio.sleep(0.5)  # room for a second restart, were one to come
    assert sync.syncs == 1
    assert await _starts(client, workload_id) == starts + 1, "one start in the trail"
    await client.workloads.delete(workload_id)


async def test_a_syntax_error_keeps_the_last_good_instance_serving(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app, workload_id, sync = await _synced_app(client, syncs, tmp_path / "app", "good")
    starts = await _starts(client, workload_id)
    app.write_text(app.read_text().replace("class Handler(", "class Handler(("))
    await until_recorded(sync, ended(Outcome.SYNTAX_ERROR))
    assert sync.last is not None
    line = next(n for n, text in enumerate(app.read_text().splitlines(), 1) if "((" in text)
    assert sync.last.message.startswith(f"{app.resolve()}:{line}: ")
    assert "not restarted" in sync.last.message
    assert await _answer(client, workload_id) == "good"
    assert await _starts(client, workload_id) == starts
    write_app(app.parent, "fixed")  # the fix restarts onto it
    await until_recorded(sync, synced(1))
    assert sync.last.outcome is Outcome.SYNCED
    assert await _answer(client, workload_id) == "fixed"
    await client.workloads.delete(workload_id)


async def test_after_sync_hooks_run_and_their_results_are_recorded(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app, workload_id, sync = await _synced_app(client, syncs, tmp_path / "app", "a")
    seen: list[str] = []

    async def smoke(hook_client: AsyncClient, workload: Workload) -> str:
        seen.append(await _answer(hook_client, workload.id))
        return "✓ 1 check passed"

    AFTER_SYNC.append(smoke)
    try:
        write_app(app.parent, "b")
        await until_recorded(sync, synced(1))
    finally:
        AFTER_SYNC.remove(smoke)
    assert seen == ["b"], "the hook ran once the new code answered"
    assert sync.last is not None
    assert sync.last.checks == ("✓ 1 check passed",)
    await client.workloads.delete(workload_id)


async def test_a_second_sync_replaces_the_first_and_a_delete_ends_it(
    client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app = write_app(tmp_path / "app", "x")
    workload_id = await _workload(client, app, "sync-replace")
    first = await syncs.begin(client, workload_id)
    second = await syncs.begin(client, workload_id, tmp_path / "app")
    assert not first.running
    assert first.state.value == "stopped"
    assert syncs.get(workload_id) is second
    assert second.running
    await client.workloads.delete(workload_id)
    await until_recorded(second, lambda sync: sync.state.value == "stopped")
    assert second.stopped_because == "the workload was deleted"
    assert not second.running
    assert syncs.get(workload_id) is None
    assert not sync_threads()


async def test_a_closed_connection_ends_the_sync(
    server: LocalServer, client: AsyncClient, syncs: Syncs, tmp_path: Path
) -> None:
    app = write_app(tmp_path / "app", "x")
    workload_id = await _workload(client, app, "sync-closed")
    async with AsyncClient(server.endpoint, server.token) as other:
        sync = await syncs.begin(other, workload_id)
    await until_recorded(sync, lambda sync: sync.state.value == "stopped")
    assert sync.stopped_because == "its connection was closed"
    assert not sync.running
    await client.workloads.delete(workload_id)


async def test_an_entrypoint_without_a_script_needs_a_path(
    client: AsyncClient, tmp_path: Path
) -> None:
    spec = app_spec(tmp_path / "nothing.py", free_port())
    spec["spec"]["containerGroups"][0]["containers"][0]["entrypoint"] = ["python", "-c", "1"]
    workload = await client.workloads.create(name="sync-no-script", artifact=spec)
    with pytest.raises(SyncRefused, match="give the app's directory"):
        await Syncs().begin(client, workload.id)
    await client.workloads.delete(workload.id)


async def test_a_save_restarts_a_workload_of_the_current_generation(
    current: LocalServer, tmp_path: Path
) -> None:
    app = write_app(tmp_path / "app", "before")
    artifact = app_spec(app, free_port())
    artifact["spec"]["containerGroups"][0]["containers"][0]["readinessProbe"] |= {
        "initialDelaySeconds": 0
    }
    syncs = Syncs()
    async with AsyncClient(current.endpoint, current.token) as client:
        workload_id = await _workload_of(client, artifact, "sync-current")
        sync = await syncs.begin(client, workload_id)
        write_app(app.parent, "after")
        await until_recorded(sync, synced(1))
        assert await _answer(client, workload_id) == "after"
        await syncs.end_all()
        await client.workloads.delete(workload_id)
