"""The seed's iterate-then-deploy workflow written with the client, against a real local server
of each API generation (the test is the same program; only the generation-specific steps
differ): create with a credential reference, edit, apply, lock, production, the next version,
and production moved to it while an invoke loop runs (every answer 200, exactly one switch).

v2.41: PUT, stop + start, lock (``registered``), a deployment, a registered next version in the
collection, the deployment's rolling move. Current: PUT, a rolling settings update, promote (the
workload stays production), clone + lock, a rolling replacement."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from rollouttools import InvokeLoop, runs
from workloadlab.client import AsyncClient, Generation

from clienttools import FAST_POLLING
from harness import LocalServer, free_port, hello_spec, kill_marked, running_server

QUICK_READINESS = {"path": "/readyz", "initialDelaySeconds": 0, "periodSeconds": 1}
ARGUMENTS = {Generation.V2_41: [], Generation.CURRENT: ["--api", "current"]}


@pytest.fixture(scope="module", params=list(ARGUMENTS), ids=str)
def profile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Generation, LocalServer]]:
    """A local server of each generation (one per parameter)."""
    generation: Generation = request.param
    data_dir = tmp_path_factory.mktemp(f"server-{generation}")
    with running_server(data_dir, *ARGUMENTS[generation]) as started:
        yield generation, started
    kill_marked(data_dir)


def artifact(name: str, port: int, greeting: str, credential_id: str) -> dict[str, Any]:
    """The example app saying ``greeting``, with a ``dr-credential`` variable."""
    body = hello_spec(port, greeting, readinessProbe=QUICK_READINESS)
    container = body["spec"]["containerGroups"][0]["containers"][0]
    container["environmentVars"].append(
        {"source": "dr-credential", "name": "GH_TOKEN", "drCredentialId": credential_id,
         "key": "apiToken"}
    )  # fmt: skip
    return body | {"name": name}


async def test_iterate_then_deploy_with_the_client(
    profile: tuple[Generation, LocalServer],
) -> None:
    generation, server = profile
    v241 = generation is Generation.V2_41
    name, port = f"flow-{secrets.token_hex(4)}", free_port()
    async with AsyncClient(server.endpoint, server.token, polling=FAST_POLLING) as wl:
        assert await wl.generation() is generation
        credential = await wl.credentials.create(
            name=name, credential_type="api_token", api_token="ghp_" + secrets.token_hex(8)
        )

        async def greeting(path: str = "/") -> str:
            text: str = (await wl.workloads.invoke(workload.id, path)).json()["greeting"]
            return text

        # Iterate: create with an inline draft, edit it, apply the edit.
        workload = await wl.workloads.create(
            name=name, artifact=artifact(name, port, "one", credential.id)
        )
        await wl.workloads.wait_for_status(workload.id, "running", timeout=60)
        assert await greeting() == "one"
        assert workload.artifact_id is not None
        draft_id = workload.artifact_id
        await wl.artifacts.replace(draft_id, artifact(name, port, "two", credential.id))
        if v241:
            await wl.workloads.restart(workload.id, timeout=60)
        else:
            applied = await wl.workloads.update_settings(workload.id, timeout=60)
            assert applied.succeeded, applied
        assert await greeting() == "two"

        # Lock, and production.
        if v241:
            locked = await wl.artifacts.lock(draft_id)
            deployment = await wl.deployments.create(workload_id=workload.id, name=name)
            production = f"/endpoints/deployments/{deployment.id}/"
        else:
            promoted = await wl.workloads.promote(workload.id)
            assert promoted.artifact is not None
            locked = await wl.artifacts.get(draft_id)
            production = f"/endpoints/workloads/{workload.id}/"
        assert locked.is_registered
        assert locked.version == 1

        # The next version.
        if v241:
            body = artifact(name, port, "three", credential.id) | {"status": "registered"}
            following = await wl.artifacts.create(body)
        else:
            clone = await wl.artifacts.clone(draft_id, name=name)
            await wl.artifacts.replace(clone.id, artifact(name, port, "three", credential.id))
            following = await wl.artifacts.lock(clone.id)
        assert following.version == 2
        assert [v.version for v in await wl.artifacts.versions(following.id)] == [2, 1]

        # Production moves to it, rolling, while it is being called.
        with InvokeLoop(server, production) as calls:
            calls.wait_for(5)
            if v241:
                await wl.deployments.update(deployment.id, artifact_id=following.id)
                moved = await wl.deployments.wait_for_rollout(deployment.id, timeout=60)
                assert str(moved.status) == "completed", moved
            else:
                replaced = await wl.workloads.replace(workload.id, following.id, timeout=60)
                assert replaced.succeeded, replaced
            calls.wait_for(5)
        assert calls.failures() == []
        assert runs(calls.greetings()) == ["two", "three"]
