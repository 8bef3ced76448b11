"""``POST /local/preflight`` on a container-runtime server with a real engine: the test image
is local (no finding), an image neither local nor in a registry is an error at ``imageUri``,
loopback binding is an error (the container's loopback is its own), and more cores than the
machine has is an error (the engine refuses to start it)."""

from __future__ import annotations

import os
from typing import Any

import httpx

from containertools import busybox_spec
from harness import LocalServer

PATH = "/local/preflight"
C0 = "spec.containerGroups[0].containers[0]"


def found(server: LocalServer, body: Any) -> list[tuple[str, str, str]]:
    with server.client() as api:
        answer = api.post(PATH, json=body, timeout=httpx.Timeout(60))
    assert answer.status_code == 200, answer.text
    assert answer.json()["runtime"] == "container"
    return [(f["rule"], f["severity"], f["path"]) for f in answer.json()["findings"]]


def test_machine_checks_of_the_container_runtime(server: LocalServer) -> None:
    assert found(server, busybox_spec(8080)) == []
    missing = busybox_spec(8080, imageUri="localhost/workloadlab-no-such-image:1")
    assert found(server, missing) == [("image-unavailable", "error", f"{C0}.imageUri")]
    loopback = busybox_spec(8080, env={"HOST": "127.0.0.1"})
    assert found(server, loopback) == [("loopback-bind", "error", f"{C0}.environmentVars[1].value")]
    cores = len(os.sched_getaffinity(0))
    greedy = busybox_spec(8080, resourceRequest={"cpu": cores + 1, "memory": 2**44})
    assert found(server, greedy) == [
        ("resources", "error", f"{C0}.resourceRequest.cpu"),  # the engine refuses more cores
        ("resources", "warning", f"{C0}.resourceRequest.memory"),
    ]
