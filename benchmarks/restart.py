"""Restart (stop + start) of the example app through the local server, until ``running``.

Measured, three ways, each its own workload on one server:

- **waiting** (the goal's figure): POST stop, GET the workload until ``stopped``, POST start,
  GET it until ``running``, where each GET after the first waits at the server for the next
  change (``If-None-Match`` + ``Prefer: wait``, as workloadlab's client does there);
- **polling**: the same with a plain GET every 5 ms (what a client that cannot wait does);
- **client**: ``await AsyncClient.workloads.restart(id)``: the same requests as *waiting*, sent
  by workloadlab's own client (httpx, pydantic), whose CPU cost competes with the app's start.

Against: the floor, measured in the same run and interleaved with the restarts: spawning the
same command with the same environment and GETting its ``/readyz`` every 5 ms until ``200``.
The floor's SIGTERM-to-exit is shown too, for reference (the app's own share of a stop), but is
not part of the floor. The waiting, polling and floor requests are sent with
:mod:`http.client` (see :class:`LightApi`). Goal: median restart (waiting) / median floor <=
1.25.

With ``--runtime container`` the app is the container tests' busybox image (built by ``make
containers``, whose podman settings it reads from ``$WORKLOADLAB_PODMAN_DIR/env``) and the floor
is ``podman run -d`` of the same image with the same port and environment, then GETting its
``/readyz`` every 5 ms until ``200``; ``podman rm -f`` afterwards is shown for reference. Goal:
<= 1.3.

    .venv/bin/python benchmarks/restart.py [--repeat 40] [--runtime process|container]
"""

from __future__ import annotations

import argparse
import asyncio
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
from workloadlab.client import AsyncClient

GOAL = 1.25
CONTAINER_GOAL = 1.3
GREETING = "bench"
PODMAN_DIR = Path(os.environ.get("WORKLOADLAB_PODMAN_DIR", "/tmp/workloadlab-podman"))


class LightApi:
    """The API over one keep-alive :mod:`http.client` connection.

    The floor polls every few milliseconds while the app starts, on a machine with two cores:
    httpx spends several times more CPU per request than this, enough to slow the app's
    start-up measurably. So the floor and the restarts it is compared with use this.
    """

    def __init__(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        self._prefix = parts.path
        self._headers = {"Authorization": f"Bearer {TOKEN}"}
        self._connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or 80, timeout=60.0
        )

    def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPResponse, Any]:
        """Send a request; return its status, the response and its JSON (``None`` if empty);
        RuntimeError for a 4xx or 5xx."""
        sent = {**self._headers, **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        self._connection.request(method, self._prefix + path, body=payload, headers=sent)
        response = self._connection.getresponse()
        content = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path} answered {response.status}: {content[:300]!r}")
        return response.status, response, json.loads(content) if content else None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send a request; return the answer's JSON (RuntimeError for a 4xx or 5xx)."""
        return self.send(method, path, body)[2]

    def wait_status(self, workload_id: str, status: str, interval: float) -> dict[str, Any]:
        """GET the workload every ``interval`` seconds until it has ``status``."""
        path = f"/console/workloads/{workload_id}/"
        return poll_status(lambda: self.request("GET", path), status, interval)

    def wait_status_at_server(self, workload_id: str, status: str) -> dict[str, Any]:
        """GET the workload until it has ``status``, each GET after the first waiting at the
        server for the next change (RuntimeError if it goes ``errored``)."""
        path = f"/console/workloads/{workload_id}/"
        prefer = {"Prefer": "wait=30"}
        _, response, workload = self.send("GET", path, headers=prefer)
        while workload["status"] != status:
            if workload["status"] == "errored":
                raise RuntimeError(f"workload errored: {workload['statusDetails']}")
            tag = response.getheader("etag") or ""
            code, answer, changed = self.send("GET", path, headers={**prefer, "If-None-Match": tag})
            if code == 200:
                response, workload = answer, changed
        return dict(workload)

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


def restart_once(api: LightApi, workload_id: str, interval: float | None) -> tuple[float, float]:
    """One stop + start through the API, waiting at the server (``interval`` ``None``) or
    polling every ``interval`` seconds; returns (stop part, whole) in seconds."""

    def wait(status: str) -> None:
        if interval is None:
            api.wait_status_at_server(workload_id, status)
        else:
            api.wait_status(workload_id, status, interval)

    t0 = time.perf_counter()
    api.request("POST", f"/console/workloads/{workload_id}/stop")
    wait("stopped")
    t_stopped = time.perf_counter()
    api.request("POST", f"/console/workloads/{workload_id}/start")
    wait("running")
    t1 = time.perf_counter()
    return t_stopped - t0, t1 - t0


def client_restart_once(
    loop: asyncio.AbstractEventLoop, client: AsyncClient, workload_id: str
) -> float:
    """One ``AsyncClient.workloads.restart``; returns its seconds."""
    t0 = time.perf_counter()
    loop.run_until_complete(client.workloads.restart(workload_id, timeout=60))
    return time.perf_counter() - t0


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

    ways = ("waiting", "polling", "client")
    restarts: dict[str, list[float]] = {way: [] for way in ways}
    stops: list[float] = []
    floors: list[float] = []
    app_stops: list[float] = []
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="wl-bench-restart-") as tmp:
        data_dir = Path(tmp) / "data"
        floor_log = Path(tmp) / "floor.log"
        with (
            local_server(data_dir, "--runtime", args.runtime, "--grace-period", "3s") as endpoint,
            contextlib.closing(LightApi(endpoint)) as api,
        ):
            client = AsyncClient(endpoint, TOKEN)
            workloads: dict[str, str] = {}
            for way in ways:
                app_port = free_port()
                artifact = (
                    container_spec(app_port, image) if image else hello_spec(app_port, GREETING)
                )
                created = api.request(
                    "POST", "/console/workloads/", {"name": f"bench-{way}", "artifact": artifact}
                )
                workloads[way] = created["id"]
                api.wait_status_at_server(created["id"], "running")
            floor_port = free_port()
            for i in range(args.warmup + args.repeat):
                # Alternate the order, so drift and caches favour none.
                order = [*ways, "floor"] if i % 2 == 0 else ["floor", *reversed(ways)]
                for which in order:
                    recorded = i >= args.warmup
                    if which == "floor":
                        elapsed, stopped = (
                            container_floor_once(free_port(), image, args.interval)
                            if image
                            else floor_once(floor_port, "floor", floor_log, args.interval)
                        )
                        if recorded:
                            floors.append(elapsed)
                            app_stops.append(stopped)
                    elif which == "client":
                        whole = client_restart_once(loop, client, workloads[which])
                        if recorded:
                            restarts[which].append(whole)
                    else:
                        interval = None if which == "waiting" else args.interval
                        stop_part, whole = restart_once(api, workloads[which], interval)
                        if recorded:
                            restarts[which].append(whole)
                            if which == "waiting":
                                stops.append(stop_part)
            loop.run_until_complete(client.aclose())
            for workload_id in workloads.values():
                api.request("DELETE", f"/console/workloads/{workload_id}/")
    loop.close()

    starts = [whole - stop for whole, stop in zip(restarts["waiting"], stops, strict=True)]
    floor = statistics.median(floors)

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    def row(label: str, values: list[float], ratio: bool = False) -> list[str]:
        median = statistics.median(values)
        shown = f"{median / floor:.2f}" if ratio else ""
        return [label, ms(median), ms(percentile(values, 0.9)), shown]

    print(
        f"restart of the example app, {args.runtime} runtime: {args.repeat} runs each, "
        f"interleaved; the floor and the polling restart poll every {args.interval * 1000:g} ms"
    )
    print_table(
        ["", "median", "p90", "/ floor"],
        [
            row("restart, waiting at the server", restarts["waiting"], ratio=True),
            row("  stop part", stops),
            row("  start part", starts),
            row("restart, polling", restarts["polling"], ratio=True),
            row("restart, AsyncClient (httpx)", restarts["client"], ratio=True),
            row("floor (podman run + poll)" if image else "floor (spawn + poll)", floors),
            row(f"  {'podman rm -f' if image else 'SIGTERM to exit'} (not in floor)", app_stops),
        ],
    )
    ratio = statistics.median(restarts["waiting"]) / floor
    goal = CONTAINER_GOAL if image else GOAL
    print(f"ratio restart (waiting) / floor (medians): {goal_text(ratio, goal)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
