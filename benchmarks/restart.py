"""Restart (stop + start) of the example app through the local server, until ``running``.

Measured: POST stop, GET the workload every 5 ms until ``stopped``, POST start, GET every 5 ms
until ``running`` (wall time of the whole, and of its stop and start parts).
Against: the floor, measured in the same run and interleaved with the restarts: spawning the
same command with the same environment and GETting its ``/readyz`` every 5 ms until ``200``.
The floor's SIGTERM-to-exit is shown too, for reference (the app's own share of a stop), but is
not part of the floor. Both sides poll with :mod:`http.client` (see :class:`LightApi`).
Goal: median restart / median floor <= 1.25.

With ``--runtime container`` the app is the container tests' busybox image (built by ``make
containers``, whose podman settings it reads from ``$WORKLOADLAB_PODMAN_DIR/env``) and the floor
is ``podman run -d`` of the same image with the same port and environment, then GETting its
``/readyz`` every 5 ms until ``200``; ``podman rm -f`` afterwards is shown for reference. Goal:
<= 1.3.

    .venv/bin/python benchmarks/restart.py [--repeat 40] [--runtime process|container]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import (
    HELLO_ARGV,
    TOKEN,
    free_port,
    goal_text,
    hello_env,
    hello_spec,
    local_server,
    percentile,
    poll_status,
    print_table,
    stop_process,
)

GOAL = 1.25
CONTAINER_GOAL = 1.3
GREETING = "bench"
PODMAN_DIR = Path(os.environ.get("WORKLOADLAB_PODMAN_DIR", "/tmp/workloadlab-podman"))


class LightApi:
    """The API over one keep-alive :mod:`http.client` connection.

    Both sides of this benchmark poll every few milliseconds while the app starts, on a
    machine with two cores: httpx spends several times more CPU per request than this, enough
    to slow the app's start-up measurably (the floor's polls are refused connections, which
    cost little either way). So both sides poll with :mod:`http.client`.
    """

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self._prefix = parts.path
        self._headers = {"Authorization": f"Bearer {TOKEN}"}
        self._connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=30.0
        )

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send a request; return the answer's JSON (RuntimeError for a 4xx or 5xx)."""
        headers = dict(self._headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self._connection.request(method, self._prefix + path, body=payload, headers=headers)
        response = self._connection.getresponse()
        content = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} answered {response.status}: {content[:300]!r}")
        return json.loads(content) if content else None

    def wait_status(self, workload_id: str, status: str, interval: float) -> dict[str, Any]:
        """GET the workload every ``interval`` seconds until it has ``status``."""
        path = f"/console/workloads/{workload_id}/"
        return poll_status(lambda: self.request("GET", path), status, interval)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()


def answers_ready(port: int) -> bool:
    """Whether ``GET /readyz`` on a fresh connection (no keep-alive, like the server's prober)
    answers ``200``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def wait_ready(port: int, interval: float, what: str, ended: Callable[[], str | None]) -> None:
    """Poll :func:`answers_ready` every ``interval`` seconds; RuntimeError if ``ended()`` says
    how ``what`` ended, or after 30 s."""
    deadline = time.monotonic() + 30.0
    while not answers_ready(port):
        if (how := ended()) is not None:
            raise RuntimeError(f"{what} {how}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not get ready within 30 s")
        time.sleep(interval)


def restart_once(api: LightApi, workload_id: str, interval: float) -> tuple[float, float]:
    """One stop + start through the API; returns (stop part, whole) in seconds."""
    t0 = time.perf_counter()
    api.request("POST", f"/console/workloads/{workload_id}/stop")
    api.wait_status(workload_id, "stopped", interval)
    t_stopped = time.perf_counter()
    api.request("POST", f"/console/workloads/{workload_id}/start")
    api.wait_status(workload_id, "running", interval)
    t1 = time.perf_counter()
    return t_stopped - t0, t1 - t0


def floor_once(port: int, workload_id: str, log_path: Path, interval: float) -> tuple[float, float]:
    """Spawn the example app as the process runtime would and poll ``/readyz`` until 200;
    returns the seconds that took (the floor), and those of the SIGTERM and wait afterwards
    (shown for reference only: the app's own share of any stop)."""
    env = hello_env(port, GREETING, workload_id)
    with open(log_path, "ab") as log:
        t0 = time.perf_counter()
        process = subprocess.Popen(
            HELLO_ARGV,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        try:
            wait_ready(
                port,
                interval,
                "the example app",
                lambda: None if process.poll() is None else f"exited with {process.returncode}",
            )
            elapsed = time.perf_counter() - t0
        finally:
            t_stop = time.perf_counter()
            stop_process(process)
            stopped = time.perf_counter() - t_stop
    return elapsed, stopped


def container_setup() -> str:
    """Export the podman settings ``make containers`` wrote (``DOCKER_HOST`` for the server,
    the storage for ``podman run``); returns the test image."""
    try:
        lines = (PODMAN_DIR / "env").read_text().splitlines()
    except OSError:
        raise SystemExit(
            f"restart.py: no {PODMAN_DIR}/env: run `make containers` first (rootful podman)"
        ) from None
    settings = dict(line.split("=", 1) for line in lines if "=" in line)
    os.environ.update(settings)
    return settings["WORKLOADLAB_TEST_IMAGE"]


def container_spec(port: int, image: str) -> dict[str, Any]:
    """The test image serving ``port`` (its own entrypoint), probed like the example app."""
    spec = hello_spec(port, GREETING)
    primary = spec["spec"]["containerGroups"][0]["containers"][0]
    primary["imageUri"] = image
    del primary["entrypoint"]
    return spec


def container_floor_once(port: int, image: str, interval: float) -> tuple[float, float]:
    """``podman run`` the image as the container runtime would (port published on a free
    loopback port, same environment) and poll ``/readyz`` until 200; returns the seconds that
    took (the floor), and those of ``podman rm -f`` afterwards (for reference only)."""
    host_port = free_port()
    t0 = time.perf_counter()
    run = subprocess.run(
        [
            *("podman", "run", "-d", "-p", f"127.0.0.1:{host_port}:{port}"),
            *("-e", f"PORT={port}", "-e", f"GREETING={GREETING}", image),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    container_id = run.stdout.strip()
    try:
        wait_ready(host_port, interval, "the container", lambda: None)
        elapsed = time.perf_counter() - t0
    finally:
        t_stop = time.perf_counter()
        subprocess.run(
            ["podman", "rm", "-f", "-t", "3", container_id], capture_output=True, check=True
        )
        stopped = time.perf_counter() - t_stop
    return elapsed, stopped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=40, help="restarts and floors (40)")
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded of each first (2)")
    parser.add_argument(
        "--interval", type=float, default=0.005, help="poll interval, seconds (0.005)"
    )
    parser.add_argument(
        "--runtime",
        choices=["process", "container"],
        default="process",
        help="passed to `workloadlab serve --runtime` (process)",
    )
    args = parser.parse_args()
    image = container_setup() if args.runtime == "container" else ""

    restarts: list[float] = []
    stops: list[float] = []
    floors: list[float] = []
    app_stops: list[float] = []
    with tempfile.TemporaryDirectory(prefix="wl-bench-restart-") as tmp:
        data_dir = Path(tmp) / "data"
        floor_log = Path(tmp) / "floor.log"
        with (
            local_server(data_dir, "--runtime", args.runtime, "--grace-period", "3s") as endpoint,
            contextlib.closing(LightApi(endpoint)) as api,
        ):
            app_port = free_port()
            artifact = container_spec(app_port, image) if image else hello_spec(app_port, GREETING)
            created = api.request(
                "POST", "/console/workloads/", {"name": "bench-restart", "artifact": artifact}
            )
            workload_id = created["id"]
            api.wait_status(workload_id, "running", args.interval)
            floor_port = free_port()
            for i in range(args.warmup + args.repeat):
                # Alternate which goes first, so drift and caches favour neither.
                pair = ("ours", "floor") if i % 2 == 0 else ("floor", "ours")
                for which in pair:
                    if which == "ours":
                        stop_part, whole = restart_once(api, workload_id, args.interval)
                        if i >= args.warmup:
                            stops.append(stop_part)
                            restarts.append(whole)
                    else:
                        elapsed, stopped = (
                            container_floor_once(app_port, image, args.interval)
                            if image
                            else floor_once(floor_port, workload_id, floor_log, args.interval)
                        )
                        if i >= args.warmup:
                            floors.append(elapsed)
                            app_stops.append(stopped)
            api.request("DELETE", f"/console/workloads/{workload_id}/")

    starts = [whole - stop for whole, stop in zip(restarts, stops, strict=True)]

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    print(
        f"restart of the example app, {args.runtime} runtime: {args.repeat} runs each, "
        f"interleaved, polled every {args.interval * 1000:g} ms"
    )
    print_table(
        ["", "median", "p90"],
        [
            [
                "restart (stop + start)",
                ms(statistics.median(restarts)),
                ms(percentile(restarts, 0.9)),
            ],
            ["  stop part", ms(statistics.median(stops)), ms(percentile(stops, 0.9))],
            ["  start part", ms(statistics.median(starts)), ms(percentile(starts, 0.9))],
            [
                "floor (podman run + poll)" if image else "floor (spawn + poll)",
                ms(statistics.median(floors)),
                ms(percentile(floors, 0.9)),
            ],
            [
                "  podman rm -f (not in floor)"
                if image
                else "  its SIGTERM to exit (not in floor)",
                ms(statistics.median(app_stops)),
                ms(percentile(app_stops, 0.9)),
            ],
        ],
    )
    ratio = statistics.median(restarts) / statistics.median(floors)
    goal = CONTAINER_GOAL if image else GOAL
    print(f"ratio restart/floor (medians): {goal_text(ratio, goal)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
