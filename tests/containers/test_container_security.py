"""A current-generation container's ``securityContext`` becomes its container's host config:
``allowPrivilegeEscalation: false`` → ``no-new-privileges``, capabilities → ``CapAdd`` /
``CapDrop``, ``readOnlyRootFilesystem`` → ``ReadonlyRootfs``, an ``Unconfined`` seccomp profile →
``seccomp=unconfined``, in every replica and in a replacement's candidates; ``RuntimeDefault``
and ``Localhost`` keep the engine's default profile. A v2.41 workload's containers get nothing
(the same security settings as their sandbox, which is created without any)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from currenttools import CURRENT, create, runtime, wait_for
from workloadlab.server.runtimes.container.engine import Engine

from containertools import busybox_spec, containers_of, remove_containers, running_containers_of
from harness import LocalServer, create_workload, free_port, running_server, wait_status, wait_until

CONTAINER_ARGS = ("--runtime", "container")
SECURITY_FIELDS = ("SecurityOpt", "CapAdd", "CapDrop", "ReadonlyRootfs")
"""What a ``securityContext`` sets in an inspect document's ``HostConfig``."""
FROM_SHM = [
    "/bin/sh",
    "-c",
    "sed 's#/www#/dev/shm/www#g; s#/probe#/dev/shm/probe#g' /entrypoint.sh >/dev/shm/serve.sh"
    " && exec /bin/sh /dev/shm/serve.sh serve",
]
"""The test image's server with its files in ``/dev/shm`` (a tmpfs every engine mounts): it
writes its pages to ``/www`` at start, which a read-only root file system refuses."""
LOCKED_DOWN = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD", "NET_RAW"]},
    "readOnlyRootFilesystem": True,
    "seccompProfile": {"type": "Unconfined"},
}


@pytest.fixture(scope="module")
def current_server(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine
) -> Iterator[LocalServer]:
    """One ``--api current`` container-runtime server for the module's tests."""
    data_dir = tmp_path_factory.mktemp("current-container-server")
    with running_server(data_dir, *CURRENT, *CONTAINER_ARGS) as started:
        yield started
    remove_containers(engine, data_dir)


def security_of(engine: Engine, container_id: str) -> dict[str, Any]:
    """The security settings in a container's ``HostConfig``."""
    host = (engine.inspect(container_id) or {})["HostConfig"]
    return {name: host.get(name) for name in SECURITY_FIELDS}


def current_busybox(**main: Any) -> dict[str, Any]:
    """An ``InputArtifact`` of the test image, its primary container named ``main``."""
    artifact = busybox_spec(free_port(), readinessProbe={"path": "/readyz", "periodSeconds": 1})
    group = artifact["spec"]["containerGroups"][0]
    group["name"] = "default"
    group["containers"][0].update({"name": "main", **main})
    return artifact


def assert_locked_down(security: dict[str, Any]) -> None:
    """``LOCKED_DOWN`` as the engine applied it (``CapDrop``: at least the dropped ones)."""
    assert "no-new-privileges" in security["SecurityOpt"]
    assert "seccomp=unconfined" in security["SecurityOpt"]
    assert security["CapAdd"] == ["NET_ADMIN"]
    assert {"MKNOD", "NET_RAW"} <= set(security["CapDrop"])
    assert security["ReadonlyRootfs"] is True


def test_the_security_context_reaches_every_replica_and_a_replacement(
    current_server: LocalServer, engine: Engine
) -> None:
    server, data_dir = current_server, current_server.data_dir
    with server.client() as api:
        artifact = current_busybox(securityContext=LOCKED_DOWN, entrypoint=FROM_SHM)
        workload = create(api, "locked-down", {"artifact": artifact, "runtime": runtime(2)})
        workload_id = workload["id"]
        wait_for(api, workload_id, "running", timeout=60)
        replicas = running_containers_of(engine, data_dir, workload_id)
        assert len(replicas) == 2
        for container_id in replicas:
            assert_locked_down(security_of(engine, container_id))
        answer = api.get(f"/endpoints/workloads/{workload_id}/")
        assert answer.status_code == 200, answer.text  # it runs with its root read-only
        assert answer.json()["greeting"] == "hello"

        edited = copy.deepcopy(artifact["spec"])
        edited["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = "new"
        assert api.patch(f"/artifacts/{workload['artifactId']}", json={"spec": edited}).is_success
        settings = api.get(f"/workloads/{workload_id}/settings").json()
        assert api.patch(f"/workloads/{workload_id}/settings", json=settings).is_success
        wait_until(
            lambda: api.get(f"/workloads/{workload_id}").json()["replacement"] is None, timeout=90
        )
        wait_until(lambda: len(running_containers_of(engine, data_dir, workload_id)) == 2)
        candidates = running_containers_of(engine, data_dir, workload_id)
        assert not set(candidates) & set(replicas)
        for container_id in candidates:
            assert_locked_down(security_of(engine, container_id))
        assert api.get(f"/endpoints/workloads/{workload_id}/").json()["greeting"] == "new"
        assert api.delete(f"/workloads/{workload_id}").status_code == 204


def test_runtime_default_and_localhost_seccomp_keep_the_engine_s_profile(
    current_server: LocalServer, engine: Engine
) -> None:
    server, data_dir = current_server, current_server.data_dir
    with server.client() as api:
        artifact = current_busybox(
            securityContext={
                "allowPrivilegeEscalation": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            }
        )
        sidecar = {
            "name": "helper",
            "imageUri": artifact["spec"]["containerGroups"][0]["containers"][0]["imageUri"],
            "entrypoint": ["sleep", "3600"],
            "securityContext": {
                "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/audit.json"}
            },
        }
        artifact["spec"]["containerGroups"][0]["containers"].append(sidecar)
        workload = create(api, "engine-defaults", {"artifact": artifact})
        workload_id = workload["id"]
        wait_for(api, workload_id, "running", timeout=60)
        containers = running_containers_of(engine, data_dir, workload_id)
        assert len(containers) == 2
        everything = running_containers_of(engine, data_dir, workload_id, sandboxes=True)
        (sandbox,) = set(everything) - set(containers)
        for container_id in containers:
            assert security_of(engine, container_id) == security_of(engine, sandbox)
        stored = api.get(f"/artifacts/{workload['artifactId']}").json()["spec"]
        assert (
            stored["containerGroups"][0]["containers"][1]["securityContext"]
            == (sidecar["securityContext"])
        )
        assert api.delete(f"/workloads/{workload_id}").status_code == 204


def test_a_v2_41_workload_s_containers_are_unchanged(server: LocalServer, engine: Engine) -> None:
    with server.client() as api:
        workload_id = create_workload(api, "plain", busybox_spec(free_port()))
        wait_status(api, workload_id, "running", timeout=60)
        (container,) = running_containers_of(engine, server.data_dir, workload_id)
        (sandbox,) = set(containers_of(engine, server.data_dir, workload_id)) - {container}
        security = security_of(engine, container)
        assert security == security_of(engine, sandbox)
        assert security["ReadonlyRootfs"] is False
        assert not security["CapAdd"]
        assert "no-new-privileges" not in (security["SecurityOpt"] or [])
        assert api.delete(f"/console/workloads/{workload_id}").status_code == 204
