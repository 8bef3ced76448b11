"""Read, change one field, write back: the body sent is what was read, but for that field.

For every DataRobot-shaped artifact and workload fixture (v2.41, and the current generation's
bodies of ``workload-api-current.md`` §9 built into ``fixtures/current/``) and for the real local
server: unknown keys at any depth, nulls, credential references, ``securityContext``,
``imageBuildConfig``, ``type: service``, ``"512MB"`` and the numbers' spelling all go back as
they came. Bodies are compared as JSON text (key order, ``1`` versus ``1.0``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from workloadlab.client import AsyncClient
from workloadlab.models import CredentialType

from clienttools import FIXTURES
from harness import free_port, hello_spec

FIXTURE_DIRS = (FIXTURES, FIXTURES.parent / "current")
ARTIFACT_PATH = re.compile(r".*/(?:registry/)?artifacts/(?P<id>[0-9a-f]{24})/?$")
WORKLOAD_PATH = re.compile(r".*/(?:console/)?workloads/(?P<id>[0-9a-f]{24})/?$")
WORKLOADS_PATH = re.compile(r".*/(?:console/)?workloads/?$")
RESPONSE_ONLY = ("id", "version", "artifactCollectionId", "creator", "createdAt", "updatedAt")
RESPONSE_ONLY += ("specDigest", "tags", "permissions")


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def fixtures_where(test: Callable[[Any], bool]) -> list[Path]:
    return sorted(
        path for folder in FIXTURE_DIRS for path in folder.glob("*.json") if test(load(path))
    )


def is_artifact(body: Any) -> bool:
    return isinstance(body, dict) and "spec" in body and "id" in body


def workloads_in(body: Any) -> list[dict[str, Any]]:
    items = body.get("data", [body]) if isinstance(body, dict) else []
    return [item for item in items if {"id", "artifactId", "runtime"} <= set(item)]


ARTIFACTS = fixtures_where(is_artifact)
WORKLOADS = fixtures_where(lambda body: bool(workloads_in(body)))
CREATE_BODIES = fixtures_where(
    lambda body: "id" not in body and ("artifact" in body or "artifactId" in body)
)


def as_sent(body: Any) -> str:
    """JSON text that keeps key order and number spelling (``1`` is not ``1.0``)."""
    return json.dumps(body, ensure_ascii=False)


def sent(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


def generation_of(body: dict[str, Any]) -> str:
    return "v2.41" if "artifactCollectionId" in body or body.get("type") == "generic" else "current"


def serve(cloud_mock: respx.MockRouter, generation: str) -> None:
    """Answer the client's generation probe (the route ``detect``) as ``generation`` would."""
    cloud_mock.routes["detect"].respond(
        200 if generation == "current" else 404, json={"count": 0, "data": []}
    )


def test_the_fixtures_cover_both_generations() -> None:
    names = {path.parent.name + "/" + path.name for path in ARTIFACTS + WORKLOADS + CREATE_BODIES}
    assert {"datarobot/artifact-draft.json", "datarobot/artifact-registered.json"} <= names
    assert {"current/artifact-draft.json", "current/artifact-locked.json"} <= names
    assert {"datarobot/workload-running.json", "datarobot/workload-list-page1.json"} <= names
    assert {"current/workload.json", "current/create-workload.json"} <= names
    assert "current/create-production-workload.json" in names


ARTIFACT_CHANGES: list[tuple[str, Callable[[Any], None], Callable[[dict[str, Any]], None]]] = [
    (
        "imageUri",
        lambda a: setattr(a.spec.container_groups[0].containers[0], "image_uri", "reg/x:2"),
        lambda b: b["spec"]["containerGroups"][0]["containers"][0].update(imageUri="reg/x:2"),
    ),
    (
        "description",
        lambda a: setattr(a, "description", "changed"),
        lambda b: b.update(description="changed"),
    ),
    (
        "port",
        lambda a: setattr(a.spec.container_groups[0].containers[0], "port", 9000),
        lambda b: b["spec"]["containerGroups"][0]["containers"][0].update(port=9000),
    ),
]


@pytest.mark.parametrize("path", ARTIFACTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
@pytest.mark.parametrize("change", ARTIFACT_CHANGES, ids=lambda c: c[0])
async def test_get_change_put_sends_the_rest_as_it_came(
    cloud: AsyncClient,
    cloud_mock: respx.MockRouter,
    path: Path,
    change: tuple[str, Callable[[Any], None], Callable[[dict[str, Any]], None]],
) -> None:
    original = load(path)
    serve(cloud_mock, generation_of(original))
    cloud_mock.get(url__regex=ARTIFACT_PATH.pattern).respond(json=original)
    put = cloud_mock.put(url__regex=ARTIFACT_PATH.pattern).respond(json=original)
    _, change_model, change_body = change

    artifact = await cloud.artifacts.get(original["id"])
    change_model(artifact)
    await cloud.artifacts.replace(artifact.id, artifact)

    expected = {k: v for k, v in copy.deepcopy(original).items() if k not in RESPONSE_ONLY}
    change_body(expected)
    assert as_sent(sent(put)) == as_sent(expected)
    assert put.calls.last.request.url.path.endswith(
        original["id"]
    ) or put.calls.last.request.url.path.endswith(original["id"] + "/")


async def test_a_read_artifact_sent_unchanged_is_byte_for_byte_what_came(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    original = load(FIXTURES.parent / "current" / "artifact-draft.json")
    serve(cloud_mock, "current")
    cloud_mock.get(url__regex=ARTIFACT_PATH.pattern).respond(json=original)
    put = cloud_mock.put(url__regex=ARTIFACT_PATH.pattern).respond(json=original)
    artifact = await cloud.artifacts.get(original["id"])
    await cloud.artifacts.replace(artifact.id, artifact)
    expected = {k: v for k, v in original.items() if k not in RESPONSE_ONLY}
    assert (
        put.calls.last.request.content
        == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    )
    container = artifact.spec.primary
    assert container.security_context is not None
    assert container.security_context.capabilities is not None
    assert container.security_context.capabilities.drop == ["ALL"]
    assert (
        container.image_build_config
        == original["spec"]["containerGroups"][0]["containers"][0]["imageBuildConfig"]
    )
    assert artifact.type == "service"
    assert [v.env_name for v in container.variables][:2] == ["GH_TOKEN", "MODE"]


@pytest.mark.parametrize("path", WORKLOADS, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_a_workload_s_runtime_goes_into_a_create_unchanged_but_one_field(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, path: Path
) -> None:
    for original in workloads_in(load(path)):
        serve(cloud_mock, "current" if "containerGroups" in original["runtime"] else "v2.41")
        cloud_mock.get(url__regex=WORKLOAD_PATH.pattern).respond(json=original)
        post = cloud_mock.post(url__regex=WORKLOADS_PATH.pattern).respond(201, json=original)

        workload = await cloud.workloads.get(original["id"])
        runtime = workload.runtime
        assert runtime is not None
        expected = copy.deepcopy(original["runtime"])
        if runtime.container_groups:
            runtime.container_groups[0].replica_count = 3
            expected["containerGroups"][0]["replicaCount"] = 3
        else:
            runtime.replica_count = 3
            expected["replicaCount"] = 3
        await cloud.workloads.create(
            name="copy", artifact_id=original["artifactId"], runtime=runtime
        )
        body = sent(post)
        assert as_sent(body["runtime"]) == as_sent(expected)
        assert workload.status == original["status"]


@pytest.mark.parametrize("path", CREATE_BODIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_create_bodies_of_the_contract_are_sent_as_given(
    cloud: AsyncClient, cloud_mock: respx.MockRouter, path: Path
) -> None:
    body = load(path)
    serve(cloud_mock, "current")
    post = cloud_mock.post(url__regex=WORKLOADS_PATH.pattern).respond(
        201, json=load(FIXTURES.parent / "current" / "workload.json")
    )
    await cloud.workloads.create(body)
    assert as_sent(sent(post)) == as_sent(body)
    changed = {**body, "name": "renamed"}
    await cloud.workloads.create(changed)
    assert as_sent(sent(post)) == as_sent(changed)


async def test_a_spec_patch_of_the_contract_is_sent_as_given(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    body = load(FIXTURES.parent / "current" / "artifact-patch-spec.json")
    original = load(FIXTURES.parent / "current" / "artifact-draft.json")
    serve(cloud_mock, "current")
    patch = cloud_mock.patch(url__regex=ARTIFACT_PATH.pattern).respond(json=original)
    await cloud.artifacts.update(original["id"], body)
    assert as_sent(sent(patch)) == as_sent(body)


async def test_the_local_server_gets_back_what_it_sent_but_the_change(wl: AsyncClient) -> None:
    """GET → change one field → PUT against the real local server: the PUT body is the GET's
    input fields with that change, and the server stores exactly that."""
    credential = await wl.credentials.create(
        name="round-trip-token", credential_type=CredentialType.API_TOKEN, api_token="s3cr3t"
    )
    reference = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": credential.id,
        "key": "apiToken",
    }
    body = hello_spec(free_port(), "hi", livenessProbe=None)
    body["spec"]["containerGroups"][0]["containers"][0]["environmentVars"].append(reference)
    created = await wl.artifacts.create(body)
    read = await wl.artifacts.get(created.id)
    came = read.to_wire()

    bodies: list[bytes] = []

    async def capture(request: httpx.Request) -> None:
        if request.method == "PUT":
            bodies.append(await request.aread())

    wl._requester.http.event_hooks["request"].append(capture)
    read.spec.container_groups[0].containers[0].entrypoint = ["python", "-m", "other"]
    stored = await wl.artifacts.replace(read.id, read)

    expected = {k: v for k, v in copy.deepcopy(came).items() if k not in RESPONSE_ONLY}
    expected["spec"]["containerGroups"][0]["containers"][0]["entrypoint"] = [
        "python",
        "-m",
        "other",
    ]
    assert as_sent(json.loads(bodies[-1])) == as_sent(expected)
    assert as_sent(stored.spec.to_wire()) == as_sent(expected["spec"])
    variables = stored.spec.primary.to_wire()["environmentVars"]
    assert reference in variables, "the credential reference went back verbatim"
