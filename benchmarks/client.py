"""How much ``AsyncClient`` costs over bare ``httpx.AsyncClient``, on the same requests.

Both send ``GET /console/workloads/{id}/`` to the same local server over loopback, with the
same connection limits and timeout: 1,000 in a row, then 1,000 with 32 in flight. The bare
client reads the JSON; ``AsyncClient`` also builds the URL, applies the retry policy and
validates a ``Workload`` model. The clients take turns in chunks of requests, over several
rounds (the median counts), so that load from elsewhere on the machine hits both alike.
Goal: overhead ratio <= 1.2. A last, in-process run replays the server's answer from memory
(``httpx.MockTransport``) to show the client's own cost per request without network and server.

    .venv/bin/python benchmarks/client.py [--requests 1000] [--concurrency 32] [--rounds 4]

Without ``--endpoint``/``--token`` it starts a local server in a temporary data dir (as
``AsyncClient.local`` does) and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from workloadlab.client import DEFAULT_TIMEOUT, AsyncClient
from workloadlab.client._client import DEFAULT_LIMITS
from workloadlab.client.local import ensure_server
from workloadlab.connection import read_connection

Call = Callable[[], Awaitable[Any]]


async def sequential(call: Call, requests: int) -> float:
    """Seconds for ``requests`` calls one after the other."""
    start = time.perf_counter()
    for _ in range(requests):
        await call()
    return time.perf_counter() - start


async def concurrent(call: Call, requests: int, concurrency: int) -> float:
    """Seconds for ``requests`` calls with ``concurrency`` of them in flight."""
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Calls = dict[str, Call]


async def measure(calls: Calls, args: argparse.Namespace, modes: tuple[str, ...]) -> dict[str, Any]:
    """Median seconds per mode and client over the rounds.

    Within a round each client sends ``requests`` requests, in chunks that alternate between
    the clients (and which goes first), so that load from elsewhere on the machine falls on
    both alike.
    """
    for call in calls.values():  # warm up connections and code paths
        await concurrent(call, 200, args.concurrency)
    times: dict[str, dict[str, list[float]]] = {m: {n: [] for n in calls} for m in modes}
    chunk = max(args.concurrency * 4, 50)
    for _ in range(args.rounds):
        for mode in modes:
            totals = dict.fromkeys(calls, 0.0)
            order = list(calls.items())
            done = 0
            while done < args.requests:
                size = min(chunk, args.requests - done)
                for name, call in order:
                    if mode == "concurrent":
                        totals[name] += await concurrent(call, size, args.concurrency)
                    else:
                        totals[name] += await sequential(call, size)
                order.reverse()  # neither client always goes first
                done += size
            for name, seconds in totals.items():
                times[mode][name].append(seconds)
    results: dict[str, Any] = {}
    for mode, by_name in times.items():
        medians = {name: statistics.median(values) for name, values in by_name.items()}
        results[mode] = {
            "seconds": medians,
            "per_request_us": {n: s / args.requests * 1e6 for n, s in medians.items()},
            "ratio": medians["AsyncClient"] / medians["bare httpx"],
        }
    return results


def _pair(
    endpoint: str, token: str, transport: httpx.AsyncBaseTransport | None
) -> tuple[AsyncClient, httpx.AsyncClient]:
    """An ``AsyncClient`` and a bare client with the same settings."""
    client = AsyncClient(endpoint, token, transport=transport)
    bare = httpx.AsyncClient(
        timeout=DEFAULT_TIMEOUT,
        transport=transport or httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS),
        headers={"Authorization": f"Bearer {token}"},
    )
    return client, bare


def _calls(client: AsyncClient, bare: httpx.AsyncClient, workload_id: str) -> Calls:
    url = f"{client.endpoint}/console/workloads/{workload_id}/"

    async def bare_get() -> Any:
        response = await bare.get(url)
        response.raise_for_status()
        return response.json()

    async def client_get() -> Any:
        return await client.workloads.get(workload_id)

    return {"bare httpx": bare_get, "AsyncClient": client_get}


async def run(args: argparse.Namespace, endpoint: str, token: str) -> dict[str, Any]:
    """Both clients against the server; then both against its recorded answer, in-process."""
    client, bare = _pair(endpoint, token, None)
    async with client, bare:
        artifact = {
            "name": "bench",
            "spec": {"containerGroups": [{"containers": [{
                "name": "primary", "imageUri": "python:3.12-slim", "primary": True,
                "port": _free_port(),
                "entrypoint": [sys.executable, "-m", "workloadlab.examples.hello"],
                "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
            }]}]},
        }  # fmt: skip
        workload = await client.workloads.create(name="bench", artifact=artifact)
        await client.workloads.wait_for_status(workload.id, "running", timeout=30)
        try:
            results = await measure(
                _calls(client, bare, workload.id), args, ("sequential", "concurrent")
            )
            answer = await bare.get(f"{client.endpoint}/console/workloads/{workload.id}/")
        finally:
            await client.workloads.delete(workload.id)

    # The client's own cost, without network or server: the same answer from memory.
    recorded = httpx.MockTransport(
        lambda request: httpx.Response(200, content=answer.content, headers=answer.headers)
    )
    client, bare = _pair(endpoint, token, recorded)
    async with client, bare:
        in_process = await measure(_calls(client, bare, workload.id), args, ("sequential",))
    results["in-process"] = in_process["sequential"]
    return results


def _stop(pid: int) -> None:
    """Stop the server this benchmark started, and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"{args.requests} x GET /console/workloads/{{id}}/, median of {args.rounds} rounds, "
        f"concurrency {args.concurrency} for 'concurrent'"
    )
    print(f"{'mode':<11} {'client':<12} {'total s':>8} {'req/s':>8} {'µs/req':>8} {'ratio':>6}")
    for mode, result in results.items():
        for name, seconds in result["seconds"].items():
            ratio = f"{result['ratio']:.2f}" if name == "AsyncClient" else ""
            print(
                f"{mode:<11} {name:<12} {seconds:>8.3f} {args.requests / seconds:>8.0f} "
                f"{result['per_request_us'][name]:>8.0f} {ratio:>6}"
            )
    worst = max(result["ratio"] for mode, result in results.items() if mode != "in-process")
    print(f"worst overhead ratio {worst:.2f} (goal <= 1.2): {'ok' if worst <= 1.2 else 'OVER'}")
    in_process = results["in-process"]["per_request_us"]
    extra = in_process["AsyncClient"] - in_process["bare httpx"]
    print(f"in-process: the client's own cost is {extra:.0f} µs per request (no goal)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--endpoint", help="an existing server's endpoint (ends in /api/v2)")
    parser.add_argument("--token", help="its token")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    if args.endpoint and args.token:
        results = asyncio.run(run(args, args.endpoint, args.token))
    else:
        with tempfile.TemporaryDirectory(prefix="wl-bench-") as data_dir:
            asyncio.run(ensure_server(Path(data_dir)))
            connection = read_connection(Path(data_dir))
            assert connection is not None
            try:
                results = asyncio.run(run(args, connection.endpoint, connection.token))
            finally:
                _stop(connection.pid)
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
