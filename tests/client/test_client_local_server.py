"""Every client method against the real local server over loopback, and the seed's workflow."""

from __future__ import annotations

import asyncio
import itertools
import sys

import httpx
import pytest

from workloadlab import errors
from workloadlab.client import AsyncClient, Polling
from workloadlab.models import ArtifactStatus, Importance, WorkloadStatus
from workloadlab.models.neutral import InputArtifact, Workload

from harness import LocalServer, free_port, hello_spec


async def test_seed_workflow(wl: AsyncClient) -> None:
    """The seed's iterate-then-deploy workflow, written with the client."""
    workload = await wl.workloads.create(name="seed", artifact=hello_spec(free_port(), "hi"))
    await wl.workloads.wait_for_status(workload.id, "running", timeout=30)
    await wl.artifacts.update(workload.artifact_id, name="hello-v2")
    artifact = await wl.artifacts.get(workload.artifact_id)
    artifact.spec.primary.environment_vars[0].value = "hello after PUT"
    await wl.artifacts.replace(artifact.id, artifact)
    await wl.workloads.restart(workload.id, timeout=30)
    assert (await wl.workloads.invoke(workload.id)).json()["greeting"] == "hello after PUT"
    await wl.artifacts.register(artifact.id)
    with pytest.raises(errors.PermissionDeniedError, match="artifact is registered"):
        await wl.artifacts.replace(artifact.id, hello_spec(free_port(), "sneaky"))
    assert (await wl.artifacts.get(artifact.id)).spec == artifact.spec
    deployment = await wl.deployments.create(workload_id=workload.id, name="hello-prod")
    assert (await wl.deployments.invoke(deployment.id)).json()["greeting"] == "hello after PUT"

    trail = [event.event_type async for event in wl.workloads.events(workload.id)]
    for expected in ("workload.created", "artifact.updated", "artifact.registered"):
        assert expected in trail
    assert trail[0] == "deployment.created"  # newest first
    assert [e.event_type async for e in wl.deployments.events(deployment.id)] == [
        "deployment.created"
    ]


async def test_workload_methods(wl: AsyncClient) -> None:
    port = free_port()
    workload = await wl.workloads.create(name="every-method", artifact=hello_spec(port, "one"))
    assert workload.status is WorkloadStatus.SUBMITTED
    assert workload.artifact is not None
    assert workload.artifact.status is ArtifactStatus.DRAFT

    running = await wl.workloads.wait_for_status(workload.id, "running", timeout=30)
    assert running.running_since is not None
    assert (await wl.workloads.get(workload.id)).status is WorkloadStatus.RUNNING

    # list: awaitable first page, async-iterable over all pages, filters.
    page = await wl.workloads.list(search="EVERY-method")
    assert [w.id for w in page.data] == [workload.id]
    assert workload.id in [w.id async for w in wl.workloads.list(limit=1)]
    assert workload.id not in [w.id async for w in wl.workloads.list(status="stopped")]

    # invoke: any method, path and body, the app's answer as it is.
    answer = await wl.workloads.invoke(workload.id, "/some/path", params={"q": "1"})
    assert answer.json()["path"] == "/some/path?q=1"
    echoed = await wl.workloads.invoke(workload.id, "echo", method="POST", json={"x": 1})
    assert echoed.json() == {"x": 1}
    missing = await wl.workloads.invoke(workload.id, "/echo", method="PUT")
    assert missing.status_code == 405  # the app's own error, not raised

    # stop / start, and watch the transition.
    operation = await wl.workloads.stop(workload.id)
    assert operation.workload_id == workload.id
    stopped = await wl.workloads.wait_for_status(workload.id, "stopped", timeout=30)
    assert stopped.status is WorkloadStatus.STOPPED
    await wl.workloads.start(workload.id)
    updates: list[Workload] = []
    async for update in wl.workloads.watch(workload.id):
        updates.append(update)
        if update.status is WorkloadStatus.RUNNING:
            break
    assert updates[-1].status is WorkloadStatus.RUNNING
    # Each one differs from the one before (a status, or new log lines in the tail).
    assert all(a != b for a, b in itertools.pairwise(updates)), "watch yields changes only"

    restarted = await wl.workloads.restart(workload.id, wait=False)
    assert restarted.status.is_transition or restarted.status is WorkloadStatus.RUNNING
    await wl.workloads.wait_for_status(workload.id, "running", timeout=30)

    # logs and events.
    lines = [record.message async for record in wl.workloads.logs(workload.id, limit=50)]
    assert any("serving on" in line for line in lines)
    first = await wl.workloads.logs(workload.id, limit=1)
    assert len(first.data) == 1
    assert "workload.created" in [e.event_type async for e in wl.workloads.events(workload.id)]

    await wl.workloads.delete(workload.id)
    with pytest.raises(errors.NotFoundError, match=r"GET .* failed with 404 Not Found"):
        await wl.workloads.get(workload.id)
    assert (await wl.artifacts.get(workload.artifact_id or "")).id == workload.artifact_id


async def test_artifact_methods(wl: AsyncClient) -> None:
    draft = await wl.artifacts.create(InputArtifact.model_validate(hello_spec(free_port())))
    assert draft.status is ArtifactStatus.DRAFT
    assert draft.version is None
    assert (await wl.artifacts.get(draft.id)).name == "hello-artifact"

    updated = await wl.artifacts.update(draft.id, name="renamed", description="new words")
    assert (updated.name, updated.description) == ("renamed", "new words")
    assert (await wl.artifacts.update(draft.id, {"description": "dict body"})).description == (
        "dict body"
    )

    replaced = await wl.artifacts.replace(draft.id, hello_spec(free_port(), "replaced"))
    assert replaced.spec.primary.env() == {"GREETING": "replaced"}
    assert replaced.name == "hello-artifact"

    assert draft.id in [a.id async for a in wl.artifacts.list(search="hello-artifact")]
    assert draft.id in [a.id async for a in wl.artifacts.list(status="draft")]
    assert draft.id not in [a.id async for a in wl.artifacts.list(status="registered")]

    with pytest.raises(errors.UnprocessableEntityError) as caught:
        await wl.artifacts.list(limit=500)  # the server's own validation names the field
    assert [error.field for error in caught.value.field_errors] == ["query.limit"]
    assert "query.limit:" in str(caught.value)

    await wl.artifacts.delete(draft.id)
    with pytest.raises(errors.NotFoundError):
        await wl.artifacts.get(draft.id)

    registered = await wl.artifacts.create({**hello_spec(free_port()), "status": "registered"})
    assert registered.is_registered
    assert registered.version is not None
    with pytest.raises(errors.ConflictError):
        await wl.artifacts.register(registered.id)
    with pytest.raises(errors.ConflictError):
        await wl.artifacts.delete(registered.id)


async def test_deployment_methods(wl: AsyncClient) -> None:
    spec = {**hello_spec(free_port(), "prod"), "status": "registered"}
    workload = await wl.workloads.create(name="to-deploy", artifact=spec)
    await wl.workloads.wait_for_status(workload.id, "running", timeout=30)

    deployment = await wl.deployments.create(
        workload_id=workload.id, name="prod", description="first", importance="high"
    )
    assert deployment.importance is Importance.HIGH
    assert deployment.workload_id == workload.id
    assert (await wl.deployments.get(deployment.id)).name == "prod"
    assert [d.id async for d in wl.deployments.list(workload_id=workload.id)] == [deployment.id]
    assert deployment.id in [d.id for d in (await wl.deployments.list(search="PROD")).data]

    updated = await wl.deployments.update(deployment.id, importance=Importance.CRITICAL)
    assert updated.importance is Importance.CRITICAL
    updated = await wl.deployments.update(deployment.id, {"name": "prod-2"})
    assert updated.name == "prod-2"

    answer = await wl.deployments.invoke(deployment.id, "/hello", params={"a": "b"})
    assert answer.json() == {"greeting": "prod", "workloadId": workload.id, "path": "/hello?a=b"}
    trail = [e.event_type async for e in wl.deployments.events(deployment.id)]
    assert trail[-1] == "deployment.created"

    await wl.deployments.delete(deployment.id)
    with pytest.raises(errors.NotFoundError):
        await wl.deployments.get(deployment.id)
    assert (await wl.workloads.get(workload.id)).status is WorkloadStatus.RUNNING

    # A draft's workload cannot be deployed.
    draft = await wl.workloads.create(name="draft", artifact=hello_spec(free_port()))
    with pytest.raises(errors.UnprocessableEntityError, match="draft"):
        await wl.deployments.create(workload_id=draft.id, name="nope")
    await wl.workloads.delete(draft.id)
    await wl.workloads.delete(workload.id)


async def test_a_crashing_workload_raises_with_its_logs(wl: AsyncClient) -> None:
    script = "import sys; print('boom: no model file', file=sys.stderr); sys.exit(3)"
    crash = [sys.executable, "-c", script]
    spec = hello_spec(free_port(), entrypoint=crash)
    workload = await wl.workloads.create(name="crashes", artifact=spec)
    with pytest.raises(errors.WorkloadErroredError) as caught:
        await wl.workloads.wait_for_status(workload.id, "running", timeout=60)
    assert "boom: no model file" in str(caught.value)
    assert caught.value.workload.status is WorkloadStatus.ERRORED
    await wl.workloads.delete(workload.id)


async def test_concurrent_requests_share_one_client(wl: AsyncClient) -> None:
    pages = await asyncio.gather(*(wl.workloads.list(limit=1) for _ in range(20)))
    assert len(pages) == 20


async def test_a_wait_can_be_cancelled(wl: AsyncClient, server: LocalServer) -> None:
    spec = hello_spec(free_port(), env={"STARTUP_DELAY": "30"})
    workload = await wl.workloads.create(name="slow", artifact=spec)
    task = asyncio.create_task(wl.workloads.wait_for_status(workload.id, "running"))
    await asyncio.sleep(0.3)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(errors.WaitTimeoutError, match="still initializing"):
        await wl.workloads.wait_for_status(workload.id, "running", timeout=0.3)
    await wl.workloads.delete(workload.id)


async def test_waits_at_the_local_server_instead_of_polling(
    server: LocalServer, wl: AsyncClient
) -> None:
    """The local server answers a waiting GET when the workload changes: waiting for a slow
    start neither sleeps nor polls, and sees every status on the way."""
    sleeps: list[float] = []

    async def no_sleep(delay: float) -> None:
        sleeps.append(delay)

    requests: list[dict[str, str]] = []

    async def record(request: httpx.Request) -> None:
        if request.method == "GET":
            requests.append(dict(request.headers))

    assert await wl.generation() == "v2.41"  # detected once, before the GETs counted here
    wl._requester.sleep = no_sleep
    wl._requester.http.event_hooks["request"].append(record)
    spec = hello_spec(free_port(), env={"STARTUP_DELAY": "1.0"})
    workload = await wl.workloads.create(name="waited-for", artifact=spec)
    seen: list[str] = []
    running = await wl.workloads.wait_for_status(
        workload.id, "running", timeout=30, on_change=lambda w: seen.append(w.status.value)
    )
    assert running.status is WorkloadStatus.RUNNING
    assert sleeps == []  # not one polling gap: each request waited at the server
    assert seen[-1] == "running"
    assert "initializing" in seen
    assert "if-none-match" not in requests[0]
    assert all("if-none-match" in headers for headers in requests[1:])
    # A second of start-up: one request per change (status, log lines), not a polling loop.
    assert len(requests) <= 12, seen

    await wl.workloads.stop(workload.id)
    observed = await wl.workloads.observe(workload.id)
    assert observed.workload.status is WorkloadStatus.STOPPED  # nothing changes any more
    assert observed.server_waits
    assert observed.etag is not None
    still = await wl.workloads.observe(workload.id, observed, polling=Polling(wait=0.3, fast=0.05))
    assert still.unchanged  # 304 after the wait
    assert still.workload == observed.workload

    # A timeout shorter than one waiting request ends it (the request is cancelled).
    began = asyncio.get_running_loop().time()
    with pytest.raises(errors.WaitTimeoutError, match="still stopped"):
        await wl.workloads.wait_for_status(workload.id, "running", timeout=0.5)
    assert asyncio.get_running_loop().time() - began < 5
    await wl.workloads.delete(workload.id)
