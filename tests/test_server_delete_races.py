"""A delete that races with start, stop or the draft reaper: once it has answered ``204``, no
process of the workload runs, whatever was sent at the same time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from harness import (
    LocalServer,
    create_workload,
    free_port,
    hello_spec,
    processes_marked,
    wait_status,
)


def _processes_of(data_dir: Path, workload_id: str) -> list[int]:
    """Live processes started for ``workload_id`` by the server of ``data_dir``."""
    from workloadlab.server.runtimes import data_dir_id
    from workloadlab.server.runtimes.process import MARKER_ENV

    marker = f"{MARKER_ENV}={data_dir_id(data_dir)}/{workload_id}".encode()
    found = []
    for pid in processes_marked(data_dir):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ:
            found.append(pid)
    return found


def _none_appears(data_dir: Path, workload_id: str, watch: float) -> list[int]:
    """Watch for ``watch`` seconds: the first processes of the workload seen, else ``[]``
    (a start that raced with the delete could spawn one a little after the ``204``)."""
    deadline = time.monotonic() + watch
    while True:
        found = _processes_of(data_dir, workload_id)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


async def _delete_and_start(server: LocalServer, workload_id: str) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=server.endpoint, headers=headers, timeout=30) as http:
        path = f"/console/workloads/{workload_id}"
        deleted, started = await asyncio.gather(http.delete(f"{path}/"), http.post(f"{path}/start"))
    return deleted.status_code, started.status_code


def test_delete_racing_with_start_leaves_no_process(server: LocalServer, api: httpx.Client) -> None:
    """Stop, then DELETE and start at once, ten times: after each ``204`` nothing of the
    workload runs (it used to leave an orphan about one time in ten)."""
    for attempt in range(10):
        workload_id = create_workload(api, f"race-{attempt}", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
        wait_status(api, workload_id, "stopped")
        deleted, started = asyncio.run(_delete_and_start(server, workload_id))
        assert deleted == 204, attempt
        assert started in (202, 404), started
        assert _none_appears(server.data_dir, workload_id, watch=0.5) == [], attempt
        assert api.get(f"/console/workloads/{workload_id}/").status_code == 404


async def _storm(server: LocalServer, workload_id: str, clients: int) -> None:
    """``clients`` callers sending stop, start and DELETE to one workload until a DELETE
    answers ``204``; right then nothing of it may run. Every answer must be a documented one."""
    import random

    headers = {"Authorization": f"Bearer {server.token}"}
    path = f"/console/workloads/{workload_id}"
    gone = asyncio.Event()

    async def caller(seed: int) -> None:
        rng = random.Random(seed)
        while not gone.is_set():
            verb = rng.choice(["stop", "start", "start", "delete"])
            if verb == "delete":
                answer = await http.delete(f"{path}/")
                assert answer.status_code in (204, 404), answer.text
                if answer.status_code == 204:
                    gone.set()
                    assert _processes_of(server.data_dir, workload_id) == []
            else:
                answer = await http.post(f"{path}/{verb}")
                assert answer.status_code in (200, 202, 404, 409), answer.text

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=server.endpoint, headers=headers, timeout=60, limits=limits
    ) as http:
        await asyncio.gather(*(caller(seed) for seed in range(clients)))


def test_a_storm_of_stops_starts_and_deletes_leaves_no_orphan(
    server: LocalServer, api: httpx.Client
) -> None:
    """32 callers at once on each of eight workloads: once a DELETE answers ``204``, no
    process of that workload runs, then or later."""
    for round_ in range(8):
        workload_id = create_workload(api, f"storm-{round_}", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        asyncio.run(_storm(server, workload_id, clients=32))
        assert _none_appears(server.data_dir, workload_id, watch=0.3) == [], round_
