"""``force=True`` on stop, start, restart and delete: past the deployment a workload backs
(the local server's ``?force=true``), and not sent at all when not asked for."""

from __future__ import annotations

import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient
from workloadlab.models import WorkloadStatus

from clienttools import fixture
from harness import free_port, hello_spec

WID = "6650c1d2e3f4a5b6c7d8e9f0"


async def test_a_deployed_workload_needs_force(wl: AsyncClient) -> None:
    created = await wl.workloads.create(name="guarded", artifact=hello_spec(free_port()))
    workload = await wl.workloads.wait_for_status(created.id, "running", timeout=30)
    assert workload.artifact_id is not None
    await wl.artifacts.register(workload.artifact_id)
    deployment = await wl.deployments.create(workload_id=workload.id, name="guarded-prod")

    for refused in (
        wl.workloads.stop(workload.id),
        wl.workloads.restart(workload.id, timeout=30),
        wl.workloads.delete(workload.id),
    ):
        with pytest.raises(errors.ConflictError, match="guarded-prod") as caught:
            await refused
        assert "force=true" in (caught.value.detail or "")
    assert (await wl.workloads.get(workload.id)).status is WorkloadStatus.RUNNING

    restarted = await wl.workloads.restart(workload.id, timeout=30, force=True)
    assert restarted.status is WorkloadStatus.RUNNING
    trail = [e async for e in wl.workloads.events(workload.id, limit=20)]
    assert any(e.details.get("forced") for e in trail if e.event_type == "workload.stopped")

    await wl.workloads.delete(workload.id, force=True)
    with pytest.raises(errors.NotFoundError):
        await wl.deployments.get(deployment.id)


async def test_force_is_a_query_parameter_sent_only_when_asked(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    stop = cloud_mock.post(f"/console/workloads/{WID}/stop").respond(
        202, json=fixture("operation-stop.json")
    )
    start = cloud_mock.post(f"/console/workloads/{WID}/start").respond(
        202, json=fixture("operation-stop.json")
    )
    delete = cloud_mock.delete(f"/console/workloads/{WID}/").respond(204)
    await cloud.workloads.stop(WID)
    await cloud.workloads.start(WID)
    await cloud.workloads.delete(WID)
    for route in (stop, start, delete):
        assert route.calls.last.request.url.query == b""
    await cloud.workloads.stop(WID, force=True)
    await cloud.workloads.start(WID, force=True)
    await cloud.workloads.delete(WID, force=True)
    for route in (stop, start, delete):
        assert route.calls.last.request.url.params["force"] == "true"
