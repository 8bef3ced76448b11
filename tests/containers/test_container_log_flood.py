"""A container that floods its stdout never freezes the server that follows its logs: the API
answers, the server's memory stays bounded, and what could not be read in time is skipped with
a marker line (the engine keeps its own log file; capping it is the engine's business). Podman
streams a flood's logs at some 6 MB/s here, far more than the server stores, far less than the
container writes: 20 MB of output take it a few seconds."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from test_server_log_flood import SkippedTally, p99, stored_messages, timed_get

from containertools import busybox_spec
from harness import LocalServer, create_workload, free_port, wait_status, wait_until

FLOOD = (
    "echo flood starts; "
    "yes 'flood line: lorem ipsum dolor sit amet, consectetur adipiscing elit' | head -n {lines}; "
    "echo flood over; exec sleep 600"
)
RSS_LIMIT = 150 * 1024 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_a_flooding_container_is_followed_within_bounds(
    server: LocalServer, api: httpx.Client
) -> None:
    assert server.process is not None
    artifact = busybox_spec(
        free_port(),
        entrypoint=["/bin/sh", "-c", FLOOD.format(lines=300_000)],  # 20 MB
        readinessProbe=None,
    )
    workload_id = create_workload(api, "container-flood", artifact)
    wait_status(api, workload_id, "running", timeout=30)
    skipped = SkippedTally(api, workload_id)
    wait_until(lambda: skipped() > 0, timeout=30)
    times: list[float] = []
    rss: list[int] = []
    end = time.monotonic() + 3.0
    while time.monotonic() < end and "flood over" not in stored_messages(api, workload_id):
        times.append(timed_get(api, workload_id))
        rss.append(_rss(server.process.pid))
    assert times, "the flood was over before it could be measured"
    assert p99(times) < 1.0, f"GET p99 {p99(times):.3f} s during the flood ({len(times)})"
    assert max(rss) < RSS_LIMIT, f"server RSS reached {max(rss):,} bytes"
    wait_until(lambda: "flood over" in stored_messages(api, workload_id), timeout=30)
    # How much is skipped depends on how fast the engine streams (slower on a busy machine).
    assert skipped() > 0
    assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "running"
    assert api.delete(f"/console/workloads/{workload_id}").status_code == 204
