"""Live sync runs the recorded smoke checks after each sync (its ``AFTER_SYNC`` hook, which the
command layer plugs in), against the real local server: a save that changes the answer fails
the check, a save that restores it passes; a workload without checks records no line."""

from __future__ import annotations

from pathlib import Path

import pytest

import workloadlab.commands  # noqa: F401 - loading the command layer plugs the checks in
from workloadlab import smoke
from workloadlab.client import AsyncClient
from workloadlab.sync import AFTER_SYNC, Syncs

from harness import free_port
from synctools import app_spec, sync_threads, synced, until_recorded, write_app


async def test_each_sync_runs_the_workload_s_smoke_checks(
    wl: AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [hook.__name__ for hook in AFTER_SYNC].count("smoke_checks") == 1
    monkeypatch.chdir(tmp_path)  # the smoke file beside the "notebook"
    monkeypatch.delenv(smoke.storage.ENV_VAR, raising=False)
    app = write_app(tmp_path / "app", "first")
    created = await wl.workloads.create(name="synced-smoke", artifact=app_spec(app, free_port()))
    await wl.workloads.wait_for_status(created.id, "running", timeout=60)
    syncs = Syncs()
    try:
        sync = await syncs.begin(wl, created.id)
        write_app(tmp_path / "app", "unchecked")
        await until_recorded(sync, synced(1))
        assert sync.last is not None
        assert sync.last.checks == (), "no checks recorded: no line"

        check = smoke.SmokeCheck.model_validate(
            {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"answer": "first"}}}
        )
        recorded = smoke.SmokeFile().with_check("synced-smoke", "answer", check)
        smoke.save(tmp_path / smoke.storage.FILE_NAME, recorded)
        write_app(tmp_path / "app", "second")
        await until_recorded(sync, synced(2))
        assert sync.last.checks == (
            '✗ 1 of 1 smoke checks failed: answer (GET /): /answer: expected "first", got "second"',
        )
        write_app(tmp_path / "app", "first")
        await until_recorded(sync, synced(3))
        assert sync.last.checks == ("✓ 1 smoke check passed",)
    finally:
        await syncs.end_all()
        await wl.workloads.delete(created.id)
    assert not sync_threads()
