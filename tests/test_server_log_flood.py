"""A workload that writes its output as fast as it can never freezes the local server.

The flooder below writes 8 KiB at a time, about 400 MB/s on these machines, or some 40 MB/s
with a pause between writes (still over a hundred times what the server stores). While it
floods, the API answers, the workload's raw log files stay under the cap, the output the server
could not read in time is skipped (one marker line says how much) rather than replayed, and
SIGTERM stops the server within seconds; after a ``kill -9`` the next server does not freeze on
what piled up meanwhile. (At full speed a file can overshoot the cap on a busy machine, by
what the app writes while a truncation takes: ``benchmarks/logflood.py`` measures it.)
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import (
    LocalServer,
    create_workload,
    free_port,
    hello_spec,
    processes_marked,
    wait_status,
    wait_until,
)

DEFAULT_CAP = 32 * 1024 * 1024
"""``--log-cap-bytes``' default: a workload's raw log files together stay below it."""
FLOOD = r"""
import os, signal, sys, time
seconds, pause, at_least = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
block = b"".join(  # 8 KiB, as a buffered stdout writes
    b"flood line %06d: lorem ipsum dolor sit amet, consectetur adipiscing elit\n" % i
    for i in range(110)
)
print("flood starts", flush=True)
end, written = time.monotonic() + seconds, 0
while time.monotonic() < end or written < at_least:
    written += os.write(1, block)
    if pause:
        time.sleep(pause)
print("flood over", flush=True)
while True:
    signal.pause()
"""
SKIPPED = re.compile(r"^… ([\d,]+) bytes of output skipped$")
CLIENT_TIMEOUT = 5.0


def flood_artifact(seconds: float, pause: float = 0.0, at_least: int = 0) -> dict[str, Any]:
    """An app that writes stdout as fast as it can for ``seconds`` (``pause`` seconds after
    each 8 KiB) and ``at_least`` bytes however slow the machine is, then idles."""
    return hello_spec(
        free_port(),
        entrypoint=[sys.executable, "-c", FLOOD, str(seconds), str(pause), str(at_least)],
        readinessProbe=None,
    )


def raw_bytes(data_dir: Path, workload_id: str) -> int:
    """Bytes of a workload's raw log files (its stdout and stderr) right now."""
    total = 0
    for stream in ("stdout", "stderr"):
        with contextlib.suppress(FileNotFoundError):
            total += (data_dir / "logs" / f"{workload_id}.{stream}").stat().st_size
    return total


def timed_get(api: httpx.Client, workload_id: str) -> float:
    """Seconds a GET of the workload took (``inf``: it timed out)."""
    began = time.monotonic()
    try:
        answer = api.get(f"/console/workloads/{workload_id}/", timeout=CLIENT_TIMEOUT)
    except httpx.TimeoutException:
        return float("inf")
    answer.raise_for_status()
    return time.monotonic() - began


def get_times(
    api: httpx.Client, workload_id: str, seconds: float, on_each: Any = None
) -> list[float]:
    """Seconds each GET of the workload took, one after another for ``seconds``."""
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        times.append(timed_get(api, workload_id))
        if on_each is not None:
            on_each()
    return times


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)]


class SkippedTally:
    """Bytes the skipped-output markers of a workload's stored lines add up to, over every
    look so far: the server keeps a workload's newest 10,000 lines (two seconds of a flood's
    ingestion), so a long flood's early markers are gone by its end."""

    def __init__(self, api: httpx.Client, workload_id: str) -> None:
        self.api = api
        self.workload_id = workload_id
        self._seen: dict[tuple[str, str, str], int] = {}

    def __call__(self) -> int:
        """Look again; the bytes of every marker seen so far."""
        page = self.api.get(
            f"/otel/workload/{self.workload_id}/logs/", params={"limit": 1000, "level": "warning"}
        ).json()
        for record in page["data"]:
            if marker := SKIPPED.match(record["message"]):
                key = (record["timestamp"], record["stream"], record["message"])
                self._seen[key] = int(marker.group(1).replace(",", ""))
        return sum(self._seen.values())


def stored_messages(api: httpx.Client, workload_id: str) -> list[str]:
    page = api.get(f"/otel/workload/{workload_id}/logs/", params={"limit": 1000}).json()
    return [r["message"] for r in page["data"]]


@pytest.fixture
def server(data_dir: Path) -> Iterator[LocalServer]:
    """A server of its own (a flood must not slow other tests' servers), killed if the test
    left it running."""
    started = LocalServer(data_dir).start()
    yield started
    if started.process is not None and started.process.poll() is None:
        started.kill()


def test_the_api_answers_during_a_flood_and_the_raw_files_stay_capped(
    server: LocalServer,
) -> None:
    with server.client() as api:
        # 100 MiB at least: on a busy machine 4 s of flooding wrote less than the 50 MiB that
        # must be skipped below.
        flood = flood_artifact(seconds=4, pause=0.0001, at_least=100 * 1024 * 1024)
        workload_id = create_workload(api, "flood", flood)
        wait_until(lambda: raw_bytes(server.data_dir, workload_id) > 0)
        sizes: list[int] = []
        skipped = SkippedTally(api, workload_id)

        def look() -> None:
            sizes.append(raw_bytes(server.data_dir, workload_id))
            skipped()

        times = get_times(api, workload_id, 3.0, look)
        assert p99(times) < 1.0, f"GET p99 {p99(times):.3f} s during the flood ({len(times)})"
        assert max(sizes) <= DEFAULT_CAP, f"raw log files reached {max(sizes):,} bytes"

        def over() -> bool:
            skipped()  # each look, so that no marker is pruned unseen
            return "flood over" in stored_messages(api, workload_id)

        wait_until(over, timeout=60)
        assert skipped() > 50 * 1024 * 1024, "most was skipped"
        assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "running"


def test_a_smaller_cap_holds_for_a_writer_at_tens_of_mb_per_second(data_dir: Path) -> None:
    cap = 4 * 1024 * 1024
    server = LocalServer(data_dir, ["--log-cap-bytes", "4MiB"]).start()
    try:
        with server.client() as api:
            # About 20 MB/s (on a busy machine, less): 50 times what the server stores.
            workload_id = create_workload(api, "flood", flood_artifact(seconds=3, pause=0.0004))
            sizes: list[int] = []

            def over() -> bool:
                sizes.append(raw_bytes(data_dir, workload_id))
                return "flood over" in stored_messages(api, workload_id)

            wait_until(over, timeout=20, interval=0.005)
            assert max(sizes) <= cap, f"raw log files reached {max(sizes):,} bytes"
            assert SkippedTally(api, workload_id)() > 0
    finally:
        server.stop()


def test_sigterm_during_a_flood_stops_the_server_within_seconds(server: LocalServer) -> None:
    with server.client() as api:
        workload_id = create_workload(api, "flood", flood_artifact(seconds=600))
        skipped = SkippedTally(api, workload_id)
        wait_until(lambda: skipped() > 64 * 1024 * 1024)
    began = time.monotonic()
    assert server.stop(signal.SIGTERM, timeout=30) == 0
    took = time.monotonic() - began
    assert took < 5.0, f"SIGTERM to exit took {took:.1f} s"
    assert processes_marked(server.data_dir) == []


def test_after_kill_9_the_next_server_skips_the_backlog_instead_of_freezing(
    server: LocalServer,
) -> None:
    data_dir = server.data_dir
    with server.client() as api:
        workload_id = create_workload(api, "flood", flood_artifact(seconds=600))
        wait_status(api, workload_id, "running")
    server.kill()
    wait_until(lambda: raw_bytes(data_dir, workload_id) > 512 * 1024 * 1024, timeout=30)
    restarted = LocalServer(data_dir).start()
    try:
        with restarted.client() as api:
            skipped = SkippedTally(api, workload_id)
            times = get_times(api, workload_id, 2.0, skipped)
            assert p99(times) < 1.0, f"GET p99 {p99(times):.3f} s after the restart"
            wait_until(lambda: raw_bytes(data_dir, workload_id) <= DEFAULT_CAP, timeout=5)
            # What piled up while no server ran is skipped, not read line by line.
            wait_until(lambda: skipped() > 400 * 1024 * 1024, timeout=5)
            assert api.get(f"/console/workloads/{workload_id}/").json()["status"] == "running"
        began = time.monotonic()
        assert restarted.stop(signal.SIGTERM, timeout=30) == 0
        assert time.monotonic() - began < 5.0
    finally:
        if restarted.process is not None and restarted.process.poll() is None:
            restarted.kill()
