"""Live sync: a file saved → the new code answering through the invoke proxy.

Measured: a small HTTP app runs as a workload of the local server (process runtime) under a live
sync (:mod:`workloadlab.sync`, on a portal thread as in a kernel); each run rewrites the app's
file with a new version number and GETs ``/endpoints/workloads/{id}/`` every 5 ms (one
keep-alive :mod:`http.client` connection) until the answer carries that number. That covers
the watcher's debounce, the compile check, the stop, the start, the readiness probe and the
proxy.

Against: the floor, measured in the same run and interleaved: the same app file (a copy, not
watched) rewritten, its process killed (SIGKILL, waited for) and spawned again by hand, and
GETting it directly every 5 ms until the answer carries the new number. Goal: median sync /
median floor <= 1.5.

    .venv/bin/python benchmarks/sync.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import (
    TOKEN,
    exits_within,
    free_port,
    goal_text,
    local_server,
    percentile,
    print_table,
    wait_until,
)
from workloadlab.client import AsyncClient
from workloadlab.notebook.portal import Portal
from workloadlab.sync import LiveSync, Syncs

GOAL = 1.5
APP = """\
import http.server, json, os

VERSION = {version}


class Version(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"version": VERSION}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Version).serve_forever()
"""


def write_app(path: Path, version: int) -> None:
    """The app answering ``{"version": version}``."""
    path.write_text(APP.format(version=version))


def version_at(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> Any:
    """The version a GET of ``path`` answers, or ``None`` (an error status, no connection)."""
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        connection.close()  # reconnects on the next request
        return None
    return json.loads(body)["version"] if response.status == 200 else None


def poll_version(
    connection: http.client.HTTPConnection,
    path: str,
    version: int,
    interval: float,
    headers: dict[str, str] | None = None,
) -> None:
    """GET ``path`` every ``interval`` seconds until it answers ``version`` (30 s at most)."""
    deadline = time.monotonic() + 30.0
    while version_at(connection, path, headers or {}) != version:
        if time.monotonic() > deadline:
            raise RuntimeError(f"version {version} did not answer within 30 s")
        time.sleep(interval)


def sync_once(
    api: http.client.HTTPConnection,
    prefix: str,
    sync: LiveSync,
    app: Path,
    version: int,
    interval: float,
) -> float:
    """Save version ``version``; seconds until it answers through the invoke proxy."""
    path = f"{prefix}/endpoints/workloads/{sync.workload_id}/"
    synced = sync.syncs
    t0 = time.perf_counter()
    write_app(app, version)
    poll_version(api, path, version, interval, {"Authorization": f"Bearer {TOKEN}"})
    elapsed = time.perf_counter() - t0
    wait_until(lambda: sync.syncs > synced and sync.state.value == "watching", 30.0, 0.005)
    if sync.last is None or sync.last.outcome.value != "synced":
        raise RuntimeError(f"the sync did not end well: {sync.last}")
    return elapsed


def floor_once(
    process: subprocess.Popen[bytes], app: Path, port: int, version: int, interval: float
) -> tuple[subprocess.Popen[bytes], float]:
    """Save version ``version``, kill the app, spawn it again, poll it until it answers the
    new version: the new process, and the seconds that took."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5.0)
    t0 = time.perf_counter()
    write_app(app, version)
    process.send_signal(signal.SIGKILL)
    exits_within(process, 10.0)
    process.wait()
    respawned = spawn(app, port)
    try:
        poll_version(connection, "/", version, interval)
    finally:
        connection.close()
    return respawned, time.perf_counter() - t0


def spawn(app: Path, port: int) -> subprocess.Popen[bytes]:
    """The app as the process runtime starts it (its interpreter, ``$PORT``, no output)."""
    env = {**os.environ, "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(app)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="syncs and floors (20)")
    parser.add_argument("--warmup", type=int, default=2, help="unrecorded of each first (2)")
    parser.add_argument(
        "--interval", type=float, default=0.005, help="poll interval, seconds (0.005)"
    )
    args = parser.parse_args()
    syncs_taken: list[float] = []
    floors: list[float] = []
    restarts: list[float] = []
    portal = Portal("bench-sync-portal")
    with tempfile.TemporaryDirectory(prefix="wl-bench-sync-") as tmp:
        synced_app = Path(tmp) / "synced" / "app.py"
        floor_app = Path(tmp) / "floor" / "app.py"
        for app in (synced_app, floor_app):
            app.parent.mkdir()
            write_app(app, 0)
        floor_port = free_port()
        floor_process = spawn(floor_app, floor_port)
        with local_server(Path(tmp) / "data", "--grace-period", "3s") as endpoint:
            client = AsyncClient(endpoint, TOKEN)
            syncs = Syncs()
            artifact = {
                "name": "bench-sync",
                "spec": {
                    "containerGroups": [
                        {
                            "containers": [
                                {
                                    "primary": True,
                                    "imageUri": "python:3.12-slim",
                                    "port": free_port(),
                                    "entrypoint": [sys.executable, str(synced_app)],
                                    "readinessProbe": {"path": "/", "periodSeconds": 1},
                                }
                            ]
                        }
                    ]
                },
            }

            async def begin() -> LiveSync:
                workload = await client.workloads.create(name="bench-sync", artifact=artifact)
                await client.workloads.wait_for_status(workload.id, "running", timeout=30)
                return await syncs.begin(client, workload.id)

            sync = portal.run(begin())
            parts = urlsplit(endpoint)
            api = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30.0)
            try:
                for i in range(args.warmup + args.repeat):
                    version = i + 1
                    order = ["sync", "floor"] if i % 2 == 0 else ["floor", "sync"]
                    for which in order:
                        if which == "sync":
                            took = sync_once(
                                api, parts.path, sync, synced_app, version, args.interval
                            )
                            if i >= args.warmup:
                                syncs_taken.append(took)
                                assert sync.last is not None
                                restarts.append(sync.last.seconds)
                        else:
                            floor_process, took = floor_once(
                                floor_process, floor_app, floor_port, version, args.interval
                            )
                            if i >= args.warmup:
                                floors.append(took)
            finally:
                api.close()
                floor_process.kill()
                floor_process.wait()
                portal.run(syncs.end_all())
                portal.run(client.workloads.delete(sync.workload_id))
                portal.run(client.aclose())
                portal.stop()

    floor = statistics.median(floors)

    def row(label: str, values: list[float], ratio: bool = False) -> list[str]:
        median = statistics.median(values)
        shown = f"{median / floor:.2f}" if ratio else ""
        return [label, f"{median * 1000:.1f} ms", f"{percentile(values, 0.9) * 1000:.1f} ms", shown]

    print(
        f"live sync, process runtime: {args.repeat} runs each, interleaved; both poll every"
        f" {args.interval * 1000:g} ms"
    )
    print_table(
        ["", "median", "p90", "/ floor"],
        [
            row("saved → new answer through invoke (sync)", syncs_taken, ratio=True),
            row("  the sync's own record (first change seen → running)", restarts),
            row("floor: saved, kill -9, spawn, poll the app", floors),
        ],
    )
    ratio = statistics.median(syncs_taken) / floor
    print(f"ratio sync / floor (medians): {goal_text(ratio, GOAL)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
