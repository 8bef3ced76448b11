"""What only DataRobot's cloud does, mocked with respx: extra fields, every error shape,
rate limits, gateway errors, and next-page links; plus the retry policy in fake time."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient
from workloadlab.client._http import retry_after, retry_delay
from workloadlab.models import ArtifactStatus, Importance, WorkloadStatus

from clienttools import CLOUD, CLOUD_TOKEN, Sleeps, fixture

WID = "6650c1d2e3f4a5b6c7d8e9f0"
AID = "6650c1d2e3f4a5b6c7d8e9a1"
DID = "6650c1d2e3f4a5b6c7d8eaa0"


def _inline_artifact() -> dict[str, object]:
    draft = fixture("artifact-draft.json")
    return {"name": draft["name"], "spec": draft["spec"]}


# ---------------------------------------------------------------------------------------------
# Responses with fields this package does not know


async def test_unknown_response_fields_are_ignored(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get(f"/console/workloads/{WID}/").respond(json=fixture("workload-running.json"))
    cloud_mock.get(f"/registry/artifacts/{AID}").respond(json=fixture("artifact-registered.json"))
    cloud_mock.get(f"/console/deployments/{DID}/").respond(json=fixture("deployment.json"))

    workload = await cloud.workloads.get(WID)
    assert workload.status is WorkloadStatus.RUNNING
    assert workload.runtime is not None
    assert workload.runtime.replica_count == 1
    assert workload.status_details is not None
    assert workload.status_details.log_tail == ["Starting up on port 8080", "GET / 200"]
    assert not hasattr(workload, "request_stats")

    artifact = await cloud.artifacts.get(AID)
    assert artifact.status is ArtifactStatus.LOCKED  # v2.41's "registered", neutral
    assert artifact.version == 1
    assert artifact.spec.primary.env() == {"WHOAMI_NAME": "dev"}

    deployment = await cloud.deployments.get(DID)
    assert deployment.importance is Importance.HIGH
    assert deployment.endpoint is not None
    assert deployment.endpoint.endswith(f"/{DID}/")


async def test_create_sends_camel_case_and_reads_the_201(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    route = cloud_mock.post("/console/workloads/").respond(
        201, json=fixture("workload-submitted.json")
    )
    workload = await cloud.workloads.create(name="whoami-dev", artifact=_inline_artifact())
    assert workload.status is WorkloadStatus.SUBMITTED
    assert workload.status_details is None
    sent = json.loads(route.calls.last.request.content)
    assert sent["name"] == "whoami-dev"
    assert sent["artifact"]["spec"]["containerGroups"][0]["containers"][0]["imageUri"] == (
        "containous/whoami:latest"
    )
    assert set(sent) == {"name", "artifact"}

    # The same body as a plain dict, or by artifact id.
    await cloud.workloads.create({"name": "x", "artifactId": AID})
    assert json.loads(route.calls.last.request.content) == {"name": "x", "artifactId": AID}
    await cloud.workloads.create(name="y", artifact_id=AID, runtime={"replicaCount": 2})
    assert json.loads(route.calls.last.request.content) == {
        "name": "y",
        "artifactId": AID,
        "runtime": {"replicaCount": 2},
    }


async def test_bad_bodies_are_refused_before_sending(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    with pytest.raises(pydantic.ValidationError, match="exactly one of artifact"):
        await cloud.workloads.create(name="neither")
    with pytest.raises(pydantic.ValidationError, match="containerGroups"):
        await cloud.artifacts.update(AID, {"spec": {}})
    with pytest.raises(TypeError, match="not both"):
        await cloud.workloads.create({"name": "x", "artifactId": AID}, name="y")  # type: ignore[call-overload]
    assert not cloud_mock.calls


async def test_operation_and_pages(cloud: AsyncClient, cloud_mock: respx.MockRouter) -> None:
    cloud_mock.post(f"/console/workloads/{WID}/stop").respond(
        202, json=fixture("operation-stop.json")
    )
    operation = await cloud.workloads.stop(WID)
    assert operation.workload_id == WID
    assert operation.track_via == f"{CLOUD}/console/workloads/{WID}/"

    cloud_mock.get("/console/workloads/", params={"offset": "2"}).respond(
        json=fixture("workload-list-page2.json")
    )
    first_route = cloud_mock.get("/console/workloads/").respond(
        json=fixture("workload-list-page1.json")
    )
    page = await cloud.workloads.list(limit=2, status=["running", "stopped", "errored"])
    assert [w.name for w in page.data] == ["a", "b"]
    assert page.total_count == 3
    query = first_route.calls.last.request.url.params
    assert query.get_list("status") == ["errored", "running", "stopped"]
    assert query["limit"] == "2"

    names = [w.name async for w in cloud.workloads.list(limit=2)]
    assert names == ["a", "b", "c"]
    pages = [p async for p in cloud.workloads.list(limit=2).pages()]
    errored = pages[1].data[0]
    assert errored.status is WorkloadStatus.ERRORED
    assert errored.status_details is not None
    assert errored.status_details.log_tail[-1].startswith("OSError")


async def test_a_next_page_on_another_host_is_refused(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    page1 = fixture("workload-list-page1.json")
    evil = "https://collector.example.net/api/v2/console/workloads/?offset=2&limit=2"
    cloud_mock.get("/console/workloads/").respond(json={**page1, "next": evil})
    elsewhere = respx.get(url__startswith="https://collector.example.net/").respond(json={})
    seen: list[str] = []

    async def follow() -> None:
        async for workload in cloud.workloads.list():
            seen.append(workload.name)

    with pytest.raises(errors.ForeignHostError) as caught:
        await follow()
    assert seen == ["a", "b"]
    assert "collector.example.net" in str(caught.value)
    assert "another host" in str(caught.value)
    assert not elsewhere.called

    # Another scheme or port of the same host is another origin too.
    for link in ("http://app.datarobot.com/api/v2/x?offset=2", "https://app.datarobot.com:8443/x"):
        cloud_mock.get("/console/workloads/").respond(json={**page1, "next": link})
        with pytest.raises(errors.ForeignHostError):
            [w async for w in cloud.workloads.list()]


async def test_relative_next_links_and_bare_lists(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    page1 = fixture("workload-list-page1.json")
    cloud_mock.get("/console/workloads/", params={"offset": "2"}).respond(
        json=fixture("workload-list-page2.json")
    )
    cloud_mock.get("/console/workloads/").respond(
        json={**page1, "next": "/api/v2/console/workloads/?offset=2&limit=2"}
    )
    assert len([w async for w in cloud.workloads.list()]) == 3

    event = {"id": "e1", "timestamp": "2026-04-24T16:03:56Z", "eventType": "workload.created"}
    cloud_mock.get(f"/console/workloads/{WID}/events").respond(json=[event])
    events = [e async for e in cloud.workloads.events(WID)]
    assert [e.event_type for e in events] == ["workload.created"]


# ---------------------------------------------------------------------------------------------
# Error shapes, end to end


@pytest.mark.parametrize(
    ("status", "name", "cls", "text"),
    [
        (422, "error-422-fastapi.json", errors.UnprocessableEntityError,
         "artifact.spec.containerGroups[0].containers[0].port: Input should be greater"),
        (422, "error-422-paths.json", errors.UnprocessableEntityError,
         "spec.containerGroups[0].containers[0].port: must be between 1024 and 65535"),
        (422, "error-422-strings.json", errors.UnprocessableEntityError,
         "Exactly one container must be marked primary."),
        (403, "error-403-locked.json", errors.PermissionDeniedError,
         "403 Forbidden: Cannot update artifact: artifact is locked"),
        (401, "error-401-gateway.json", errors.AuthenticationError,
         "401 Unauthorized: Invalid API key"),
    ],
)  # fmt: skip
async def test_every_detail_shape(
    cloud: AsyncClient,
    cloud_mock: respx.MockRouter,
    status: int,
    name: str,
    cls: type[errors.APIStatusError],
    text: str,
) -> None:
    route = cloud_mock.put(f"/registry/artifacts/{AID}").respond(status, json=fixture(name))
    with pytest.raises(cls) as caught:
        await cloud.artifacts.replace(AID, _inline_artifact())
    assert text in str(caught.value)
    assert str(caught.value).startswith(f"PUT {CLOUD}/registry/artifacts/{AID} failed with")
    assert caught.value.method == "PUT"
    assert route.call_count == 1


async def test_non_json_errors_and_bodies(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    cloud_mock.get(f"/console/workloads/{WID}/").respond(
        502, text="<html><body>502 Bad Gateway</body></html>"
    )
    with pytest.raises(errors.ServerError, match="502 Bad Gateway: <html>"):
        await cloud.workloads.get(WID)
    cloud_mock.get(f"/registry/artifacts/{AID}").respond(200, text="not json")
    with pytest.raises(errors.APIResponseValidationError, match="not JSON"):
        await cloud.artifacts.get(AID)
    cloud_mock.get(f"/console/deployments/{DID}/").respond(200, json={"id": DID})
    with pytest.raises(errors.APIResponseValidationError, match="not a valid Deployment"):
        await cloud.deployments.get(DID)


# ---------------------------------------------------------------------------------------------
# Retries


async def test_429_with_retry_after_is_honoured(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.get(f"/console/workloads/{WID}/")
    route.side_effect = [
        httpx.Response(429, json=fixture("error-429.json"), headers={"Retry-After": "2"}),
        httpx.Response(200, json=fixture("workload-running.json")),
    ]
    workload = await cloud.workloads.get(WID)
    assert workload.id == WID
    assert sleeps == [2.0]
    assert route.call_count == 2


async def test_429_beyond_the_retry_budget_raises(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.get(f"/console/workloads/{WID}/").respond(
        429, json=fixture("error-429.json"), headers={"Retry-After": "1"}
    )
    with pytest.raises(errors.RateLimitError, match="Too many requests") as caught:
        await cloud.workloads.get(WID)
    assert route.call_count == 3  # the request and 2 retries
    assert sleeps == [1.0, 1.0]
    assert caught.value.retry_after == 1.0

    # A Retry-After of more than 60 s is not waited for.
    sleeps.clear()
    route.respond(429, json=fixture("error-429.json"), headers={"Retry-After": "600"})
    with pytest.raises(errors.RateLimitError):
        await cloud.workloads.get(WID)
    assert sleeps == []


async def test_502_then_success(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.get(f"/registry/artifacts/{AID}")
    route.side_effect = [
        httpx.Response(502, json={"message": "Bad Gateway"}),
        httpx.Response(504, text="upstream timed out"),
        httpx.Response(200, json=fixture("artifact-draft.json")),
    ]
    artifact = await cloud.artifacts.get(AID)
    assert artifact.status is ArtifactStatus.DRAFT
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5  # 0.5 s, less up to 25 % jitter
    assert 0.75 <= sleeps[1] <= 1.0


@pytest.mark.parametrize("status", [409, 412, 422])
async def test_never_retried(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps, status: int
) -> None:
    route = cloud_mock.post(f"/console/workloads/{WID}/start").respond(
        status, json=fixture("error-409-start.json")
    )
    with pytest.raises(errors.APIStatusError) as caught:
        await cloud.workloads.start(WID)
    assert caught.value.status_code == status
    assert route.call_count == 1
    assert sleeps == []


async def test_start_stop_put_delete_are_retried(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    operation = {"status": "ok", "workloadId": WID}
    routes = [
        cloud_mock.post(f"/console/workloads/{WID}/start"),
        cloud_mock.post(f"/console/workloads/{WID}/stop"),
        cloud_mock.delete(f"/console/workloads/{WID}/"),
        cloud_mock.put(f"/registry/artifacts/{AID}"),
    ]
    for route, ok in zip(
        routes,
        [
            httpx.Response(202, json=operation),
            httpx.Response(202, json=operation),
            httpx.Response(204),
            httpx.Response(200, json=fixture("artifact-draft.json")),
        ],
        strict=True,
    ):
        route.side_effect = [httpx.Response(503), ok]
    await cloud.workloads.start(WID)
    await cloud.workloads.stop(WID)
    await cloud.workloads.delete(WID)
    await cloud.artifacts.replace(AID, _inline_artifact())
    assert [route.call_count for route in routes] == [2, 2, 2, 2]


async def test_creating_posts_are_not_retried_without_an_idempotency_key(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.post("/console/workloads/")
    created = httpx.Response(201, json=fixture("workload-submitted.json"))
    route.side_effect = [httpx.Response(502), created]
    with pytest.raises(errors.ServerError):
        await cloud.workloads.create(name="w", artifact_id=AID)
    assert route.call_count == 1

    route.side_effect = [httpx.Response(502), created]
    workload = await cloud.workloads.create(name="w", artifact_id=AID, idempotency_key="k-1")
    assert workload.id == WID
    assert route.call_count == 3
    assert [c.request.headers["Idempotency-Key"] for c in route.calls[1:]] == ["k-1", "k-1"]

    deployments = cloud_mock.post("/console/deployments/").respond(503)
    with pytest.raises(errors.ServerError):
        await cloud.deployments.create(workload_id=WID, name="d")
    artifacts = cloud_mock.post("/registry/artifacts/").respond(503)
    with pytest.raises(errors.ServerError):
        await cloud.artifacts.create(_inline_artifact())
    register = cloud_mock.patch(f"/registry/artifacts/{AID}").respond(503)
    with pytest.raises(errors.ServerError):
        await cloud.artifacts.register(AID)
    assert [r.call_count for r in (deployments, artifacts, register)] == [1, 1, 1]
    assert sleeps == [sleeps[0]]  # only the idempotency-keyed create slept


async def test_connection_errors_are_retried_then_raised(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, sleeps: Sleeps
) -> None:
    route = cloud_mock.get(f"/console/workloads/{WID}/")
    running = httpx.Response(200, json=fixture("workload-running.json"))
    route.side_effect = [httpx.ConnectError("refused"), running]
    assert (await cloud.workloads.get(WID)).id == WID

    route.side_effect = httpx.ConnectError("[Errno 111] Connection refused")
    with pytest.raises(errors.APIConnectionError) as caught:
        await cloud.workloads.get(WID)
    assert str(caught.value) == (
        f"GET {CLOUD}/console/workloads/{WID}/ failed: could not connect "
        "([Errno 111] Connection refused); is the server running?"
    )
    assert route.call_count == 2 + 3

    route.side_effect = httpx.ReadTimeout("timed out")
    with pytest.raises(errors.APITimeoutError, match="no answer in time"):
        await cloud.workloads.get(WID)


async def test_max_retries_zero(cloud_mock: respx.MockRouter) -> None:
    route = cloud_mock.get(f"/console/workloads/{WID}/").respond(503)
    async with AsyncClient(CLOUD, CLOUD_TOKEN, max_retries=0) as client:
        with pytest.raises(errors.ServerError):
            await client.workloads.get(WID)
    assert route.call_count == 1


def test_backoff_curve() -> None:
    no_jitter, full_jitter = (lambda: 0.0), (lambda: 1.0)
    assert [retry_delay(n, rng=no_jitter) for n in range(7)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert [retry_delay(n, rng=full_jitter) for n in range(5)] == [0.375, 0.75, 1.5, 3, 6]
    assert retry_delay(3, {"retry-after": "0"}) == 0
    assert retry_delay(3, {"retry-after": "60"}) == 60
    assert retry_delay(3, {"retry-after": "61"}) is None
    assert retry_delay(0, {"retry-after-ms": "250"}) == 0.25
    assert retry_delay(1, {"retry-after": "soon"}, rng=no_jitter) == 1.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
