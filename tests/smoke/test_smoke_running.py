"""Running smoke checks against the real local server: through a workload's invoke proxy
(``run_checks``, the one entry point of every front-end and of live sync), through a
deployment's (``run_against``), unsent to a workload that is not running, and as the item of
the lock checklist (``workloadlab.smoke.lock_readiness``), which a broken file fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workloadlab import smoke
from workloadlab.client import AsyncClient, CheckName
from workloadlab.models.neutral import Workload

from harness import free_port, hello_spec


async def running(wl: AsyncClient, name: str) -> Workload:
    created = await wl.workloads.create(name=name, artifact=hello_spec(free_port(), "hi there"))
    return await wl.workloads.wait_for_status(created.id, "running", timeout=30)


def write(path: Path, workload: str, **checks: dict[str, Any]) -> None:
    stored = smoke.SmokeFile()
    for name, check in checks.items():
        stored = stored.with_check(workload, name, smoke.SmokeCheck.model_validate(check))
    smoke.save(path, stored)


def spoil(path: Path) -> None:
    """Make the smoke file unreadable YAML."""
    path.write_text("workloads: [")


GREETING = {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"greeting": "hi there"}}}
ECHO = {
    "request": {"method": "POST", "path": "/echo", "body": {"q": [1, 2]}},
    "expect": {"status": 200, "body": {"q": [1, 2]}, "budgetMs": 10_000},
}


async def test_checks_run_through_the_invoke_proxy(wl: AsyncClient, smoke_path: Path) -> None:
    workload = await running(wl, "smoke-run")
    assert await smoke.run_checks(wl, workload, path=smoke_path) == [], "no file: no checks"
    wrong = {"request": {"path": "/healthz"}, "expect": {"status": 200, "body": "fine"}}
    write(smoke_path, "smoke-run", greeting=GREETING, echo=ECHO, health=wrong)
    results = await smoke.run_checks(wl, workload.id, path=smoke_path)
    assert [(r.name, r.ok) for r in results] == [
        ("echo", True),
        ("greeting", True),
        ("health", False),
    ]
    assert results[0].answer == {"q": [1, 2]}, "the POST body went through"
    assert results[0].elapsed_ms is not None
    assert results[2].summary == 'health (GET /healthz): (body): expected "fine", got "ok"'

    await wl.workloads.stop(workload.id)
    await wl.workloads.wait_for_status(workload.id, "stopped", timeout=30)
    stopped = await smoke.run_checks(wl, workload.id, path=smoke_path)
    assert stopped[0].summary == "echo (POST /echo): not sent: the workload is stopped"
    assert not any(r.ok for r in stopped)
    await wl.workloads.delete(workload.id)


async def test_the_same_checks_run_against_a_deployment(wl: AsyncClient, smoke_path: Path) -> None:
    workload = await running(wl, "smoke-deployed")
    write(smoke_path, "smoke-deployed", greeting=GREETING, echo=ECHO)
    await wl.artifacts.register(workload.artifact_id or "")
    deployment = await wl.deployments.create(workload_id=workload.id, name="smoke-deployed-prod")
    compared = await smoke.draft_vs_deployed(wl, workload, deployment, path=smoke_path)
    assert [(c.name, c.verdict) for c in compared] == [("echo", "same"), ("greeting", "same")]
    deployed = await smoke.run_against(wl, "smoke-deployed", deployment, path=smoke_path)
    assert [r.answer["greeting"] for r in deployed if r.name == "greeting"] == ["hi there"]
    await wl.deployments.delete(deployment.id)
    await wl.workloads.delete(workload.id)


async def test_the_lock_checklist_runs_the_recorded_checks(
    wl: AsyncClient, smoke_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = await running(wl, "smoke-gate")
    plain = await smoke.lock_readiness(wl, workload.id, path=smoke_path)
    assert plain.ok
    assert plain.get(CheckName.RECORDED_SMOKE) is None, "no checks: no item"

    broken = {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"greeting": "hello"}}}
    write(smoke_path, "smoke-gate", greeting=broken)
    readiness = await smoke.lock_readiness(wl, workload.id, path=smoke_path)
    assert not readiness.ok
    assert [c.name for c in readiness.failed] == [CheckName.RECORDED_SMOKE]
    assert readiness.failed[0].detail == (
        'greeting (GET /): /greeting: expected "hello", got "hi there"'
    )

    spoil(smoke_path)
    monkeypatch.setenv(smoke.storage.ENV_VAR, str(smoke_path))  # the default path, this time
    unreadable = await smoke.lock_readiness(wl, workload.id)
    assert not unreadable.ok
    assert unreadable.failed[0].detail.startswith(f"smoke file {smoke_path} is not valid YAML")
    await wl.workloads.delete(workload.id)
