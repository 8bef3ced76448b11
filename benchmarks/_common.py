"""Shared helpers of the benchmarks: a local server in a subprocess, the example app's spec,
percentiles, a plain-text table and a minimal HTTP/1.1 client. Loopback only; every process
started here is stopped here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

TOKEN = "wl-bench-token-8d1e4b7a2c9f3e60"
"""A fake token for the benchmark's own server."""
HELLO_ARGV = [sys.executable, "-m", "workloadlab.examples.hello"]
"""The example app, as the hello spec's entrypoint runs it."""


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; RuntimeError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise RuntimeError(f"not reached within {timeout} s: {predicate}")
        time.sleep(interval)


def hello_spec(port: int, greeting: str = "hello") -> dict[str, Any]:
    """An inline artifact that runs the example app on ``port`` (readiness probe ``/readyz``)."""
    return {
        "name": "bench-hello",
        "description": "the example app",
        "spec": {
            "containerGroups": [
                {
                    "containers": [
                        {
                            "name": "primary",
                            "imageUri": "python:3.12-slim",
                            "primary": True,
                            "port": port,
                            "entrypoint": HELLO_ARGV,
                            "environmentVars": [{"name": "GREETING", "value": greeting}],
                            "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
                        }
                    ]
                }
            ]
        },
    }


def start_server(
    data_dir: Path, *extra_args: str, timeout: float = 30.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``workloadlab serve`` on a free loopback port with ``data_dir``; its process and
    endpoint (``http://127.0.0.1:PORT/api/v2``) once it is ready. The caller stops it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workloadlab",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--data-dir",
                str(data_dir),
                "--token",
                TOKEN,
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def ready() -> str | None:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}:\n{log_path.read_text()[-2000:]}"
            )
        try:
            info = json.loads((data_dir / "server.json").read_text())
        except (OSError, ValueError):
            return None
        return str(info["endpoint"]) if info.get("pid") == process.pid else None

    try:
        return process, wait_until(ready, timeout)
    except BaseException:
        stop_process(process)
        raise


@contextlib.contextmanager
def local_server(data_dir: Path, *extra_args: str, timeout: float = 30.0) -> Iterator[str]:
    """``workloadlab serve`` on a free loopback port with ``data_dir``; yields its endpoint
    (``http://127.0.0.1:PORT/api/v2``). SIGTERM afterwards (it stops its workloads)."""
    process, endpoint = start_server(data_dir, *extra_args, timeout=timeout)
    try:
        yield endpoint
    finally:
        stop_process(process, timeout=30.0)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM ``process`` and wait for it; SIGKILL it if it does not end within ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    if not exits_within(process, timeout):
        process.kill()
    process.wait()


def exits_within(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``process`` ends within ``timeout`` seconds, noticed at once (a pidfd) rather
    than at the next tick of ``Popen.wait(timeout)``'s polling, which can add 10+ ms."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except ProcessLookupError:
        return True  # already reaped
    except (AttributeError, OSError):  # no pidfds here: poll
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        readable, _, _ = select.select([pidfd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(pidfd)


def api_client(endpoint: str) -> httpx.Client:
    """A keep-alive client for the API, authenticated, ignoring proxy settings."""
    return httpx.Client(
        base_url=endpoint,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30.0,
        trust_env=False,
    )


def wait_status(
    client: httpx.Client, workload_id: str, status: str, interval: float, timeout: float = 30.0
) -> dict[str, Any]:
    """GET the workload every ``interval`` seconds until it has ``status`` (see
    :func:`poll_status`)."""

    def fetch() -> dict[str, Any]:
        response = client.get(f"/console/workloads/{workload_id}/")
        response.raise_for_status()
        workload: dict[str, Any] = response.json()
        return workload

    return poll_status(fetch, status, interval, timeout)


def poll_status(
    fetch: Callable[[], dict[str, Any]], status: str, interval: float, timeout: float = 30.0
) -> dict[str, Any]:
    """Call ``fetch`` (one GET of a workload) every ``interval`` seconds until the workload has
    ``status``; RuntimeError if it goes ``errored`` instead or takes longer than ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        workload = fetch()
        if workload["status"] == status:
            return workload
        if workload["status"] == "errored":
            raise RuntimeError(f"workload errored: {workload['statusDetails']}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"workload not {status} within {timeout} s: {workload['status']}")
        time.sleep(interval)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (0 < q <= 1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [
            str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def goal_text(ratio: float, goal: float) -> str:
    """``"1.18 (goal <= 1.25: met)"``."""
    return f"{ratio:.2f} (goal <= {goal:g}: {'met' if ratio <= goal else 'NOT met'})"


def hello_env(port: int, greeting: str, workload_id: str) -> dict[str, str]:
    """The environment the process runtime gives the example app (base, spec's, then ours),
    so that a floor measurement starts the very same program the very same way."""
    path = os.environ.get("PATH", os.defpath)
    env = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), path])}
    for name in ("HOME", "LANG", "LC_ALL", "TMPDIR"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    env["PYTHONUNBUFFERED"] = "1"
    env["GREETING"] = greeting
    env["PORT"] = str(port)
    env["WORKLOAD_ID"] = workload_id
    return env


class RawConnection:
    """A minimal HTTP/1.1 keep-alive GET over one loopback connection (answers must carry a
    Content-Length, as the local server's and the example app's JSON answers do): far cheaper
    per request than httpx, so that the servers rather than the load generator dominate what is
    measured."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes):
        self.reader = reader
        self.writer = writer
        self.request = request

    @classmethod
    async def open(cls, url: str, headers: dict[str, str]) -> RawConnection:
        """Connect to ``url``'s host and port; GETs will request its path."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        lines = [f"GET {parts.path} HTTP/1.1", f"Host: {parts.netloc}", "Accept: */*"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def get(self) -> int:
        """Send the request, read the whole answer, return its status."""
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"answer without Content-Length: {head[:200]!r}")
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


@dataclass
class Phase:
    """One measured phase: per-request latencies (s) and its wall time (s)."""

    latencies: list[float]
    wall: float

    @property
    def rate(self) -> float:
        """Requests per second."""
        return len(self.latencies) / self.wall

    def p(self, q: float) -> float:
        """Latency quantile, seconds."""
        return percentile(self.latencies, q)

    def row(self, label: str) -> list[str]:
        """``label``, then the cells of :data:`PHASE_COLUMNS`."""
        return [
            label,
            str(len(self.latencies)),
            f"{self.p(0.5) * 1000:.2f} ms",
            f"{self.p(0.99) * 1000:.2f} ms",
            f"{self.rate:.0f}",
        ]


PHASE_COLUMNS = ["", "requests", "p50", "p99", "req/s"]
"""The headers of a table of :meth:`Phase.row` rows."""


def clients(count: int) -> str:
    """``1 client``, ``8 clients``."""
    return f"{count} client{'s' if count > 1 else ''}"


Get = Callable[[int], Awaitable[int]]
"""One GET on connection slot ``n``; returns the status code once the body is read."""


async def load_phase(get: Get, total: int, concurrency: int, budget: float) -> Phase:
    """``total`` GETs from ``concurrency`` tasks, or fewer if ``budget`` seconds run out."""
    remaining = total
    latencies: list[float] = []
    deadline = time.perf_counter() + budget

    async def worker(slot: int) -> None:
        nonlocal remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            start = time.perf_counter()
            status = await get(slot)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"GET answered {status}")

    started = time.perf_counter()
    async with asyncio.timeout(budget + 60.0):  # a hung server fails the run, not hangs it
        await asyncio.gather(*(worker(slot) for slot in range(concurrency)))
    return Phase(latencies, time.perf_counter() - started)


async def measure_raw(url: str, total: int, concurrency: int, warmup: int, budget: float) -> Phase:
    """GETs of ``url`` from ``concurrency`` :class:`RawConnection` s (authenticated): a warm-up
    (connections opened, code paths hot), then one measured phase."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connections = [await RawConnection.open(url, headers) for _ in range(concurrency)]
    try:

        async def raw_get(slot: int) -> int:
            return await connections[slot].get()

        await load_phase(raw_get, warmup, concurrency, budget / 4)
        return await load_phase(raw_get, total, concurrency, budget)
    finally:
        for connection in connections:
            await connection.close()
