"""GET workload latency and throughput of the local server, against a bare FastAPI route.

Measured: ``GET /api/v2/console/workloads/{id}/`` on ``workloadlab serve`` (one running workload
of the example app): p50 and p99 latency and requests/s, with 1 client (sequential) and with 32
concurrent clients (tasks sharing one keep-alive ``httpx.AsyncClient`` in this process).
Against: a bare FastAPI app in its own uvicorn process (the same uvicorn settings as
``workloadlab serve``, uvicorn binding its own loopback port) with one GET route of the same
path shape returning the same JSON (``JSONResponse``), measured in the same run by the same
load generator with the same auth header. Rounds go ours, bare, ours, bare; the better round
(more requests/s) of each counts. Each phase ends after its request count or its time budget.
Goal: ours/bare latency and bare/ours requests/s <= 1.5.

httpx costs about as much per request as a bare FastAPI route does, so its ratios understate
the server's overhead; ``--client raw`` (a minimal HTTP/1.1 client) shows more of it.

    .venv/bin/python benchmarks/api.py [--repeat 2] [--requests 2000] [--client httpx|raw]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from _common import (
    PHASE_COLUMNS,
    TOKEN,
    Phase,
    api_client,
    clients,
    free_port,
    goal_text,
    hello_spec,
    load_phase,
    local_server,
    measure_raw,
    print_table,
    stop_process,
    wait_status,
    wait_until,
)

GOAL = 1.5
WORKLOAD_PATH = "/api/v2/console/workloads/{workload_id}/"


async def measure(
    url: str, total: int, concurrency: int, warmup: int, budget: float, client: str
) -> Phase:
    """Warm up (connections opened, code paths hot), then one measured phase."""
    if client == "raw":
        return await measure_raw(url, total, concurrency, warmup, budget)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        headers=headers, limits=limits, timeout=30.0, trust_env=False
    ) as pool:

        async def httpx_get(slot: int) -> int:
            return (await pool.get(url)).status_code

        await load_phase(httpx_get, warmup, concurrency, budget / 4)
        return await load_phase(httpx_get, total, concurrency, budget)


def serve_bare(payload_path: str, port: int) -> int:
    """The baseline server: one FastAPI route answering the stored JSON, on uvicorn."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    payload: dict[str, Any] = json.loads(Path(payload_path).read_text())
    app = FastAPI(redirect_slashes=False)

    @app.get(WORKLOAD_PATH)
    async def get_workload(workload_id: str) -> JSONResponse:
        return JSONResponse(payload)

    logging.basicConfig(
        level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="info",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
        log_config=None,
    )
    uvicorn.Server(config).run()
    return 0


def start_bare(payload: dict[str, Any], tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the baseline server; returns the process and its base URL once it answers."""
    payload_path = tmp / "payload.json"
    payload_path.write_text(json.dumps(payload))
    port = free_port()
    with open(tmp / "bare.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(payload_path), str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"bare server exited:\n{(tmp / 'bare.log').read_text()[-2000:]}")
        try:
            return httpx.get(f"{base}/docs", trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(ready, timeout=30.0, interval=0.05)
    except BaseException:
        stop_process(process)
        raise
    return process, base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="rounds of ours then bare (2)")
    parser.add_argument("--requests", type=int, default=2000, help="with 1 client (2000)")
    parser.add_argument(
        "--concurrent-requests", type=int, default=4000, help="with N clients, in all (4000)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="N concurrent clients (32)")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured first (200)")
    parser.add_argument(
        "--budget", type=float, default=7.0, help="at most seconds per measured phase (7)"
    )
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="load generator: httpx.AsyncClient, or a minimal keep-alive HTTP/1.1 client whose"
        " own cost hides less of the servers' (httpx)",
    )
    parser.add_argument(
        "--serve-bare", nargs=2, metavar=("PAYLOAD", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_bare:
        return serve_bare(args.serve_bare[0], int(args.serve_bare[1]))

    phases = [(1, args.requests), (args.concurrency, args.concurrent_requests)]
    results: dict[tuple[str, int], list[Phase]] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="wl-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        with local_server(tmp / "data", "--grace-period", "3s") as endpoint:
            with api_client(endpoint) as client:
                response = client.post(
                    "/console/workloads/",
                    json={"name": "bench-api", "artifact": hello_spec(free_port())},
                )
                response.raise_for_status()
                workload_id = response.json()["id"]
                wait_status(client, workload_id, "running", 0.005)
                response = client.get(f"/console/workloads/{workload_id}/")
                response.raise_for_status()
                sizes["ours"] = len(response.content)
            path = WORKLOAD_PATH.format(workload_id=workload_id)
            ours_url = endpoint.removesuffix("/api/v2") + path
            bare, bare_base = start_bare(response.json(), tmp)
            try:
                bare_url = bare_base + path
                sizes["bare"] = len(httpx.get(bare_url, trust_env=False).content)
                for _ in range(args.repeat):
                    for name, url in (("ours", ours_url), ("bare", bare_url)):
                        for concurrency, total in phases:
                            options = (args.warmup, args.budget, args.client)
                            phase = asyncio.run(measure(url, total, concurrency, *options))
                            results.setdefault((name, concurrency), []).append(phase)
            finally:
                stop_process(bare)

    best = {key: max(runs, key=lambda phase: phase.rate) for key, runs in results.items()}
    print(
        f"GET workload, {args.client} load generator, better of {args.repeat} rounds; "
        f"JSON {sizes['ours']} bytes (ours), {sizes['bare']} bytes (bare)"
    )
    rows = [
        best[(name, concurrency)].row(f"{clients(concurrency)}, {name}")
        for concurrency, _ in phases
        for name in ("ours", "bare")
    ]
    print_table(PHASE_COLUMNS, rows)
    for concurrency, _ in phases:
        ours, bare_phase = best[("ours", concurrency)], best[("bare", concurrency)]
        print(f"{clients(concurrency)}:")
        print(f"  p50 ours/bare:   {goal_text(ours.p(0.5) / bare_phase.p(0.5), GOAL)}")
        print(f"  p99 ours/bare:   {goal_text(ours.p(0.99) / bare_phase.p(0.99), GOAL)}")
        print(f"  req/s bare/ours: {goal_text(bare_phase.rate / ours.rate, GOAL)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
