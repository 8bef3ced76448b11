"""A credential reference with ``--runtime container``: the container gets the value in its
environment, and what it prints is stored masked, as with the process runtime."""

from __future__ import annotations

import hashlib

import httpx

from test_server_credentials import (
    SECRET,
    everything_shown,
    messages,
    new_credential,
    reference,
)

from containertools import busybox_spec
from harness import LocalServer, create_workload, free_port, wait_status, wait_until

# Prints the secret, then serves the test image's routes with its hash as the greeting.
ENTRYPOINT = [
    "/bin/sh",
    "-c",
    'echo "secret=$GH_TOKEN"; '
    "GREETING=$(printf %s \"$GH_TOKEN\" | sha256sum | cut -d' ' -f1) "
    "exec /bin/sh /entrypoint.sh serve",
]


def test_the_container_gets_the_value_and_its_print_is_masked(
    server: LocalServer, api: httpx.Client
) -> None:
    credential_id = new_credential(api, "container-gh")
    artifact = busybox_spec(free_port(), entrypoint=ENTRYPOINT)
    container = artifact["spec"]["containerGroups"][0]["containers"][0]
    container["environmentVars"] = [reference(credential_id)]
    workload_id = create_workload(api, "container-secret", artifact)
    wait_status(api, workload_id, "running", timeout=60)

    answer = api.get(f"/endpoints/workloads/{workload_id}/").json()
    assert answer["greeting"] == hashlib.sha256(SECRET.encode()).hexdigest()
    wait_until(lambda: "secret=****" in messages(api, workload_id), timeout=30)
    assert SECRET not in everything_shown(api, workload_id)
    assert SECRET not in server.log()
    assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
