"""Which Workload API generation the client speaks: forced (argument, environment) or detected
once per client (``workload-api-current.md`` §1); the paths of each; calls one generation lacks
raise ``NotSupportedError`` naming the other's way. DataRobot's cloud is mocked with respx."""

from __future__ import annotations

import asyncio
import json
from dataclasses import fields
from typing import get_args

import httpx
import pytest
import respx

from workloadlab import errors
from workloadlab.client import AsyncClient, Generation
from workloadlab.client.paths import CURRENT, V2_41, ApiPaths, Route

from clienttools import CLOUD, CLOUD_TOKEN, FAST_POLLING, Sleeps, fixture
from harness import LocalServer, free_port, hello_spec

WID = "6650c1d2e3f4a5b6c7d8e9f0"
AID = "6650c1d2e3f4a5b6c7d8e9a1"
CURRENT_WORKLOAD = {
    "id": WID,
    "name": "hello",
    "status": "running",
    "artifactId": AID,
    "artifact": {"id": AID, "name": "hello-artifact", "status": "draft", "version": None},
    "replacement": None,
    "requestStats": None,
}
CURRENT_ARTIFACT = {
    "id": AID,
    "name": "hello-artifact",
    "description": "",
    "type": "service",
    "status": "draft",
    "version": None,
    "artifactRepositoryId": "6650c1d2e3f4a5b6c7d8e9b2",
    "spec": {
        "containerGroups": [
            {
                "name": "default",
                "containers": [
                    {"name": "main", "imageUri": "ghcr.io/org/hello:1", "primary": True,
                     "port": 8000},
                ],
            }
        ]
    },
}  # fmt: skip


def detect_as(router: respx.MockRouter, status: int) -> respx.Route:
    """Make the detection request answer ``status`` (``200``: a current-generation server)."""
    body = {"count": 0, "totalCount": 0, "next": None, "previous": None, "data": []}
    return router.routes["detect"].respond(status, json=body if status == 200 else {})


async def test_a_current_server_is_detected_once(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    detect = detect_as(cloud_mock, 200)
    get = cloud_mock.get(f"/workloads/{WID}/").respond(json=CURRENT_WORKLOAD)
    assert await cloud.generation() is Generation.CURRENT
    assert await cloud.generation() == "current"
    workload = await cloud.workloads.get(WID)
    await cloud.workloads.get(WID)
    assert workload.id == WID
    assert get.call_count == 2
    assert detect.call_count == 1
    assert detect.calls.last.request.url.params["limit"] == "1"


async def test_a_v241_server_answers_404_and_keeps_its_paths(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    get = cloud_mock.get(f"/console/workloads/{WID}/").respond(
        json=fixture("workload-running.json")
    )
    assert (await cloud.workloads.get(WID)).id == WID
    assert await cloud.generation() is Generation.V2_41
    assert cloud_mock.routes["detect"].call_count == 1
    assert get.call_count == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (500, errors.ServerError),
        (503, errors.ServerError),
    ],
)
async def test_other_answers_are_raised_and_not_remembered(
    cloud: AsyncClient,
    cloud_mock: respx.MockRouter,
    sleeps: Sleeps,
    status: int,
    error: type[errors.APIStatusError],
) -> None:
    detect = detect_as(cloud_mock, status)
    with pytest.raises(error):
        await cloud.workloads.get(WID)
    # Gateway errors were retried (with backoff) like any GET; the rest were not.
    assert detect.call_count == (3 if status == 503 else 1)
    assert len(sleeps) == (2 if status == 503 else 0)
    # Nothing was remembered: the next call asks again, and this time learns.
    detect_as(cloud_mock, 200)
    cloud_mock.get(f"/workloads/{WID}/").respond(json=CURRENT_WORKLOAD)
    assert (await cloud.workloads.get(WID)).id == WID
    assert await cloud.generation() is Generation.CURRENT


async def test_no_connection_is_raised_and_not_remembered(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.routes["detect"].side_effect = httpx.ConnectError("refused")
    with pytest.raises(errors.APIConnectionError, match="could not connect"):
        await cloud.generation()
    cloud_mock.routes["detect"].side_effect = None
    detect_as(cloud_mock, 404)
    assert await cloud.generation() is Generation.V2_41


async def test_concurrent_first_calls_detect_once(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    detect = detect_as(cloud_mock, 200)
    cloud_mock.get(f"/workloads/{WID}/").respond(json=CURRENT_WORKLOAD)
    await asyncio.gather(*(cloud.workloads.get(WID) for _ in range(5)))
    assert detect.call_count == 1


async def test_shared_paths_need_no_detection(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    cloud_mock.get(f"/otel/workload/{WID}/logs/").respond(
        json={"count": 0, "next": None, "data": []}
    )
    cloud_mock.get(f"/endpoints/workloads/{WID}/hello").respond(text="hi")
    cloud_mock.get("/credentials/").respond(json={"count": 0, "next": None, "data": []})
    await cloud.workloads.logs(WID)
    assert (await cloud.workloads.invoke(WID, "/hello")).text == "hi"
    await cloud.credentials.list()
    assert cloud_mock.routes["detect"].call_count == 0


async def test_the_argument_wins_then_the_environment(
    cloud_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud_mock.get(f"/workloads/{WID}/").respond(json=CURRENT_WORKLOAD)
    cloud_mock.get(f"/console/workloads/{WID}/").respond(json=fixture("workload-running.json"))
    async with AsyncClient(CLOUD, CLOUD_TOKEN, api="current") as client:
        assert await client.generation() is Generation.CURRENT
        await client.workloads.get(WID)
    monkeypatch.setenv("DATAROBOT_WORKLOAD_API", "current")
    async with AsyncClient(CLOUD, CLOUD_TOKEN) as client:
        assert await client.generation() is Generation.CURRENT
    async with AsyncClient(CLOUD, CLOUD_TOKEN, api="v2.41") as client:
        assert await client.generation() is Generation.V2_41
        await client.workloads.get(WID)
    monkeypatch.setenv("DATAROBOT_WORKLOAD_API", "auto")
    async with AsyncClient(CLOUD, CLOUD_TOKEN) as client:
        assert await client.generation() is Generation.V2_41  # detected: the mock's 404
    assert cloud_mock.routes["detect"].call_count == 1


async def test_a_bad_value_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(errors.ConfigError, match=r"api='v3' is not .* auto, v2.41, current"):
        AsyncClient(CLOUD, CLOUD_TOKEN, api="v3")
    monkeypatch.setenv("DATAROBOT_WORKLOAD_API", "2.41")
    with pytest.raises(errors.ConfigError, match=r"\$DATAROBOT_WORKLOAD_API='2.41' is not"):
        AsyncClient(CLOUD, CLOUD_TOKEN)
    # The argument wins over a bad environment.
    async with AsyncClient(CLOUD, CLOUD_TOKEN, api="v2.41") as client:
        assert await client.generation() is Generation.V2_41


# ---------------------------------------------------------------------------------------------
# Calls where the generations agree, on each one's paths


async def test_neutral_calls_use_the_current_paths(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    detect_as(cloud_mock, 200)
    page = {"count": 1, "totalCount": 1, "next": None, "previous": None}
    created = cloud_mock.post("/workloads/").respond(201, json=CURRENT_WORKLOAD)
    listed = cloud_mock.get("/workloads/", params={"search": "hello"}).respond(
        json=page | {"data": [CURRENT_WORKLOAD]}
    )
    started = cloud_mock.post(f"/workloads/{WID}/start").respond(
        202, json={"status": "starting", "workloadId": WID, "trackVia": "…"}
    )
    stopped = cloud_mock.post(f"/workloads/{WID}/stop").respond(
        202, json={"status": "stopping", "workloadId": WID, "trackVia": "…"}
    )
    deleted = cloud_mock.delete(f"/workloads/{WID}/").respond(204)
    events = cloud_mock.get(f"/workloads/{WID}/events").respond(json=page | {"data": []})
    artifact = cloud_mock.get(f"/artifacts/{AID}/").respond(json=CURRENT_ARTIFACT)

    await cloud.workloads.create(name="hello", artifact_id=AID)
    assert [w.id async for w in cloud.workloads.list(search="hello")] == [WID]
    await cloud.workloads.start(WID, force=True)
    await cloud.workloads.stop(WID)
    await cloud.workloads.events(WID)
    assert (await cloud.artifacts.get(AID)).artifact_repository_id == (
        CURRENT_ARTIFACT["artifactRepositoryId"]
    )
    await cloud.workloads.delete(WID, force=True)
    for route in (created, listed, started, stopped, deleted, events, artifact):
        assert route.call_count == 1
    # force= is the local v2.41 server's (past a deployment): the current generation has none.
    assert "force" not in started.calls.last.request.url.params
    assert "force" not in deleted.calls.last.request.url.params


@pytest.mark.parametrize(
    ("generation", "path", "word"),
    [
        ("v2.41", f"/registry/artifacts/{AID}", "registered"),
        ("current", f"/artifacts/{AID}/", "locked"),
    ],
)
async def test_lock_sends_each_generations_word(
    cloud_mock: respx.MockRouter, generation: str, path: str, word: str
) -> None:
    answer = CURRENT_ARTIFACT | {"status": word, "version": 1}
    patch = cloud_mock.patch(path).respond(json=answer)
    create = cloud_mock.post(path.removesuffix("/").removesuffix(AID)).respond(201, json=answer)
    async with AsyncClient(CLOUD, CLOUD_TOKEN, api=generation) as client:
        locked = await client.artifacts.lock(AID)
        assert json.loads(patch.calls.last.request.content) == {"status": word}
        assert locked.is_registered
        await client.artifacts.register(AID)  # v2.41's name for the same
        assert json.loads(patch.calls.last.request.content) == {"status": word}
        # Created locked at once: in the server's word, whichever the body used.
        spec = fixture("artifact-draft.json")["spec"]
        body = {"name": "hello-artifact", "status": "registered", "spec": spec}
        await client.artifacts.create(body)
        assert json.loads(create.calls.last.request.content)["status"] == word


# ---------------------------------------------------------------------------------------------
# Calls one generation lacks


async def test_deployments_on_the_current_generation_say_what_to_do_instead(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    detect_as(cloud_mock, 200)
    calls = [
        cloud.deployments.get("d1"),
        cloud.deployments.create(workload_id=WID, name="prod"),
        cloud.deployments.delete("d1"),
        cloud.deployments.wait_for_rollout("d1"),
        cloud.deployments.list(),
        cloud.deployments.events("d1"),
        cloud.deployments.invoke("d1"),
    ]
    for call in calls:
        with pytest.raises(errors.NotSupportedError) as caught:
            await call
        message = str(caught.value)
        assert message.startswith("client.deployments: only in the v2.41 generation")
        assert "workloads.promote(id)" in message
        assert "a workload of a locked artifact" in message
    assert len(cloud_mock.calls) == 1  # the detection, nothing else
    # A workload's readiness to lock looks for no deployments there.
    cloud_mock.get(f"/workloads/{WID}/").respond(json=CURRENT_WORKLOAD)
    cloud_mock.get(f"/artifacts/{AID}/").respond(json=CURRENT_ARTIFACT)
    active = {"id": "p1", "role": "active", "runningSince": "2026-01-01T00:00:00Z"}
    cloud_mock.get(f"/workloads/{WID}/protons").respond(json={"data": [active]})
    readiness = await cloud.workloads.lock_readiness(WID)
    assert readiness.checks
    assert readiness.workload.running_since is not None, "from the active proton"


async def test_the_current_generations_calls_on_v241_say_what_to_do_instead(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    expected = {
        "promote": (cloud.workloads.promote(WID), "artifacts.lock(id)"),
        "settings": (cloud.workloads.settings(WID), "workloads.restart(id)"),
        "update_settings": (cloud.workloads.update_settings(WID, {}), "workloads.restart(id)"),
        "replace": (cloud.workloads.replace(WID, AID), "deployments.update(id, artifact_id="),
        "replacement": (cloud.workloads.replacement(WID), "workloads.restart(id)"),
        "wait": (cloud.workloads.wait_for_replacement(WID), "workloads.events(id)"),
        "history": (cloud.workloads.history(WID), "workloads.events(id)"),
        "clone": (cloud.artifacts.clone(AID, name="next"), "artifacts.create("),
        "repositories": (cloud.repositories.list(), "artifacts.versions(id)"),
        "repository": (cloud.repositories.get("r1"), "artifacts.versions(id)"),
        "repository filter": (cloud.artifacts.list(repository_id="r1"), "collection_id="),
    }
    for name, (call, hint) in expected.items():
        with pytest.raises(errors.NotSupportedError) as caught:
            await call
        assert hint in str(caught.value), name
    assert [call.request.url.path for call in cloud_mock.calls] == ["/api/v2/workloads/"]


async def test_collections_on_the_current_generation_point_to_repositories(
    cloud_mock: respx.MockRouter,
) -> None:
    async with AsyncClient(CLOUD, CLOUD_TOKEN, api="current", polling=FAST_POLLING) as client:
        with pytest.raises(errors.NotSupportedError, match=r"list\(repository_id=...\)"):
            await client.artifacts.list(collection_id="c1")
    assert not cloud_mock.calls


# ---------------------------------------------------------------------------------------------
# The real local server (v2.41 profile, its default)


async def test_the_local_server_is_detected_as_v241(server: LocalServer) -> None:
    async with AsyncClient(server.endpoint, server.token, polling=FAST_POLLING) as client:
        assert await client.generation() is Generation.V2_41
        spec = hello_spec(free_port())
        artifact = await client.artifacts.create({"name": "gen-probe", "spec": spec["spec"]})
        with pytest.raises(errors.NotSupportedError, match=r"artifacts\.create"):
            await client.artifacts.clone(artifact.id, name="next")
        with pytest.raises(errors.NotSupportedError, match=r"artifacts\.versions"):
            await client.repositories.list()
        locked = await client.artifacts.lock(artifact.id)
        assert locked.is_registered
        assert locked.status_word == "registered"  # neutral: locked, in v2.41's word
        assert [v.id for v in await client.artifacts.versions(artifact.id)] == [artifact.id]


def test_each_generation_names_every_route() -> None:
    routes = set(get_args(Route))
    assert routes == {field.name for field in fields(ApiPaths)} - {"generation"}
    for route in routes:  # each route is in one generation at least, and refused by name
        spelled = [paths for paths in (V2_41, CURRENT) if getattr(paths, route) is not None]
        assert spelled, route
        for paths in {V2_41, CURRENT} - set(spelled):
            with pytest.raises(
                errors.NotSupportedError, match=f"this server speaks {paths.generation}; "
            ):
                paths.template(route)
    assert CURRENT.url("workload_settings", "a/b") == "workloads/a%2Fb/settings"
    assert V2_41.url("artifact", "x") == "registry/artifacts/x"
    assert CURRENT.url("repositories") == "artifactRepositories/"
