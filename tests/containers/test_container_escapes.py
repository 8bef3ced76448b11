"""A container's processes die with it, those that escaped its process group included (its pid
namespace ends with its first process), and a deleted workload leaves no container behind, its
sandbox included (after :data:`~workloadlab.server.runtimes.container.sandbox.SANDBOX_LINGER`)."""

from __future__ import annotations

import secrets
import sys

import httpx
import pytest

from workloadlab.server.runtimes.container.engine import Engine
from workloadlab.server.runtimes.container.sandbox import SANDBOX_LINGER
from workloadlab.server.runtimes.process import procinfo

from containertools import busybox_spec, containers_of
from harness import LocalServer, create_workload, free_port, wait_status, wait_until

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="looks at the containers' processes in /proc"
)

ESCAPES = (
    # A setsid daemon, and one that also ignores SIGTERM, both left running behind pid 1.
    "setsid sleep 1000 & setsid sh -c 'trap \"\" TERM; exec sleep 1001' & "
    "exec /bin/sh /entrypoint.sh serve"
)


def _processes_with(token: str) -> list[int]:
    """Host pids of live processes whose environment holds ``ESCAPE_TOKEN=token``."""
    return [
        pid
        for pid in procinfo.pids()
        if procinfo.environ_value(pid, "ESCAPE_TOKEN") == token
        and (stat := procinfo.read_stat(pid)) is not None
        and not stat.exited
    ]


def _spec(token: str) -> dict[str, object]:
    return busybox_spec(
        free_port(), env={"ESCAPE_TOKEN": token}, entrypoint=["/bin/sh", "-c", ESCAPES]
    )


def _daemons(token: str) -> list[int]:
    """The setsid daemons: session leaders whose parent is the container's first process
    (itself a session leader)."""
    processes = _processes_with(token)
    found = []
    for pid in processes:
        stat = procinfo.read_stat(pid)
        if stat is not None and stat.sid == pid and stat.ppid in processes:
            found.append(pid)
    return found


def test_escaped_processes_of_a_container_die_when_it_stops(api: httpx.Client) -> None:
    token = secrets.token_hex(8)
    workload_id = create_workload(api, "escaper", _spec(token))
    wait_status(api, workload_id, "running")
    daemons = wait_until(lambda: len(_daemons(token)) == 2 and _daemons(token))
    assert len(_processes_with(token)) >= 3  # pid 1, its httpd and the daemons

    api.post(f"/console/workloads/{workload_id}/stop")
    wait_status(api, workload_id, "stopped")
    assert _processes_with(token) == [], f"daemons {daemons} outlived their container"


def test_a_deleted_workload_leaves_no_container_and_no_sandbox(
    api: httpx.Client, server: LocalServer, engine: Engine
) -> None:
    token = secrets.token_hex(8)
    workload_id = create_workload(api, "deleted", _spec(token))
    wait_status(api, workload_id, "running")
    assert len(containers_of(engine, server.data_dir, workload_id)) == 2, "its own and a sandbox"
    wait_until(lambda: len(_daemons(token)) == 2)

    assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
    wait_until(lambda: _processes_with(token) == [], timeout=10)
    # Its sandbox lingers as a stopped workload's does (for a restart, which cannot come).
    wait_until(
        lambda: containers_of(engine, server.data_dir, workload_id) == [],
        timeout=SANDBOX_LINGER + 10,
    )
