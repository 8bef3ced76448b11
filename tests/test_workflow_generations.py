"""The iterate-then-deploy workflow against a real local server of each API generation
(``--api v2.41`` and ``--api current``), over HTTP: create with an inline draft holding a
credential reference, edit, apply the edit, lock, production, the next version rolled into
production with an invoke loop running (every answer ``200``, exactly one switch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generations import GENERATIONS, V241, Current
from rollouttools import InvokeLoop, runs

from harness import free_port, running_server

SECRET = "ghp-workflow-secret-value"


@pytest.mark.parametrize("api_generation", list(GENERATIONS))
def test_iterate_then_deploy(api_generation: str, data_dir: Path) -> None:
    generation: V241 | Current = GENERATIONS[api_generation]
    with running_server(data_dir, *generation.args) as server, server.client() as api:
        credential = {"name": "gh", "credentialType": "api_token", "apiToken": SECRET}
        credential_id = api.post("/credentials/", json=credential).json()["id"]
        artifact = generation.artifact(free_port(), "draft", credential_id)

        # 1. Create with an inline draft; it runs and answers.
        workload_id, artifact_id = generation.create(api, "hello", artifact)
        generation.wait(api, workload_id, "running")
        invoke = f"/endpoints/workloads/{workload_id}/"
        assert api.get(invoke).json()["greeting"] == "draft"

        # 2. Edit the draft: a running workload does not pick it up by itself.
        generation.edit(api, artifact_id, artifact, "edited")
        assert api.get(invoke).json()["greeting"] == "draft"

        # 3. Apply the edit.
        generation.apply(api, workload_id)
        assert api.get(invoke).json()["greeting"] == "edited"

        # 4. Lock: version 1.
        assert generation.lock(api, workload_id, artifact_id) == 1

        # 5. Production, serving the locked version.
        production = generation.production(api, workload_id, artifact_id)
        assert api.get(production.invoke_path).json()["greeting"] == "edited"

        # 6. The next version, rolled into production while it is being called.
        next_id, version = generation.next_version(api, artifact_id, artifact, "v2")
        assert version == 2
        with InvokeLoop(server, production.invoke_path) as calls:
            calls.wait_for(10)
            generation.roll(api, production, next_id)
            calls.wait_for(10)
        assert calls.failures() == [], calls.failures()[:3]
        assert runs(calls.greetings()) == ["edited", "v2"], "exactly one switch"

        # The credential's value is in no artifact; its reference is kept as written.
        for locked in (artifact_id, next_id):
            shown = api.get(f"{generation.artifacts}/{locked}").text
            assert SECRET not in shown
            assert credential_id in shown
