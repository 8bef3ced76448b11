"""The current API generation with the container runtime: a workload whose spec carries what
only that generation has (a named group, ``securityContext``, a memory string in its runtime)
runs in a real container, rolls onto an edit through ``PATCH …/settings`` answering
throughout, and is promoted in place."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from currenttools import CURRENT, create, runtime, wait_for
from rollouttools import InvokeLoop, runs
from workloadlab.server.runtimes.container.engine import Engine

from containertools import busybox_spec, running_containers_of
from harness import free_port, running_server, wait_until

CONTAINER_ARGS = ("--runtime", "container")


def current_busybox(port: int, greeting: str) -> dict[str, Any]:
    """:func:`containertools.busybox_spec` in the current generation's words."""
    spec = busybox_spec(port, greeting)
    main = spec["spec"]["containerGroups"][0]["containers"][0]
    main["name"] = "main"
    main["readinessProbe"] = {"path": "/readyz", "initialDelaySeconds": 0, "periodSeconds": 1}
    main["securityContext"] = {"allowPrivilegeEscalation": False}
    spec["spec"]["containerGroups"][0]["name"] = "default"
    return spec


def limits(engine: Engine, container_id: str) -> tuple[int, int]:
    """The CPU (nano-CPUs) and memory (bytes) limits the engine gave a container."""
    host = (engine.inspect(container_id) or {})["HostConfig"]
    return host["NanoCpus"], host["Memory"]


def test_current_generation_in_containers(data_dir: Path, engine: Engine) -> None:
    with running_server(data_dir, *CURRENT, *CONTAINER_ARGS) as server, server.client() as api:
        artifact = current_busybox(free_port(), "old")
        body = {"artifact": artifact, "runtime": runtime(memory="256MB", cpu=0.5)}
        workload = create(api, "boxed", body)
        workload_id = workload["id"]
        wait_for(api, workload_id, "running", timeout=60)
        (container,) = running_containers_of(engine, data_dir, workload_id)
        assert limits(engine, container) == (500_000_000, 256_000_000)
        stored = api.get(f"/artifacts/{workload['artifactId']}").json()["spec"]
        assert stored["containerGroups"][0]["containers"][0]["securityContext"] == {
            "allowPrivilegeEscalation": False
        }

        edited = copy.deepcopy(artifact["spec"])
        edited["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = "new"
        assert api.patch(f"/artifacts/{workload['artifactId']}", json={"spec": edited}).is_success
        settings = api.get(f"/workloads/{workload_id}/settings").json()
        with InvokeLoop(server, f"/endpoints/workloads/{workload_id}/") as calls:
            calls.wait_for(10)
            assert api.patch(f"/workloads/{workload_id}/settings", json=settings).is_success
            wait_until(
                lambda: api.get(f"/workloads/{workload_id}").json()["replacement"] is None,
                timeout=60,
            )
            calls.wait_for(10)
        assert calls.failures() == []
        assert runs(calls.greetings()) == ["old", "new"]
        history = api.get(f"/workloads/{workload_id}/history").json()["data"]
        assert history[0]["status"] == "completed"
        wait_until(lambda: len(running_containers_of(engine, data_dir, workload_id)) == 1)
        (candidate,) = running_containers_of(engine, data_dir, workload_id)
        assert candidate != container
        assert limits(engine, candidate) == (500_000_000, 256_000_000)

        promoted = api.post(f"/workloads/{workload_id}/promote")
        assert promoted.status_code == 202, promoted.text
        assert promoted.json()["artifact"]["version"] == 1
        assert api.delete(f"/workloads/{workload_id}").status_code == 204
        wait_until(lambda: not running_containers_of(engine, data_dir, workload_id))
