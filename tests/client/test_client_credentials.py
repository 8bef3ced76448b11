"""``client.credentials`` against the real local server, and DataRobot's shape of its answers."""

from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import ValidationError

from workloadlab import errors
from workloadlab.client import AsyncClient
from workloadlab.models import Credential, CredentialType
from workloadlab.models.neutral import CredentialVariable

from harness import free_port

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
APP = str(Path(__file__).parent.parent / "secret_app.py")


def unique(name: str) -> str:
    """Credential names are unique on a server that the module's tests share."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def test_create_list_get_delete(wl: AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name = unique("gh")
    created = await wl.credentials.create(
        name=name, credential_type="api_token", api_token=SECRET, description="GitHub"
    )
    assert isinstance(created, Credential)
    assert (created.name, created.credential_type) == (name, "api_token")
    assert created.description == "GitHub"
    assert created.keys == ["apiToken"]
    assert created.created_at is not None

    other = await wl.credentials.create(
        {"name": unique("db"), "credentialType": "basic", "user": "app", "password": SECRET}
    )
    assert other.keys == ["password", "user"]
    listed = [c.id async for c in wl.credentials.list()]
    assert listed[:2] == [other.id, created.id]
    basic = [c.id async for c in wl.credentials.list(types=CredentialType.BASIC)]
    assert other.id in basic
    assert created.id not in basic
    assert await wl.credentials.get(created.id) == created

    await wl.credentials.delete(created.id)
    with pytest.raises(errors.NotFoundError):
        await wl.credentials.get(created.id)
    assert SECRET not in caplog.text + repr(created) + repr(other)


async def test_mistakes_are_caught_before_sending_or_answered(wl: AsyncClient) -> None:
    with pytest.raises(ValidationError) as caught:
        await wl.credentials.create(name=unique("x"), credential_type="api_token", token=SECRET)
    assert SECRET not in str(caught.value)
    with pytest.raises(ValidationError):
        await wl.credentials.create(name=unique("x"), credential_type="kerberos", token=SECRET)
    with pytest.raises(TypeError, match="either a body or keyword arguments"):
        await wl.credentials.create({"name": "x"}, name="y")

    name = unique("twice")
    await wl.credentials.create(name=name, credential_type="bearer", token=SECRET)
    with pytest.raises(errors.ConflictError, match="already exists") as conflict:
        await wl.credentials.create(name=name, credential_type="bearer", token=SECRET)
    assert SECRET not in str(conflict.value) + repr(conflict.value)


async def test_a_reference_survives_get_then_replace(wl: AsyncClient) -> None:
    """The client reads an artifact with a reference and PUTs it back: the reference is sent
    as it was, and the app gets the value."""
    credential = await wl.credentials.create(
        name=unique("gh"), credential_type="api_token", api_token=SECRET
    )
    variable = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": credential.id,
        "key": "apiToken",
    }
    primary = {
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": free_port(),
        "entrypoint": [sys.executable, APP],
        "environmentVars": [variable],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
    }
    artifact = {"name": unique("app"), "spec": {"containerGroups": [{"containers": [primary]}]}}
    workload = await wl.workloads.create(name="with-secret", artifact=artifact)
    assert workload.artifact_id is not None
    read = await wl.artifacts.get(workload.artifact_id)
    assert read.spec.primary.environment_vars == [CredentialVariable.model_validate(variable)]
    replaced = await wl.artifacts.replace(read.id, read)
    assert replaced.spec == read.spec
    await wl.workloads.wait_for_status(workload.id, "running", timeout=30)
    answer = (await wl.workloads.invoke(workload.id)).json()
    assert answer["secretSha256"] is not None
    await wl.workloads.delete(workload.id)


async def test_datarobots_answers_are_read(
    cloud: AsyncClient, cloud_mock: respx.MockRouter
) -> None:
    """DataRobot says ``credentialId`` and ``creationDate``, and has more types and fields."""
    answer = {
        "credentialId": "5e429d6ecf8a5f36c5693e0f",
        "name": "my_db_cred",
        "credentialType": "snowflake_oauth_user_account",
        "description": None,
        "creationDate": "2019-08-24T14:15:22Z",
    }
    cloud_mock.get("/credentials/5e429d6ecf8a5f36c5693e0f/").respond(200, json=answer)
    route = cloud_mock.post("/credentials/").respond(201, json={**answer, "name": "gh"})
    page = {"count": 1, "totalCount": 1, "next": None, "previous": None, "data": [answer]}
    cloud_mock.get("/credentials/").respond(200, json=page)

    got = await cloud.credentials.get("5e429d6ecf8a5f36c5693e0f")
    assert (got.id, got.credential_type, got.keys) == (
        "5e429d6ecf8a5f36c5693e0f",
        "snowflake_oauth_user_account",
        [],
    )
    assert [c.id async for c in cloud.credentials.list()] == [got.id]
    await cloud.credentials.create(name="gh", credential_type="api_token", api_token=SECRET)
    sent = route.calls.last.request
    assert httpx.Response(200, content=sent.content).json() == {
        "name": "gh",
        "credentialType": "api_token",
        "apiToken": SECRET,
    }
