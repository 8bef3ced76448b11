"""The server's lifecycle with ``--runtime container``, against real containers.

The runtime-agnostic lifecycle tests of the process runtime run here unchanged, with the test
image's spec in place of the example app's (:func:`containertools.busybox_spec` answers the
same routes); then the cases only containers have: images, limits, labels, published ports.
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import test_server_lifecycle_failures as failures
import test_server_workflow as workflow
from workloadlab.server.runtimes import data_dir_id
from workloadlab.server.runtimes.container.engine import Engine
from workloadlab.server.runtimes.container.runtime import (
    LABEL_CONTAINER,
    LABEL_DATA_DIR,
    LABEL_ROLE,
    LABEL_WORKLOAD,
)

from containertools import apps_of, busybox_spec, image_ref, running_containers_of
from harness import LocalServer, create_workload, free_port, wait_status, wait_until

SHARED = [
    workflow.test_seed_workflow,
    workflow.test_start_and_stop_are_idempotent_and_guarded,
    failures.test_process_that_exits_at_once_is_errored_with_its_last_words,
    failures.test_startup_probe_exhaustion_is_errored,
    failures.test_startup_probe_gates_readiness,
    failures.test_liveness_failure_restarts_with_backoff,
]
"""The process runtime's lifecycle tests that hold for every runtime. (Its crash-loop test
also wants each gap between restarts longer than the one before; container starts vary by
more than the 0.2 s the backoff adds each time, so ``test_crash_loop_backs_off`` below checks
that each gap is at least its delay instead.)"""


@pytest.mark.parametrize("shared", SHARED, ids=lambda test: test.__name__)
def test_shared_lifecycle(
    shared: Callable[..., None],
    server: LocalServer,
    api: httpx.Client,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module in (workflow, failures):
        monkeypatch.setattr(module, "hello_spec", busybox_spec)
    fixtures = {"server": server, "api": api}
    shared(*(fixtures[name] for name in inspect.signature(shared).parameters))
    # Whatever the test left stopped, errored or deleted has no container left running.
    running = {
        workload["id"]
        for workload in api.get("/console/workloads/").json()["data"]
        if workload["status"] in ("running", "initializing")
    }
    for container_id in running_containers_of(engine, server.data_dir):
        info = engine.inspect(container_id)
        assert info is not None
        assert info["Config"]["Labels"][LABEL_WORKLOAD] in running


@pytest.mark.slow
def test_crash_loop_backs_off(api: httpx.Client) -> None:
    artifact = busybox_spec(
        free_port(),
        entrypoint=["sh", "-c", "echo up; sleep 0.2; echo 'crashed' >&2; exit 1"],
        readinessProbe=None,
    )
    workload_id = create_workload(api, "crashy", artifact)
    errored = wait_status(api, workload_id, "errored", timeout=30)
    assert errored["restartCount"] == 3
    assert errored["statusDetails"]["exitCode"] == 1
    assert (
        "the container exited with status 1; gave up after 3 restarts"
        in (errored["statusDetails"]["message"])
    )
    events = failures._status_events(api, workload_id)
    delays = [
        float(e["details"]["message"].rsplit("restarting in ", 1)[1].removesuffix(" s"))
        for e in events
        if "restarting in" in e["details"].get("message", "")
    ]
    assert delays == [0.2, 0.4, 0.8]
    starts = [
        dt.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        for e in events
        if e["details"]["to"] == "running"
    ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(gaps) == 3
    for gap, delay in zip(gaps, delays, strict=True):
        assert gap >= delay + 0.2, (gaps, delays)  # the delay, plus the 0.2 s it ran


def _inspect(engine: Engine, container_id: str, workload_id: str, role: str) -> dict[str, Any]:
    info = engine.inspect(container_id)
    assert info is not None
    assert info["Config"]["Labels"][LABEL_WORKLOAD] == workload_id
    assert info["Config"]["Labels"][LABEL_ROLE] == role
    return info


def _containers(
    engine: Engine, server: LocalServer, workload_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inspect documents of a running workload's primary container and its sandbox."""
    (primary,) = wait_until(lambda: running_containers_of(engine, server.data_dir, workload_id))
    every = running_containers_of(engine, server.data_dir, workload_id, sandboxes=True)
    (sandbox,) = set(every) - {primary}
    return (
        _inspect(engine, primary, workload_id, "primary"),
        _inspect(engine, sandbox, workload_id, "sandbox"),
    )


def test_missing_image_is_errored_at_once(api: httpx.Client) -> None:
    image = "registry.invalid/workloadlab/no-such-image:1"
    began = time.monotonic()
    workload_id = create_workload(api, "no-image", busybox_spec(free_port(), imageUri=image))
    errored = wait_status(api, workload_id, "errored", timeout=30)
    assert time.monotonic() - began < 15, "a missing image must not hang the start"
    message = errored["statusDetails"]["message"]
    assert f"image '{image}' is not available locally and could not be pulled" in message
    assert "registry.invalid" in message.split("pulled:", 1)[1], "the registry's answer"


def test_spec_maps_to_the_container(api: httpx.Client, server: LocalServer, engine: Engine) -> None:
    port = free_port()
    artifact = busybox_spec(
        port,
        "mapped",
        env={"EXTRA": "x y"},
        entrypoint=["/bin/sh", "/entrypoint.sh", "log", "entrypoint ran"],
        resourceRequest={"cpu": 0.5, "memory": 64 * 1024 * 1024},
    )
    workload_id = create_workload(api, "mapped", artifact)
    wait_status(api, workload_id, "running")
    info, sandbox = _containers(engine, server, workload_id)
    config, host = info["Config"], info["HostConfig"]
    # The entrypoint replaces the image's entrypoint *and* its command ("serve").
    assert config["Entrypoint"] == ["/bin/sh", "/entrypoint.sh", "log", "entrypoint ran"]
    assert not config["Cmd"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["PORT"] == str(port)
    assert env["GREETING"] == "mapped"
    assert env["EXTRA"] == "x y"
    assert env["WORKLOAD_ID"] == workload_id
    assert host["NanoCpus"] == 500_000_000
    assert host["Memory"] == 64 * 1024 * 1024
    labels = config["Labels"]
    assert labels[LABEL_DATA_DIR] == data_dir_id(server.data_dir)
    assert labels[LABEL_CONTAINER] == "primary"
    # The sandbox holds the network (the primary joined it) and publishes the port on a free
    # loopback port.
    assert host["NetworkMode"] == f"container:{sandbox['Id']}"
    assert sandbox["HostConfig"]["NanoCpus"] == 0, "limits are the workload's, not the sandbox's"
    (binding,) = sandbox["NetworkSettings"]["Ports"][f"{port}/tcp"]
    assert binding["HostIp"] == "127.0.0.1"
    assert int(binding["HostPort"]) != port, "published on a free host port, not the same one"
    # Probes and the invoke proxy reach it through that port.
    invoked = api.get(f"/endpoints/workloads/{workload_id}/")
    assert invoked.json() == {"greeting": "mapped", "workloadId": workload_id, "port": port}
    logs_url = f"/otel/workload/{workload_id}/logs/"
    records = wait_until(lambda: len(api.get(logs_url).json()["data"]) >= 3 and api.get(logs_url))
    by_message = {r["message"]: r for r in records.json()["data"]}
    assert by_message["entrypoint ran"]["stream"] == "stdout"
    assert by_message["entrypoint ran"]["level"] == "info"
    assert by_message["WARNING: this is a test image"]["level"] == "warning"
    assert by_message["WARNING: this is a test image"]["stream"] == "stderr"
    assert by_message["entrypoint ran"]["containerName"] == "primary"
    assert api.delete(f"/console/workloads/{workload_id}").status_code == 204
    wait_until(lambda: apps_of(engine, server.data_dir, workload_id) == [])


def test_a_probe_port_other_than_the_primary_port_is_published(
    api: httpx.Client, server: LocalServer, engine: Engine
) -> None:
    # /readyz is served on PROBE_PORT only: the workload gets ready only if that port is
    # published and the probe uses it.
    probe_port = free_port()
    artifact = busybox_spec(
        free_port(),
        env={"PROBE_PORT": str(probe_port)},
        readinessProbe={"path": "/readyz", "port": probe_port, "periodSeconds": 1},
    )
    workload_id = create_workload(api, "probe-port", artifact)
    wait_status(api, workload_id, "running")
    _, sandbox = _containers(engine, server, workload_id)
    (binding,) = sandbox["NetworkSettings"]["Ports"][f"{probe_port}/tcp"]
    assert binding["HostIp"] == "127.0.0.1"
    assert api.get(f"/endpoints/workloads/{workload_id}/readyz").status_code == 404
    api.delete(f"/console/workloads/{workload_id}")


def test_oom_killed_container_is_errored_with_the_reason(api: httpx.Client) -> None:
    artifact = busybox_spec(
        free_port(),
        entrypoint=["/bin/sh", "/entrypoint.sh", "hog", "64"],
        resourceRequest={"cpu": 1, "memory": 16 * 1024 * 1024},
    )
    workload_id = create_workload(api, "hog", artifact)
    errored = wait_status(api, workload_id, "errored")
    details = errored["statusDetails"]
    assert details["exitCode"] == 137
    # "was killed: out of memory (OOM, ...)" where the engine reports the OOM kill; podman on
    # cgroup v1 hosts does not, and the runtime then says "probably out of memory".
    assert "out of memory" in details["message"]
    assert "limit 16 MiB" in details["message"]
    assert "before it became ready" in details["message"]
    assert "allocating 64 MiB" in details["logTail"]
    assert errored["restartCount"] == 0


def test_sidecar_shares_the_primary_network_and_ends_with_it(
    api: httpx.Client, server: LocalServer, engine: Engine
) -> None:
    port = free_port()
    artifact = busybox_spec(port, "with a sidecar")
    sidecar = {
        "name": "sidecar",
        "imageUri": image_ref(),
        "entrypoint": [
            "/bin/sh",
            "-c",
            "trap 'exit 0' TERM; "
            f"until wget -q -O - http://127.0.0.1:{port}/; do sleep 0.1; done; "
            "while :; do sleep 1 & wait $!; done",
        ],
    }
    artifact["spec"]["containerGroups"][0]["containers"].append(sidecar)
    workload_id = create_workload(api, "pod", artifact)
    wait_status(api, workload_id, "running")
    assert len(running_containers_of(engine, server.data_dir, workload_id)) == 2
    logs_url = f"/otel/workload/{workload_id}/logs/"

    def sidecar_lines() -> list[dict[str, Any]]:
        data = api.get(logs_url, params={"limit": 1000}).json()["data"]
        return [r for r in data if r["containerName"] == "sidecar"]

    # The sidecar reached the primary on localhost: they share a network namespace.
    lines = wait_until(sidecar_lines)
    assert '{"greeting": "with a sidecar"' in lines[0]["message"]
    assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
    wait_status(api, workload_id, "stopped")
    wait_until(lambda: apps_of(engine, server.data_dir, workload_id) == [])
    api.delete(f"/console/workloads/{workload_id}")
