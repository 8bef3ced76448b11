"""A rolling change with the container runtime: two sandboxes of one workload side by side, the
endpoint answering throughout, and no container left of the old instance."""

from __future__ import annotations

from rollouttools import InvokeLoop, collection_name, deploy, finished_rollout, move, register, runs
from workloadlab.server.runtimes.container.engine import Engine

from containertools import busybox_spec, running_containers_of
from harness import LocalServer, free_port, wait_until


def both_running(engine: Engine, server: LocalServer, workload_id: str) -> list[str] | None:
    """The running containers of a workload (sandboxes too) once two apps run."""
    if len(running_containers_of(engine, server.data_dir, workload_id)) < 2:
        return None
    return running_containers_of(engine, server.data_dir, workload_id, sandboxes=True)


def test_a_rollback_with_containers_switches_once_and_answers_throughout(
    server: LocalServer, engine: Engine
) -> None:
    with server.client() as api:
        name, port = collection_name(), free_port()
        old = register(api, busybox_spec(port, "old", env={"STARTUP_DELAY": "1"}), name)
        new = register(api, busybox_spec(port, "new"), name)
        workload_id, deployment_id = deploy(api, new["id"])
        (first,) = running_containers_of(engine, server.data_dir, workload_id)

        with InvokeLoop(server, f"/endpoints/deployments/{deployment_id}/") as calls:
            calls.wait_for(10)
            move(api, deployment_id, old["id"])
            # Both run at once (the new one is ready after 1 s), each in a sandbox of its own
            # that publishes the same container port.
            running = wait_until(lambda: both_running(engine, server, workload_id))
            assert len(running) == 4, "two apps, two sandboxes"
            done = finished_rollout(api, deployment_id)
            calls.wait_for(10)

        assert done["status"] == "completed", done
        assert calls.failures() == [], calls.failures()[:3]
        assert runs(calls.greetings()) == ["new", "old"]
        assert api.get(f"/console/deployments/{deployment_id}/").json()["artifactId"] == old["id"]
        wait_until(lambda: first not in running_containers_of(engine, server.data_dir, workload_id))
        (serving,) = running_containers_of(engine, server.data_dir, workload_id)
        assert serving != first


def test_a_container_that_exits_at_once_abandons_the_change(
    server: LocalServer, engine: Engine
) -> None:
    with server.client() as api:
        name, port = collection_name(), free_port()
        steady = register(api, busybox_spec(port, "steady"), name)
        failing = busybox_spec(port, entrypoint=["/bin/sh", "/entrypoint.sh", "exit", "3"])
        broken = register(api, failing, name)
        workload_id, deployment_id = deploy(api, steady["id"])

        with InvokeLoop(server, f"/endpoints/deployments/{deployment_id}/") as calls:
            move(api, deployment_id, broken["id"])
            abandoned = finished_rollout(api, deployment_id)
            calls.wait_for(5)

        assert abandoned["status"] == "abandoned"
        assert abandoned["message"] == (
            "the new instance's container exited with status 3 before it became ready"
        )
        assert calls.failures() == []
        assert runs(calls.greetings()) == ["steady"]
        assert len(running_containers_of(engine, server.data_dir, workload_id)) == 1
