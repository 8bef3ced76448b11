"""The iterate-then-deploy workflow's steps, as each API generation spells them over HTTP.

v2.41 (``workload-api.md``): edit by ``PUT``, apply by stop + start, lock by registering,
production is a deployment, the next version is registered in the collection and the deployment
moves to it. Current (``workload-api-current.md`` §9): edit by ``PATCH`` of the spec, apply by
``PATCH …/settings`` (rolling), lock by promote, production is a workload of the locked artifact,
the next version is a clone, locked, and a replacement moves production to it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx

from currenttools import CURRENT, current_artifact, runtime, wait_for
from rollouttools import finished_rollout, move

from harness import hello_spec, wait_status, wait_until


def credential_variable(credential_id: str) -> dict[str, Any]:
    """A ``dr-credential`` variable of the credential's ``apiToken``."""
    return {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": credential_id,
        "key": "apiToken",
    }


def _set_greeting(artifact: dict[str, Any], greeting: str) -> dict[str, Any]:
    changed = copy.deepcopy(artifact)
    for variable in changed["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]:
        if variable.get("name") == "GREETING":
            variable["value"] = greeting
    return changed


@dataclass(frozen=True)
class Production:
    """Where production is invoked, and what moves it."""

    invoke_path: str
    handle: str


class V241:
    """The v2.41 generation: the seed's workflow."""

    args: list[str] = []
    workloads = "/console/workloads"
    artifacts = "/registry/artifacts"

    def artifact(self, port: int, greeting: str, credential_id: str) -> dict[str, Any]:
        spec = hello_spec(port, greeting)
        main = spec["spec"]["containerGroups"][0]["containers"][0]
        main["environmentVars"].append(credential_variable(credential_id))
        return spec

    def create(self, api: httpx.Client, name: str, artifact: dict[str, Any]) -> tuple[str, str]:
        answer = api.post(f"{self.workloads}/", json={"name": name, "artifact": artifact})
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "submitted"
        return answer.json()["id"], answer.json()["artifactId"]

    def wait(self, api: httpx.Client, workload_id: str, status: str) -> dict[str, Any]:
        return wait_status(api, workload_id, status, 30.0, collection=self.workloads)

    def edit(
        self, api: httpx.Client, artifact_id: str, artifact: dict[str, Any], greeting: str
    ) -> None:
        answer = api.put(f"{self.artifacts}/{artifact_id}", json=_set_greeting(artifact, greeting))
        assert answer.status_code == 200, answer.text

    def apply(self, api: httpx.Client, workload_id: str) -> None:
        assert api.post(f"{self.workloads}/{workload_id}/stop").status_code == 202
        self.wait(api, workload_id, "stopped")
        assert api.post(f"{self.workloads}/{workload_id}/start").status_code == 202
        self.wait(api, workload_id, "running")

    def lock(self, api: httpx.Client, workload_id: str, artifact_id: str) -> int:
        answer = api.patch(f"{self.artifacts}/{artifact_id}", json={"status": "registered"})
        assert answer.status_code == 200, answer.text
        version: int = answer.json()["version"]
        return version

    def production(self, api: httpx.Client, workload_id: str, locked_id: str) -> Production:
        body = {"workloadId": workload_id, "name": "hello-prod", "importance": "high"}
        answer = api.post("/console/deployments/", json=body)
        assert answer.status_code == 201, answer.text
        deployment_id = answer.json()["id"]
        return Production(f"/endpoints/deployments/{deployment_id}/", deployment_id)

    def next_version(
        self, api: httpx.Client, locked_id: str, artifact: dict[str, Any], greeting: str
    ) -> tuple[str, int]:
        body = {**_set_greeting(artifact, greeting), "status": "registered"}
        answer = api.post(f"{self.artifacts}/", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"], answer.json()["version"]

    def roll(self, api: httpx.Client, production: Production, artifact_id: str) -> None:
        move(api, production.handle, artifact_id)
        assert finished_rollout(api, production.handle)["status"] == "completed"


class Current:
    """The current generation: ``workload-api-current.md`` §9."""

    args = CURRENT
    workloads = "/workloads"
    artifacts = "/artifacts"

    def artifact(self, port: int, greeting: str, credential_id: str) -> dict[str, Any]:
        return current_artifact(port, greeting, env=[credential_variable(credential_id)])

    def create(self, api: httpx.Client, name: str, artifact: dict[str, Any]) -> tuple[str, str]:
        body = {"name": name, "artifact": artifact, "runtime": runtime(cpu=1, memory="512MB")}
        answer = api.post(f"{self.workloads}/", json=body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["status"] == "submitted"
        return answer.json()["id"], answer.json()["artifactId"]

    def wait(self, api: httpx.Client, workload_id: str, status: str) -> dict[str, Any]:
        return wait_for(api, workload_id, status)

    def edit(
        self, api: httpx.Client, artifact_id: str, artifact: dict[str, Any], greeting: str
    ) -> None:
        spec = _set_greeting(artifact, greeting)["spec"]
        answer = api.patch(f"{self.artifacts}/{artifact_id}", json={"spec": spec})
        assert answer.status_code == 200, answer.text

    def _settled(self, api: httpx.Client, workload_id: str) -> dict[str, Any]:
        wait_until(lambda: api.get(f"{self.workloads}/{workload_id}").json()["replacement"] is None)
        newest: dict[str, Any] = api.get(f"{self.workloads}/{workload_id}/history").json()["data"][
            0
        ]
        return newest

    def apply(self, api: httpx.Client, workload_id: str) -> None:
        settings = api.get(f"{self.workloads}/{workload_id}/settings").json()
        answer = api.patch(f"{self.workloads}/{workload_id}/settings", json=settings)
        assert answer.status_code == 202, answer.text
        assert self._settled(api, workload_id)["status"] == "completed"

    def lock(self, api: httpx.Client, workload_id: str, artifact_id: str) -> int:
        answer = api.post(f"{self.workloads}/{workload_id}/promote")
        assert answer.status_code == 202, answer.text
        assert answer.json()["artifact"]["status"] == "locked"
        version: int = answer.json()["artifact"]["version"]
        return version

    def production(self, api: httpx.Client, workload_id: str, locked_id: str) -> Production:
        # Locally the development workload holds the spec's port: production takes it over.
        assert api.post(f"{self.workloads}/{workload_id}/stop").status_code in (200, 202)
        self.wait(api, workload_id, "stopped")
        body = {
            "name": "hello-prod",
            "importance": "high",
            "artifactId": locked_id,
            "runtime": runtime(cpu=1, memory="512MB"),
        }
        answer = api.post(f"{self.workloads}/", json=body)
        assert answer.status_code == 201, answer.text
        production_id = answer.json()["id"]
        self.wait(api, production_id, "running")
        return Production(f"/endpoints/workloads/{production_id}/", production_id)

    def next_version(
        self, api: httpx.Client, locked_id: str, artifact: dict[str, Any], greeting: str
    ) -> tuple[str, int]:
        clone = api.post(f"{self.artifacts}/{locked_id}/clone", json={"name": artifact["name"]})
        assert clone.status_code == 200, clone.text
        clone_id = clone.json()["id"]
        self.edit(api, clone_id, artifact, greeting)
        locked = api.patch(f"{self.artifacts}/{clone_id}", json={"status": "locked"})
        assert locked.status_code == 200, locked.text
        return clone_id, locked.json()["version"]

    def roll(self, api: httpx.Client, production: Production, artifact_id: str) -> None:
        body = {"artifactId": artifact_id, "strategy": "rolling"}
        answer = api.post(f"{self.workloads}/{production.handle}/replacement", json=body)
        assert answer.status_code == 202, answer.text
        assert self._settled(api, production.handle)["status"] == "completed"


GENERATIONS = {"v2.41": V241(), "current": Current()}
"""Each generation's way of doing the workflow's steps, by its ``--api`` name."""
