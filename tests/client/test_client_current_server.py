"""The client against a real local server of the current generation (``serve --api
current``): detected as such, the neutral calls on its paths, and the current generation's own
(settings, rolling restart, promote, clone, lock, replacement, history, repositories)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from workloadlab import errors
from workloadlab.client import AsyncClient, Generation

from clienttools import FAST_POLLING
from harness import LocalServer, free_port, hello_spec


@pytest.fixture
async def cw(current: LocalServer) -> AsyncIterator[AsyncClient]:
    """A client of the module's current-generation server (its generation detected)."""
    async with AsyncClient(current.endpoint, current.token, polling=FAST_POLLING) as client:
        yield client


async def test_detected_as_current_and_deployments_refused(cw: AsyncClient) -> None:
    assert await cw.generation() is Generation.CURRENT
    with pytest.raises(errors.NotSupportedError, match=r"workloads\.promote\(id\)"):
        await cw.deployments.list()
    assert await cw.workloads.replacement("0" * 24) is None  # the server's 404: none


async def test_iterate_apply_promote_and_replace(cw: AsyncClient) -> None:
    port = free_port()
    workload = await cw.workloads.create(name="client-current", artifact=hello_spec(port))
    workload = await cw.workloads.wait_for_status(workload.id, "running", timeout=60)
    assert (await cw.workloads.invoke(workload.id, "/")).json()["greeting"] == "hello"
    assert workload.artifact_id is not None
    draft = await cw.artifacts.get(workload.artifact_id)
    assert str(draft.status) == "draft"
    assert draft.artifact_repository_id is not None

    # Edit the draft, then apply it rolling: settings as they came, sent back unchanged.
    settings = await cw.workloads.settings(workload.id)
    assert settings.runtime["containerGroups"][0]["replicaCount"] == 1
    await cw.artifacts.replace(draft.id, hello_spec(port, greeting="bonjour"))
    applied = await cw.workloads.update_settings(workload.id, settings, timeout=60)
    assert applied.succeeded, applied
    assert applied.candidate_artifact_id == draft.id
    assert (await cw.workloads.invoke(workload.id, "/")).json()["greeting"] == "bonjour"
    assert (await cw.workloads.get(workload.id)).replacement is None
    newest = (await cw.workloads.history(workload.id)).data[0]
    assert newest.id == applied.id

    # Lock it in place, then the next version: clone, edit, lock, replace.
    promoted = await cw.workloads.promote(workload.id)
    assert promoted.artifact is not None
    assert promoted.artifact.version == 1
    assert str(promoted.artifact.status) == "locked"
    with pytest.raises(errors.PermissionDeniedError):
        await cw.artifacts.replace(draft.id, hello_spec(port, greeting="no"))
    clone = await cw.artifacts.clone(draft.id, name="hello-artifact")
    assert clone.artifact_repository_id == draft.artifact_repository_id
    await cw.artifacts.replace(clone.id, hello_spec(port, greeting="hola"))
    second = await cw.artifacts.lock(clone.id)
    assert second.version == 2
    moved = await cw.workloads.replace(workload.id, second.id, timeout=60)
    assert moved.succeeded, moved
    assert (await cw.workloads.invoke(workload.id, "/")).json()["greeting"] == "hola"
    assert (await cw.workloads.get(workload.id)).artifact_id == second.id

    versions = await cw.artifacts.versions(second.id)
    assert [v.version for v in versions] == [2, 1]
    repository = await cw.repositories.get(draft.artifact_repository_id)
    assert repository.last_version_number == 2
    assert [r.id async for r in cw.repositories.list()] == [repository.id]
    await cw.workloads.delete(workload.id)


async def test_a_settings_update_sends_the_runtime_back_as_it_came_but_the_change(
    cw: AsyncClient,
) -> None:
    body = hello_spec(free_port(), readinessProbe={"path": "/readyz", "initialDelaySeconds": 0})
    body["spec"]["containerGroups"][0]["name"] = "default"
    allocation = {"cpu": 0.5, "memory": "512MB"}
    runtime = {
        "containerGroups": [
            {"name": "default", "replicaCount": 1,
             "containers": [{"name": "primary", "resourceAllocation": allocation}]}
        ]
    }  # fmt: skip
    workload = await cw.workloads.create(name="client-settings", artifact=body, runtime=runtime)
    await cw.workloads.wait_for_status(workload.id, "running", timeout=60)
    settings = await cw.workloads.settings(workload.id)
    assert settings.runtime["containerGroups"][0]["containers"][0]["resourceAllocation"] == (
        allocation
    )
    settings.runtime["containerGroups"][0]["replicaCount"] = 2
    applied = await cw.workloads.update_settings(workload.id, settings, timeout=60)
    assert applied.succeeded, applied
    after = await cw.workloads.settings(workload.id)
    assert after.runtime["containerGroups"][0]["replicaCount"] == 2
    assert after.runtime["containerGroups"][0]["containers"][0]["resourceAllocation"] == allocation
    assert str((await cw.workloads.get(workload.id)).status) == "running"
    await cw.workloads.delete(workload.id)
