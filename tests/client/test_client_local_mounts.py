"""Who the client talks to (``AsyncClient.local_server``), and local mounts kept away from
DataRobot: against the mocked cloud nothing with ``localMounts`` is sent, and live sync refuses
in one line; against the real local server both work."""

from __future__ import annotations

import httpx
import pytest
import respx

from workloadlab.client import AsyncClient
from workloadlab.models.generations import NotExpressibleError
from workloadlab.sync import NOT_LOCAL, SyncRefused, Syncs

from clienttools import fixture
from harness import free_port, hello_spec

WID = "6650c1d2e3f4a5b6c7d8e9f0"


def _mounted() -> dict[str, object]:
    draft = fixture("artifact-draft.json")
    draft["spec"]["containerGroups"][0]["containers"][0]["localMounts"] = [
        {"source": "/srv/app", "target": "/app"}
    ]
    return {"name": draft["name"], "spec": draft["spec"]}


async def test_datarobot_is_not_the_local_server(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    asked = cloud_mock.get("/localServer").respond(404, json={"message": "Not Found"})
    assert await cloud.local_server() is None
    assert await cloud.local_server() is None
    assert asked.call_count == 1, "asked once"


async def test_local_mounts_are_never_sent_to_datarobot(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get("/localServer").respond(404, json={"message": "Not Found"})
    created = cloud_mock.post("/registry/artifacts/").respond(201, json={})
    workload = cloud_mock.post("/console/workloads/").respond(201, json={})
    with pytest.raises(NotExpressibleError, match=r"containers\[0\]\.localMounts"):
        await cloud.artifacts.create(_mounted())
    with pytest.raises(NotExpressibleError, match="local mounts"):
        await cloud.workloads.create(name="w", artifact=_mounted())
    assert not created.called
    assert not workload.called


async def test_live_sync_refuses_on_datarobot_in_one_line(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get("/localServer").respond(404, json={"message": "Not Found"})
    workload = cloud_mock.get(f"/console/workloads/{WID}/").respond(
        json=fixture("workload-running.json")
    )
    with pytest.raises(SyncRefused) as refused:
        await Syncs().begin(cloud, WID)
    assert str(refused.value) == NOT_LOCAL
    assert "\n" not in NOT_LOCAL
    assert "image build" in NOT_LOCAL
    assert not workload.called, "refused before anything else is asked"


async def test_a_gateway_failure_is_not_taken_for_another_server(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    asked = cloud_mock.get("/localServer").mock(
        side_effect=[httpx.Response(502), httpx.Response(502), httpx.Response(502)]
    )
    with pytest.raises(Exception, match="502"):
        await cloud.local_server()
    assert asked.call_count == 3, "retried, then raised, and not remembered"


async def test_the_local_server_says_who_it_is(wl: AsyncClient) -> None:
    found = await wl.local_server()
    assert found is not None
    assert found.name == "workloadlab"
    assert found.runtime == "process"
    workload = await wl.workloads.create(
        name="mounted", artifact={**hello_spec(free_port()), "spec": _mounted()["spec"]}
    )
    artifact = await wl.artifacts.get(workload.artifact_id)
    assert artifact.spec.to_wire()["containerGroups"][0]["containers"][0]["localMounts"]
    await wl.workloads.delete(workload.id)
