"""Invoke latency of a workload of 3 replicas against one of 1 replica, in the same run.

Measured: ``GET /api/v2/endpoints/workloads/{id}/`` on ``workloadlab serve`` (process runtime),
answered by the example app, with 1 client (sequential) and with 8 concurrent clients, each a
minimal keep-alive HTTP/1.1 connection (``RawConnection``): p50, p99, requests per second.
Against: the same on a workload of 1 replica (the baseline), measured in the same run; rounds
alternate 1, 3, 1, 3, …, and the better round (lower p50) of each counts.
Goal: 3 replicas/1 replica p50 <= 1.2 (round-robin costs the proxy next to nothing; with 8
clients on a 2-core machine the app's work is spread over 3 processes instead of 1).

    .venv/bin/python benchmarks/replicas.py [--repeat 3] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from _common import (
    PHASE_COLUMNS,
    Phase,
    api_client,
    clients,
    free_port,
    goal_text,
    hello_spec,
    local_server,
    measure_raw,
    print_table,
    wait_status,
)

GOAL = 1.2
COUNTS = (1, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of 1 then 3 replicas (3)")
    parser.add_argument("--requests", type=int, default=2000, help="with 1 client (2000)")
    parser.add_argument(
        "--concurrent-requests", type=int, default=4000, help="with 8 clients, in all (4000)"
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured first (200)")
    parser.add_argument(
        "--budget", type=float, default=7.0, help="at most seconds per measured phase (7)"
    )
    args = parser.parse_args()

    results: dict[tuple[int, int], list[Phase]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="wl-bench-replicas-") as tmp_name,
        local_server(Path(tmp_name) / "data", "--grace-period", "3s") as endpoint,
    ):
        urls = {}
        with api_client(endpoint) as client:
            for count in COUNTS:
                body = {
                    "name": f"bench-{count}",
                    "artifact": hello_spec(free_port()),
                    "runtime": {"replicaCount": count},
                }
                response = client.post("/console/workloads/", json=body)
                response.raise_for_status()
                workload_id = response.json()["id"]
                wait_status(client, workload_id, "running", 0.01)
                origin = endpoint.removesuffix("/api/v2")
                urls[count] = f"{origin}/api/v2/endpoints/workloads/{workload_id}/"
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            for count in COUNTS:
                for concurrency, total in ((1, args.requests), (8, args.concurrent_requests)):
                    measured = measure_raw(
                        urls[count], total, concurrency, args.warmup, args.budget
                    )
                    results.setdefault((count, concurrency), []).append(asyncio.run(measured))
        load_after = os.getloadavg()[0]

    best = {key: min(runs, key=lambda phase: phase.p(0.5)) for key, runs in results.items()}
    print(
        f"invoke GET of the example app, 1 vs 3 replicas, better of {args.repeat} rounds;"
        f" machine load average {load_before:.1f} before, {load_after:.1f} after"
        f" ({os.cpu_count()} CPUs)"
    )
    rows = [
        best[(count, concurrency)].row(
            f"{clients(concurrency)}, {count} replica{'s' if count > 1 else ''}"
        )
        for concurrency in (1, 8)
        for count in COUNTS
    ]
    print_table(PHASE_COLUMNS, rows)
    for concurrency in (1, 8):
        one, three = best[(1, concurrency)], best[(3, concurrency)]
        print(f"{clients(concurrency)}:")
        print(f"  p50 3 replicas/1 replica: {goal_text(three.p(0.5) / one.p(0.5), GOAL)}")
        print(f"  p99 3 replicas/1 replica: {three.p(0.99) / one.p(0.99):.2f}")
        print(f"  req/s 3 replicas/1 replica: {three.rate / one.rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
