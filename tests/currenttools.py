"""Helpers for tests of the local server's current API generation (``--api current``)."""

from __future__ import annotations

import sys
from typing import Any

import httpx

from harness import wait_status, wait_until

CURRENT = ["--api", "current"]
"""The arguments of a server that speaks the current generation."""


def current_artifact(
    port: int,
    greeting: str = "hello",
    *,
    name: str = "hello-artifact",
    env: list[dict[str, Any]] | None = None,
    **container: Any,
) -> dict[str, Any]:
    """An ``InputArtifact`` that runs the example app on ``port`` (probes quick, not the
    generation's 30 s defaults)."""
    main: dict[str, Any] = {
        "name": "main",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": port,
        "entrypoint": [sys.executable, "-m", "workloadlab.examples.hello"],
        "environmentVars": [{"name": "GREETING", "value": greeting}, *(env or [])],
        "readinessProbe": {"path": "/readyz", "initialDelaySeconds": 0, "periodSeconds": 1},
    }
    main.update(container)
    return {
        "name": name,
        "spec": {"containerGroups": [{"name": "default", "containers": [main]}]},
    }


def runtime(replicas: int = 1, **allocation: Any) -> dict[str, Any]:
    """A ``WorkloadRuntime`` for :func:`current_artifact`'s group."""
    group: dict[str, Any] = {"name": "default", "replicaCount": replicas}
    if allocation:
        group["containers"] = [{"name": "main", "resourceAllocation": allocation}]
    return {"containerGroups": [group]}


def create(api: httpx.Client, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /workloads/`` (``201`` asserted); the workload."""
    answer = api.post("/workloads/", json={"name": name, **body})
    assert answer.status_code == 201, answer.text
    workload: dict[str, Any] = answer.json()
    return workload


def wait_for(
    api: httpx.Client, workload_id: str, status: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``GET /workloads/{id}`` until ``status``; fail if it goes ``errored`` instead."""
    return wait_status(api, workload_id, status, timeout, collection="/workloads")


def statuses_until(
    api: httpx.Client, workload_id: str, status: str, timeout: float = 30.0
) -> list[str]:
    """The distinct statuses a workload shows (polled quickly) until ``status``."""
    seen: list[str] = []

    def reached() -> bool:
        now = api.get(f"/workloads/{workload_id}").json()["status"]
        if not seen or seen[-1] != now:
            seen.append(now)
        if now == "errored" and status != "errored":
            raise AssertionError(f"workload errored after {seen}")
        return now == status

    wait_until(reached, timeout=timeout, interval=0.005)
    return seen
