"""A workload that writes stdout as fast as it can, against the local server that runs it.

The app (the process runtime's default) writes 8 KiB blocks of log lines in a loop, as a
buffered stdout does, for ``--seconds`` (20) when told to. Measured in one run: GET of that
workload (sequential, keep-alive) with the app idle (the baseline: before the flood and after
it, against the machine's drifting load), busy without output (a control: the flood's CPU
without its output; on a 2-core machine that is half of it), and flooding: p50 and p99; the
server's CPU and RSS; the bytes the workload takes on disk (its raw log files, at their
largest, and its lines in the database); the lines stored per second; and the time from
SIGTERM to the server's exit, with the app idle (the baseline) and flooding.
Goals: p99 during <= 3 x p99 before; RSS <= 150 MB; raw files <= ``--log-cap-bytes`` (32 MiB);
SIGTERM to exit during the flood <= 3 s.

    .venv/bin/python benchmarks/logflood.py [--seconds 20] [--before 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _common import (
    api_client,
    exits_within,
    free_port,
    goal_text,
    percentile,
    print_table,
    start_server,
    stop_process,
    wait_status,
)

CAP = 32 * 1024 * 1024
"""``--log-cap-bytes``' default."""
P99_GOAL = 3.0
RSS_GOAL = 150 * 1024 * 1024
SIGTERM_GOAL = 3.0
APP = r"""
import os, signal, sys, time
mode_file, counter = sys.argv[1], sys.argv[2]
block = b"".join(
    b"flood line %06d: lorem ipsum dolor sit amet, consectetur adipiscing elit\n" % i
    for i in range(110)
)
written, flooded, told = 0, 0.0, time.monotonic()
print("waiting to be told", flush=True)
while True:
    try:
        with open(mode_file) as told_mode:
            mode = told_mode.read().strip()
    except FileNotFoundError:
        mode = "idle"
    if mode == "flood":  # 8 KiB at a time, as fast as it can
        began = time.monotonic()
        for _ in range(128):
            written += os.write(1, block)
        flooded += time.monotonic() - began
        if time.monotonic() - told > 0.2:
            with open(counter, "w") as count:
                count.write(f"{written} {flooded}")
            told = time.monotonic()
    elif mode == "busy":  # as busy as flooding, without a word
        for _ in range(20000):
            pass
    else:
        time.sleep(0.01)
"""


@dataclass
class Samples:
    """What a sampling thread saw of the server and the workload's raw files."""

    rss: list[int] = field(default_factory=list)
    raw_size: list[int] = field(default_factory=list)
    raw_disk: list[int] = field(default_factory=list)


def rss_of(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time ``pid`` has used (user + system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_files(data_dir: Path, workload_id: str) -> tuple[int, int]:
    """Bytes of the workload's raw log files: their sizes, and what they take on disk."""
    size = disk = 0
    for stream in ("stdout", "stderr"):
        with contextlib.suppress(FileNotFoundError):
            stat = (data_dir / "logs" / f"{workload_id}.{stream}").stat()
            size += stat.st_size
            disk += stat.st_blocks * 512
    return size, disk


@contextlib.contextmanager
def sampling(pid: int, data_dir: Path, workload_id: str, samples: Samples) -> Any:
    """Sample the raw files every 5 ms and the RSS every 100 ms, in a thread."""
    stop = threading.Event()

    def run() -> None:
        last_rss = 0.0
        while not stop.wait(0.005):
            size, disk = raw_files(data_dir, workload_id)
            samples.raw_size.append(size)
            samples.raw_disk.append(disk)
            if time.monotonic() - last_rss >= 0.1:
                samples.rss.append(rss_of(pid))
                last_rss = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def get_latencies(api: httpx.Client, workload_id: str, seconds: float) -> list[float]:
    """Seconds each GET of the workload took, one after another, for ``seconds``."""
    latencies: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        api.get(f"/console/workloads/{workload_id}/").raise_for_status()
        latencies.append(time.perf_counter() - began)
    return latencies


def lines_stored(database: Path) -> int:
    """Log lines the server has stored so far (the logs table's AUTOINCREMENT counter)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'logs'").fetchone()
    return int(row[0]) if row else 0


def database_share(database: Path, workload_id: str) -> tuple[int, int]:
    """The workload's stored lines and their bytes (the row's text columns)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        count, size = db.execute(
            "SELECT COUNT(*), SUM(LENGTH(message) + LENGTH(timestamp) + LENGTH(level)"
            " + LENGTH(container_name) + LENGTH(stream) + LENGTH(workload_id) + 8)"
            " FROM logs WHERE workload_id = ?",
            (workload_id,),
        ).fetchone()
    return int(count), int(size or 0)


def sigterm_to_exit(process: Any) -> float:
    """SIGTERM the server; seconds until it has exited (SIGKILL after 30 s)."""
    began = time.monotonic()
    process.terminate()
    if not exits_within(process, 30.0):
        stop_process(process, timeout=0)
    process.wait()
    return time.monotonic() - began


def mb(value: float) -> str:
    return f"{value / 1e6:.1f} MB"


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def app_artifact(mode: Path, counter: Path) -> dict[str, Any]:
    """The app: idle, busy (a CPU, no output) or flooding, as ``mode`` says; it counts what it
    wrote, and for how long, in ``counter``."""
    container = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": free_port(),
        "entrypoint": [sys.executable, "-c", APP, str(mode), str(counter)],
    }
    return {"name": "bench-flood", "spec": {"containerGroups": [{"containers": [container]}]}}


@dataclass
class Phase:
    """GETs of the workload for a while, and what was sampled meanwhile."""

    latencies: list[float]
    samples: Samples
    cpu: float
    """The server's CPU use, in CPUs."""
    seconds: float


def measure(
    process: Any, api: httpx.Client, data_dir: Path, workload_id: str, seconds: float
) -> Phase:
    """GET the workload for ``seconds`` while sampling the server and the raw files."""
    samples = Samples()
    began, cpu = time.monotonic(), cpu_seconds(process.pid)
    with sampling(process.pid, data_dir, workload_id, samples):
        latencies = get_latencies(api, workload_id, seconds)
    took = time.monotonic() - began
    return Phase(latencies, samples, (cpu_seconds(process.pid) - cpu) / took, took)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="flood measured (20)")
    parser.add_argument("--before", type=float, default=5.0, help="each baseline's GETs (5)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="wl-bench-logflood-") as tmp:
        data_dir = Path(tmp) / "data"
        database = data_dir / "workloadlab.sqlite3"
        mode, counter = Path(tmp) / "mode", Path(tmp) / "count"
        process, endpoint = start_server(data_dir)
        try:
            with api_client(endpoint) as api:
                answer = api.post(
                    "/console/workloads/",
                    json={"name": "flood", "artifact": app_artifact(mode, counter)},
                )
                answer.raise_for_status()
                workload_id = answer.json()["id"]
                wait_status(api, workload_id, "running", interval=0.05)
                time.sleep(0.5)  # let the start settle
                idle = measure(process, api, data_dir, workload_id, args.before)
            sigterm_idle = sigterm_to_exit(process)

            process, endpoint = start_server(data_dir)  # the workload comes back
            with api_client(endpoint) as api:
                wait_status(api, workload_id, "running", interval=0.05)
                time.sleep(0.5)
                mode.write_text("busy")
                busy = measure(process, api, data_dir, workload_id, args.before)
                stored_before = lines_stored(database)
                mode.write_text("flood")
                flood = measure(process, api, data_dir, workload_id, args.seconds)
                stored = lines_stored(database) - stored_before
                written, wrote_for = (float(x) for x in counter.read_text().split())
                kept_lines, kept_bytes = database_share(database, workload_id)
                mode.write_text("idle")  # and again, for the load's drift
                time.sleep(1.0)  # the server reads what is left (less than a second's worth)
                idle_after = measure(process, api, data_dir, workload_id, args.before)
                idle.latencies += idle_after.latencies
                mode.write_text("flood")
                time.sleep(1.0)
            sigterm_flood = sigterm_to_exit(process)
        finally:
            stop_process(process)
            left = kill_marked(data_dir)
        database_bytes = sum(p.stat().st_size for p in data_dir.glob("workloadlab.sqlite3*"))
    load_after = os.getloadavg()[0]
    if left:
        print(f"{left} process(es) of the workload outlived the server (killed now)")

    def quantile(phase: Phase, q: float) -> str:
        return ms(percentile(phase.latencies, q))

    p99 = {
        name: percentile(p.latencies, 0.99)
        for name, p in (("idle", idle), ("busy", busy), ("flood", flood))
    }
    rss_max = max(flood.samples.rss)
    raw_max = max(flood.samples.raw_size)
    print(
        f"log flood: an app writing stdout in 8 KiB blocks as fast as it can: {written / 1e6:,.0f}"
        f" MB in {wrote_for:.1f} s ({written / wrote_for / 1e6:,.0f} MB/s); load average"
        f" {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores"
    )
    print_table(
        ["", "app idle", "app busy, silent", "app flooding", "flooding / idle"],
        [
            ["GET workload, requests", *(str(len(p.latencies)) for p in (idle, busy, flood)), ""],
            [
                "GET workload p50",
                *(quantile(p, 0.5) for p in (idle, busy, flood)),
                f"{percentile(flood.latencies, 0.5) / percentile(idle.latencies, 0.5):.2f}",
            ],
            [
                "GET workload p99",
                *(quantile(p, 0.99) for p in (idle, busy, flood)),
                goal_text(p99["flood"] / p99["idle"], P99_GOAL),
            ],
            ["server CPU", *(f"{p.cpu:.0%}" for p in (idle, busy, flood)), ""],
            [
                "server RSS, max",
                *(mb(max(p.samples.rss)) for p in (idle, busy, flood)),
                f"{'met' if rss_max <= RSS_GOAL else 'NOT met'}: goal <= {mb(RSS_GOAL)}",
            ],
            [
                "raw log files, max size",
                *(mb(max(p.samples.raw_size)) for p in (idle, busy, flood)),
                f"{'met' if raw_max <= CAP else 'NOT met'}: cap {mb(CAP)}",
            ],
            [
                "raw log files, max on disk",
                *(mb(max(p.samples.raw_disk)) for p in (idle, busy, flood)),
                "",
            ],
            [
                "lines stored / s",
                "",
                "",
                f"{stored / flood.seconds:,.0f}",
                f"{stored:,} lines in {flood.seconds:.1f} s",
            ],
            ["its lines in the database", "", "", f"{kept_lines:,} ({mb(kept_bytes)})", ""],
            ["database files, all", "", "", mb(database_bytes), ""],
            [
                "SIGTERM to exit",
                f"{sigterm_idle:.2f} s",
                "",
                f"{sigterm_flood:.2f} s",
                f"{'met' if sigterm_flood <= SIGTERM_GOAL else 'NOT met'}: goal <= 3 s",
            ],
        ],
    )
    print(
        f"p99 flooding / busy (what the output costs beyond the app's CPU):"
        f" {p99['flood'] / p99['busy']:.2f}"
    )
    return 0


def kill_marked(data_dir: Path) -> int:
    """SIGKILL what is left of this data dir's workloads (the server should have stopped
    them); how many processes were left."""
    from workloadlab.server.runtimes import data_dir_id

    marker = f"WORKLOADLAB_INSTANCE={data_dir_id(data_dir)}/".encode()
    left = 0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
                left += 1
    return left


if __name__ == "__main__":
    raise SystemExit(main())
