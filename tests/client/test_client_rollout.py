"""The client's side of versions and rollback, against the real local server:
``deployments.update(id, artifact_id=...)``, ``wait_for_rollout``, ``rollback`` and
``artifacts.versions``."""

from __future__ import annotations

import sys

import pytest
import respx

from rollouttools import collection_name
from workloadlab.client import AsyncClient
from workloadlab.errors import ConflictError, UnprocessableEntityError, WaitTimeoutError
from workloadlab.models import Rollout, RolloutStatus

from harness import free_port, hello_spec

CRASH = [sys.executable, "-c", "import sys; sys.exit(4)"]


async def register(
    wl: AsyncClient, name: str, greeting: str, port: int, **container: object
) -> str:
    artifact = {**hello_spec(port, greeting, **container), "name": name, "status": "registered"}
    return (await wl.artifacts.create(artifact)).id


async def deployed(wl: AsyncClient, artifact_id: str) -> str:
    workload = await wl.workloads.create(name="client-rollout", artifact_id=artifact_id)
    await wl.workloads.wait_for_status(workload.id, "running")
    return (await wl.deployments.create(workload_id=workload.id, name="client-rollout")).id


async def greeting(wl: AsyncClient, deployment_id: str) -> str:
    answer = await wl.deployments.invoke(deployment_id, "/")
    text: str = answer.json()["greeting"]
    return text


async def test_update_wait_and_rollback(wl: AsyncClient) -> None:
    name, port = collection_name(), free_port()
    v1 = await register(wl, name, "one", port)
    v2 = await register(wl, name, "two", port)
    v3 = await register(wl, name, "three", port)
    deployment_id = await deployed(wl, v1)

    moving = await wl.deployments.update(deployment_id, artifact_id=v3)
    assert moving.artifact_id == v1
    assert moving.rollout is not None
    assert (moving.rollout.status, moving.rollout.to_version) == (RolloutStatus.IN_PROGRESS, 3)
    seen: list[Rollout] = []
    done = await wl.deployments.wait_for_rollout(deployment_id, on_change=seen.append)
    assert (done.status, done.from_version, done.to_version) == (RolloutStatus.COMPLETED, 1, 3)
    assert seen[-1] == done
    assert await greeting(wl, deployment_id) == "three"

    # Back to where it was (v1, not v2: the version it ran before), then to a chosen version.
    back = await wl.deployments.rollback(deployment_id)
    assert (back.status, back.to_artifact_id) == (RolloutStatus.COMPLETED, v1)
    assert await greeting(wl, deployment_id) == "one"
    chosen = await wl.deployments.rollback(deployment_id, version=2)
    assert (chosen.status, chosen.to_artifact_id) == (RolloutStatus.COMPLETED, v2)
    assert (await wl.deployments.get(deployment_id)).artifact_id == v2

    with pytest.raises(ValueError, match="has no version 7"):
        await wl.deployments.rollback(deployment_id, version=7)
    with pytest.raises(ConflictError, match="already runs artifact"):
        await wl.deployments.update(deployment_id, artifact_id=v2)
    with pytest.raises(UnprocessableEntityError) as refused:
        await wl.deployments.update(deployment_id, artifact_id="0" * 24)
    assert refused.value.field_errors[0].field == "artifactId"


async def test_an_abandoned_change_is_an_outcome_not_an_error(wl: AsyncClient) -> None:
    name, port = collection_name(), free_port()
    good = await register(wl, name, "good", port)
    broken = await register(wl, name, "broken", port, entrypoint=CRASH)
    deployment_id = await deployed(wl, good)

    outcome = await wl.deployments.rollback(deployment_id, version=2)

    assert outcome.status is RolloutStatus.ABANDONED
    assert outcome.to_artifact_id == broken
    assert outcome.message == (
        "the new instance's process exited with status 4 before it became ready"
    )
    assert await greeting(wl, deployment_id) == "good"
    with pytest.raises(ValueError, match="its first: there is no earlier version"):
        await wl.deployments.rollback(deployment_id)


async def test_waiting_for_a_change_that_takes_too_long(wl: AsyncClient) -> None:
    name, port = collection_name(), free_port()
    v1 = await register(wl, name, "one", port)
    slow = await register(wl, name, "slow", port, env={"STARTUP_DELAY": "60"})
    deployment_id = await deployed(wl, v1)
    await wl.deployments.update(deployment_id, artifact_id=slow)

    with pytest.raises(WaitTimeoutError, match="to version 2 to be over"):
        await wl.deployments.wait_for_rollout(deployment_id, timeout=0.3)

    v3 = await register(wl, name, "three", port)
    with pytest.raises(ConflictError, match="already moving to version 2"):
        await wl.deployments.rollback(deployment_id, version=3, wait=False)
    assert (await wl.deployments.get(deployment_id)).artifact_id == v1 != v3
    await wl.deployments.delete(deployment_id)  # abandons it


async def test_versions_of_a_collection_by_its_id_or_an_artifact_id(wl: AsyncClient) -> None:
    name, port = collection_name(), free_port()
    v1 = await register(wl, name, "one", port)
    v2 = await register(wl, name, "two", port)
    deployment_id = await deployed(wl, v2)
    draft = await wl.artifacts.create({**hello_spec(port, "draft"), "name": name})
    collection_id = (await wl.artifacts.get(v1)).artifact_collection_id
    assert collection_id is not None

    versions = await wl.artifacts.versions(collection_id)

    assert versions == await wl.artifacts.versions(v1)
    assert [(v.version, v.id) for v in versions] == [(2, v2), (1, v1)]
    assert [[d.id for d in v.deployments] for v in versions] == [[deployment_id], []]
    assert versions[0].digest == versions[0].artifact.spec.digest()
    assert versions[0].digest != versions[1].digest
    assert versions[0].created_at is not None
    assert await wl.artifacts.versions(draft.id) == []


async def test_versions_from_a_server_that_ignores_the_filters(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    def artifact(
        artifact_id: str, collection: str | None, version: int | None
    ) -> dict[str, object]:
        return {
            **hello_spec(8080),
            "id": artifact_id,
            "status": "registered",
            "version": version,
            "artifactCollectionId": collection,
        }

    every = [artifact("a1", "c1", 1), artifact("b1", "c2", 1), artifact("a2", "c1", 2)]
    page = {"count": 3, "totalCount": 3, "next": None, "previous": None}
    cloud_mock.get("/registry/artifacts/").respond(json={**page, "data": every})
    deployments = [{"id": "d1", "name": "d", "workloadId": "w", "artifactId": "b1"}]
    cloud_mock.get("/console/deployments/").respond(
        json={**page, "count": 1, "totalCount": 1, "data": deployments}
    )

    versions = await cloud.artifacts.versions("c1")

    assert [(v.id, v.version, v.deployments) for v in versions] == [("a2", 2, ()), ("a1", 1, ())]
