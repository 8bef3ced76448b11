"""Restart (stop + start) of the example app through the local server, until ``running``.

Measured: POST stop, GET the workload every 5 ms until ``stopped``, POST start, GET every 5 ms
until ``running`` (wall time of the whole, and of its stop and start parts).
Against: the floor, measured in the same run and interleaved with the restarts: spawning the
same command with the same environment and GETting its ``/readyz`` every 5 ms until ``200``.
The floor's SIGTERM-to-exit is shown too, for reference (the app's own share of a stop), but is
not part of the floor.
Goal: median restart / median floor <= 1.25.

    .venv/bin/python benchmarks/restart.py [--repeat 20] [--runtime process]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from _common import (
    HELLO_ARGV,
    api_client,
    free_port,
    goal_text,
    hello_env,
    hello_spec,
    local_server,
    percentile,
    print_table,
    stop_process,
    wait_status,
)

GOAL = 1.25
GREETING = "bench"


def restart_once(client: httpx.Client, workload_id: str, interval: float) -> tuple[float, float]:
    """One stop + start through the API; returns (stop part, whole) in seconds."""
    t0 = time.perf_counter()
    client.post(f"/console/workloads/{workload_id}/stop").raise_for_status()
    wait_status(client, workload_id, "stopped", interval)
    t_stopped = time.perf_counter()
    client.post(f"/console/workloads/{workload_id}/start").raise_for_status()
    wait_status(client, workload_id, "running", interval)
    t1 = time.perf_counter()
    return t_stopped - t0, t1 - t0


def floor_once(port: int, workload_id: str, log_path: Path, interval: float) -> tuple[float, float]:
    """Spawn the example app as the process runtime would and poll ``/readyz`` until 200;
    returns the seconds that took (the floor), and those of the SIGTERM and wait afterwards
    (shown for reference only: the app's own share of any stop)."""
    env = hello_env(port, GREETING, workload_id)
    url = f"http://127.0.0.1:{port}/readyz"
    # No keep-alive, like the server's prober: every poll is a fresh connection.
    limits = httpx.Limits(max_keepalive_connections=0)
    with (
        httpx.Client(trust_env=False, timeout=5.0, limits=limits) as poller,
        open(log_path, "ab") as log,
    ):
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
            deadline = time.monotonic() + 30.0
            while True:
                try:
                    if poller.get(url).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None:
                    raise RuntimeError(f"the example app exited with {process.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError("the example app did not get ready within 30 s")
                time.sleep(interval)
            elapsed = time.perf_counter() - t0
        finally:
            t_stop = time.perf_counter()
            stop_process(process)
            stopped = time.perf_counter() - t_stop
    return elapsed, stopped


def container_floor() -> None:
    """The container runtime's floor would be ``podman run`` of the same image and command;
    it is not measured yet, so a run with ``--runtime container`` stops here."""
    raise SystemExit(
        "restart.py: --runtime container is not available yet (its floor, `podman run` of the"
        " same image, is not implemented); use --runtime process"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="restarts and floors (20)")
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
    if args.runtime != "process":
        container_floor()

    restarts: list[float] = []
    stops: list[float] = []
    floors: list[float] = []
    app_stops: list[float] = []
    with tempfile.TemporaryDirectory(prefix="wl-bench-restart-") as tmp:
        data_dir = Path(tmp) / "data"
        floor_log = Path(tmp) / "floor.log"
        with (
            local_server(data_dir, "--runtime", args.runtime, "--grace-period", "3s") as endpoint,
            api_client(endpoint) as client,
        ):
            app_port = free_port()
            response = client.post(
                "/console/workloads/",
                json={"name": "bench-restart", "artifact": hello_spec(app_port, GREETING)},
            )
            response.raise_for_status()
            workload_id = response.json()["id"]
            wait_status(client, workload_id, "running", args.interval)
            floor_port = free_port()
            for i in range(args.warmup + args.repeat):
                # Alternate which goes first, so drift and caches favour neither.
                pair = ("ours", "floor") if i % 2 == 0 else ("floor", "ours")
                for which in pair:
                    if which == "ours":
                        stop_part, whole = restart_once(client, workload_id, args.interval)
                        if i >= args.warmup:
                            stops.append(stop_part)
                            restarts.append(whole)
                    else:
                        elapsed, stopped = floor_once(
                            floor_port, workload_id, floor_log, args.interval
                        )
                        if i >= args.warmup:
                            floors.append(elapsed)
                            app_stops.append(stopped)
            client.delete(f"/console/workloads/{workload_id}/").raise_for_status()

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
            ["floor (spawn + poll)", ms(statistics.median(floors)), ms(percentile(floors, 0.9))],
            [
                "  its SIGTERM to exit (not in floor)",
                ms(statistics.median(app_stops)),
                ms(percentile(app_stops, 0.9)),
            ],
        ],
    )
    ratio = statistics.median(restarts) / statistics.median(floors)
    print(f"ratio restart/floor (medians): {goal_text(ratio, GOAL)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
