"""Helpers of the container tests: where the engine and the test image are, the test image's
spec, and the containers a server left behind."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from workloadlab.server.runtimes import data_dir_id
from workloadlab.server.runtimes.container.engine import Engine, EngineError, candidate_hosts
from workloadlab.server.runtimes.container.runtime import LABEL_DATA_DIR, LABEL_ROLE, LABEL_WORKLOAD

RUN_DIR = Path(os.environ.get("WORKLOADLAB_PODMAN_DIR", "/tmp/workloadlab-podman"))
"""Where ``scripts/podman-setup.sh`` keeps podman's state, its socket and an ``env`` file."""
DEFAULT_IMAGE = "localhost/workloadlab-test:latest"
REQUIRED_ENV = ("CI", "WORKLOADLAB_TEST_DOCKER_HOST", "WORKLOADLAB_REQUIRE_CONTAINERS")
"""When one of these is set, a missing engine or image fails the tests instead of skipping."""


def setup_env() -> dict[str, str]:
    """The ``KEY=value`` lines of ``scripts/podman-setup.sh``'s env file (empty if none)."""
    values: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in (RUN_DIR / "env").read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = value.strip()
    return values


def engine_candidates() -> list[str]:
    """Where to look for the test engine, best first: the explicit test variable, the setup
    script's socket, then where the ``auto`` runtime looks (``$DOCKER_HOST`` first)."""
    hosts = [
        os.environ.get("WORKLOADLAB_TEST_DOCKER_HOST", ""),
        setup_env().get("DOCKER_HOST", ""),
        *candidate_hosts(),
    ]
    return [
        h
        for h in dict.fromkeys(hosts)
        if h and (not h.startswith("unix://") or os.path.exists(h.removeprefix("unix://")))
    ]


def image_ref() -> str:
    """The busybox test image's reference."""
    return (
        os.environ.get("WORKLOADLAB_TEST_IMAGE")
        or setup_env().get("WORKLOADLAB_TEST_IMAGE")
        or DEFAULT_IMAGE
    )


def busybox_spec(
    port: int,
    greeting: str = "hello",
    *,
    env: dict[str, str] | None = None,
    **container: Any,
) -> dict[str, Any]:
    """An inline artifact that serves ``port`` from the test image: :func:`harness.hello_spec`'s
    counterpart (same signature, same answers to ``GET /``, ``/readyz`` and ``/healthz``)."""
    variables = {"GREETING": greeting, **(env or {})}
    primary: dict[str, Any] = {
        "name": "primary",
        "imageUri": image_ref(),
        "primary": True,
        "port": port,
        "environmentVars": [{"name": k, "value": v} for k, v in variables.items()],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
    }
    primary.update(container)
    return {
        "name": "busybox-artifact",
        "description": "the container tests' image",
        "spec": {"containerGroups": [{"containers": [primary]}]},
    }


def containers_of(
    engine: Engine, data_dir: Path, workload_id: str | None = None, *, sandboxes: bool = True
) -> list[str]:
    """Ids of the containers (running or not) of a server's data dir (and workload), with or
    without the sandboxes that hold their networks."""
    found = engine.containers(f"{LABEL_DATA_DIR}={data_dir_id(data_dir)}")
    return sorted(
        str(c["Id"])
        for c in found
        if (workload_id is None or (c.get("Labels") or {}).get(LABEL_WORKLOAD) == workload_id)
        and (sandboxes or (c.get("Labels") or {}).get(LABEL_ROLE) != "sandbox")
    )


def apps_of(engine: Engine, data_dir: Path, workload_id: str | None = None) -> list[str]:
    """Ids of a data dir's workload containers (not sandboxes), running or not."""
    return containers_of(engine, data_dir, workload_id, sandboxes=False)


def running_containers_of(
    engine: Engine, data_dir: Path, workload_id: str | None = None, *, sandboxes: bool = False
) -> list[str]:
    """Ids of a data dir's running workload containers (and sandboxes, if asked)."""
    running = []
    for container_id in containers_of(engine, data_dir, workload_id, sandboxes=sandboxes):
        info = engine.inspect(container_id)
        if info is not None and info["State"]["Running"]:
            running.append(container_id)
    return running


def remove_containers(engine: Engine, data_dir: Path) -> None:
    """Clean up after a test: remove every container a data dir's servers left."""
    for container_id in containers_of(engine, data_dir):
        with contextlib.suppress(EngineError):
            engine.remove(container_id)
