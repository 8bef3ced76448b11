"""wait_for_status, watch and restart, against scripted status sequences (fake time)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient, Polling
from workloadlab.models import WorkloadStatus

from clienttools import CLOUD, CLOUD_TOKEN, FAST_POLLING, Sleeps

WID = "6650c1d2e3f4a5b6c7d8e9f0"
PATH = f"/console/workloads/{WID}/"


def _workload(status: str, **extra: Any) -> httpx.Response:
    body = {"id": WID, "name": "whoami-dev", "status": status, "someNewField": [1], **extra}
    return httpx.Response(200, json=body)


ERRORED = {
    "statusDetails": {
        "conditions": [{"type": "Ready", "name": "primary", "value": "False"}],
        "logTail": ["Traceback (most recent call last):", "OSError: [Errno 98] in use"],
        "message": "the primary container exited with status 1",
    }
}


async def test_wait_for_status_returns_the_workload(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    cloud_mock.get(PATH).side_effect = [
        _workload("submitted"),
        _workload("initializing"),
        _workload("initializing"),
        _workload("initializing"),
        _workload("running"),
    ]
    changes: list[str] = []
    workload = await cloud.workloads.wait_for_status(
        WID, "running", on_change=lambda w: changes.append(w.status.value)
    )
    assert workload.status is WorkloadStatus.RUNNING
    assert changes == ["submitted", "initializing", "running"]
    # Fast while under way, growing while nothing changes, fast again after a change.
    assert sleeps == pytest.approx([0.01, 0.01, 0.015, 0.0225])


async def test_errored_raises_with_status_details_and_log_tail(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get(PATH).side_effect = [_workload("initializing"), _workload("errored", **ERRORED)]
    with pytest.raises(errors.WorkloadErroredError) as caught:
        await cloud.workloads.wait_for_status(WID, "running")
    error = caught.value
    assert str(error) == (
        f"workload 'whoami-dev' ({WID}) went errored while waiting for it to be running: "
        "the primary container exited with status 1\n"
        "last log lines:\n"
        "  Traceback (most recent call last):\n"
        "  OSError: [Errno 98] in use"
    )
    assert error.status_details is not None
    assert error.status_details.conditions[0].value == "False"
    assert error.log_tail[-1] == "OSError: [Errno 98] in use"

    # Waiting for errored (among others) is fine.
    cloud_mock.get(PATH).side_effect = [_workload("errored", **ERRORED)]
    workload = await cloud.workloads.wait_for_status(WID, ["stopped", "errored"])
    assert workload.status is WorkloadStatus.ERRORED


async def test_errored_without_a_log_tail_reads_the_logs(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get(PATH).respond(json={"id": WID, "name": "w", "status": "errored"})
    records = [
        {"timestamp": "2026-04-24T16:03:58Z", "message": "ValueError: bad", "level": "error"},
        {"timestamp": "2026-04-24T16:03:57Z", "message": "starting", "level": "info"},
    ]
    logs = cloud_mock.get(f"/otel/workload/{WID}/logs/").respond(
        json={"count": 2, "next": None, "data": records}
    )
    with pytest.raises(errors.WorkloadErroredError, match=r"starting\n  ValueError: bad$"):
        await cloud.workloads.wait_for_status(WID, "running")
    assert logs.calls.last.request.url.params["limit"] == "20"

    # Logs that cannot be had do not hide the errored workload.
    logs.respond(404, json={"detail": "no logs"})
    with pytest.raises(errors.WorkloadErroredError) as caught:
        await cloud.workloads.wait_for_status(WID, "running")
    assert caught.value.log_tail == []


async def test_unknown_status_words_are_refused(cloud: AsyncClient) -> None:
    with pytest.raises(ValueError, match="unknown workload status"):
        await cloud.workloads.wait_for_status(WID, "runing")


async def test_timeout(cloud_mock: respx.MockRouter) -> None:
    cloud_mock.get(PATH).side_effect = lambda request: _workload("initializing")
    async with AsyncClient(CLOUD, CLOUD_TOKEN, polling=FAST_POLLING) as client:
        with pytest.raises(errors.WaitTimeoutError) as caught:
            await client.workloads.wait_for_status(WID, "running", timeout=0.2)
    assert str(caught.value) == (
        f"workload 'whoami-dev' ({WID}) is still initializing after 0.2 s "
        "waiting for it to be running"
    )
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.workload is not None


async def test_cancellation_propagates_and_stops_polling(cloud_mock: respx.MockRouter) -> None:
    route = cloud_mock.get(PATH)
    route.side_effect = lambda request: _workload("initializing")
    async with AsyncClient(CLOUD, CLOUD_TOKEN, polling=FAST_POLLING) as client:
        task = asyncio.create_task(client.workloads.wait_for_status(WID, "running"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        calls = route.call_count
        await asyncio.sleep(0.1)
        assert route.call_count == calls


async def test_watch_polls_fast_while_under_way_and_slowly_when_stable(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    cloud_mock.get(PATH).side_effect = [
        _workload("submitted"),
        _workload("submitted"),
        _workload("submitted"),
        _workload("initializing"),
        _workload("running"),
        _workload("running"),
        _workload("running"),
        httpx.Response(404, json={"detail": "Workload not found"}),
    ]
    seen: list[str] = []

    async def follow() -> None:
        async for workload in cloud.workloads.watch(WID):
            seen.append(workload.status.value)

    with pytest.raises(errors.NotFoundError):
        await follow()
    assert seen == ["submitted", "initializing", "running"]
    assert sleeps == pytest.approx([0.01, 0.015, 0.0225, 0.01, 0.01, 0.2, 0.2])

    # The gaps are configurable, per client and per watch.
    sleeps.clear()
    cloud_mock.get(PATH).side_effect = [
        _workload("running"),
        _workload("running"),
        httpx.Response(404, json={"detail": "gone"}),
    ]
    with pytest.raises(errors.NotFoundError):
        async for _ in cloud.workloads.watch(WID, polling=Polling(fast=1, stable=30)):
            pass
    assert sleeps == [1, 30]


async def test_restart_stops_waits_starts_and_waits(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    operation = httpx.Response(202, json={"status": "requested", "workloadId": WID})
    stop = cloud_mock.post(f"{PATH}stop").mock(return_value=operation)
    start = cloud_mock.post(f"{PATH}start").mock(return_value=operation)
    order: list[str] = []
    statuses = iter(["running", "stopping", "stopped", "submitted", "initializing", "running"])

    def get(request: httpx.Request) -> httpx.Response:
        order.append("get")
        return _workload(next(statuses))

    stop.side_effect = lambda request: order.append("stop") or operation
    start.side_effect = lambda request: order.append("start") or operation
    cloud_mock.get(PATH).side_effect = get
    seen: list[str] = []
    workload = await cloud.workloads.restart(WID, on_change=lambda w: seen.append(w.status.value))
    assert workload.status is WorkloadStatus.RUNNING
    assert seen == ["running", "stopping", "stopped", "submitted", "initializing", "running"]
    assert order == ["stop", "get", "get", "get", "start", "get", "get", "get"]


async def test_restart_timeout_names_the_step(cloud_mock: respx.MockRouter) -> None:
    operation = httpx.Response(202, json={"status": "requested", "workloadId": WID})
    cloud_mock.post(f"{PATH}stop").mock(return_value=operation)
    cloud_mock.get(PATH).side_effect = lambda request: _workload("stopping")
    async with AsyncClient(CLOUD, CLOUD_TOKEN, polling=FAST_POLLING) as client:
        with pytest.raises(errors.WaitTimeoutError, match=r"still stopping after 0\.2 s"):
            await client.workloads.restart(WID, timeout=0.2)


async def test_a_server_that_does_not_wait_is_polled_with_plain_gets(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    """DataRobot ignores ``Prefer: wait``: no conditional request is sent, the gaps are slept
    here, and an ETag it may send changes nothing."""
    route = cloud_mock.get(PATH)
    route.side_effect = [
        httpx.Response(200, json=_workload("initializing").json(), headers={"ETag": '"a"'}),
        _workload("running"),
    ]
    await cloud.workloads.wait_for_status(WID, "running")
    assert sleeps == pytest.approx([0.01])
    for call in route.calls:
        assert call.request.headers["prefer"] == "wait=25"
        assert "if-none-match" not in call.request.headers


async def test_a_server_that_waits_is_asked_to_wait_for_a_change(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    """A server that says ``Preference-Applied: wait`` gets the ETag back and is not polled:
    its ``304`` (nothing changed within the wait) is simply asked again."""
    applied = {"Preference-Applied": "wait=25"}

    def answer(status: str, tag: str) -> httpx.Response:
        return httpx.Response(200, json=_workload(status).json(), headers={**applied, "ETag": tag})

    route = cloud_mock.get(PATH)
    route.side_effect = [
        answer("initializing", '"1"'),
        httpx.Response(304, headers={**applied, "ETag": '"1"'}),
        answer("running", '"2"'),
    ]
    seen: list[str] = []
    workload = await cloud.workloads.wait_for_status(
        WID, "running", on_change=lambda w: seen.append(w.status.value)
    )
    assert workload.status is WorkloadStatus.RUNNING
    assert seen == ["initializing", "running"]
    sent = [call.request.headers.get("if-none-match") for call in route.calls]
    assert sent == [None, '"1"', '"1"']
    # The early 304 (a mock answers at once, like a server shutting down) costs one fast gap.
    assert sleeps == pytest.approx([0.01])
