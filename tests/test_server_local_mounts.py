"""The local server's own extensions for live sync, in both API generations: ``GET
/localServer`` (who answers) and a container's ``localMounts``, kept on drafts and refused on a
registered (locked) artifact with the field's path, nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from workloadlab import __version__

from harness import free_port, hello_spec

MOUNTS = [{"source": "/srv/app", "target": "/app"}]
AT = ["containerGroups", 0, "containers", 0, "localMounts"]


def _mounted(artifact: dict[str, Any]) -> dict[str, Any]:
    artifact["spec"]["containerGroups"][0]["containers"][0]["localMounts"] = MOUNTS
    return artifact


def _v241() -> dict[str, Any]:
    return _mounted(hello_spec(free_port()))


def _current() -> dict[str, Any]:
    artifact = _v241()
    artifact["spec"]["containerGroups"][0]["name"] = "default"
    return artifact


def _locations(answer: httpx.Response) -> list[list[Any]]:
    assert answer.status_code == 422, answer.text
    return [error["loc"] for error in answer.json()["detail"]]


def test_each_generation_says_who_answers(api: httpx.Client, capi: httpx.Client) -> None:
    for client, generation in ((api, "v2.41"), (capi, "current")):
        identity = client.get("/localServer").json()
        assert identity["name"] == "workloadlab"
        assert identity["version"] == __version__
        assert identity["api"] == generation
        assert identity["runtime"] == "process"
        assert identity["workingDir"].startswith("/")
    assert api.get("/localServer", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_draft_keeps_its_local_mounts(api: httpx.Client, capi: httpx.Client) -> None:
    for client, path, artifact in (
        (api, "/registry/artifacts/", _v241()),
        (capi, "/artifacts/", _current()),
    ):
        created = client.post(path, json=artifact)
        assert created.status_code == 201, created.text
        container = created.json()["spec"]["containerGroups"][0]["containers"][0]
        (mount,) = container["localMounts"]
        assert mount["source"] == "/srv/app"
        assert mount["target"] == "/app"
        assert mount.get("readOnly", True) is True, "read-only unless told otherwise"
        client.delete(f"{path}{created.json()['id']}")


def test_a_mount_must_name_absolute_paths(api: httpx.Client) -> None:
    artifact = _v241()
    artifact["spec"]["containerGroups"][0]["containers"][0]["localMounts"] = [
        {"source": "app", "target": "/app"}
    ]
    locations = _locations(api.post("/registry/artifacts/", json=artifact))
    assert ["body", "spec", *AT, 0, "source"] in locations


@pytest.mark.parametrize("generation", ["v2.41", "current"])
def test_registering_an_artifact_with_local_mounts_is_refused(
    generation: str, api: httpx.Client, capi: httpx.Client
) -> None:
    client, path, artifact, word = (
        (api, "/registry/artifacts/", _v241(), "registered")
        if generation == "v2.41"
        else (capi, "/artifacts/", _current(), "locked")
    )
    before = client.get(path).json()["totalCount"]
    answer = client.post(path, json={**artifact, "status": word})
    assert _locations(answer) == [["body", "spec", *AT]]
    assert "cannot have localMounts" in answer.text
    assert client.get(path).json()["totalCount"] == before, "nothing stored"

    draft = client.post(path, json=artifact).json()
    answer = client.patch(f"{path}{draft['id']}", json={"status": word})
    assert _locations(answer) == [["spec", *AT]]
    assert client.get(f"{path}{draft['id']}").json()["status"] == "draft"
    client.delete(f"{path}{draft['id']}")
