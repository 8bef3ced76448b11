"""Streams and WebSockets through the invoke proxy, against the same app reached directly.

Measured, on ``workloadlab serve`` with the streaming example app
(``python -m workloadlab.examples.stream``) as a workload:

- **tokens**: ``GET /tokens`` (server-sent events, ``--tokens`` tokens, the app thinking
  ``--think`` s before the first and waiting ``--gap`` s between two, as a small chat model
  would): the time to the first token and to the end of the answer, through
  ``/api/v2/endpoints/workloads/{id}/tokens`` (with the token) and straight to the app's port,
  ``--streams`` of each, one after the other, alternating. Goal: p50 proxy/direct <= 1.2 for
  both.
- **echo**: the round trip of a 64-byte text message over a WebSocket to the app's ``/ws``
  (it echoes), through the proxy and directly, ``--messages`` of each on one socket each, in
  alternating blocks, ``--repeat`` rounds of that (the better round of each way counts: the
  machine is shared). Goal: p50 proxy/direct <= 1.5.

The same client library does both (httpx for the streams, the ``websockets`` asyncio client for
the sockets, no compression either way); the absolute time the proxy adds is printed too.

    .venv/bin/python benchmarks/stream.py [--streams 40] [--messages 3000] [--repeat 3]
                                          [--think 0.05] [--gap 0.01] [--tokens 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from _common import (
    TOKEN,
    api_client,
    free_port,
    goal_text,
    hello_spec,
    local_server,
    print_table,
    wait_status,
)

STREAM_ARGV = [sys.executable, "-m", "workloadlab.examples.stream"]
TOKENS_GOAL = 1.2
ECHO_GOAL = 1.5
BLOCK = 100
"""Echo round trips in a row on one socket before switching to the other."""
MESSAGE = "x" * 64


def stream_spec(port: int, think: float, gap: float) -> dict[str, object]:
    """The example hello spec, running the streaming app instead."""
    spec = hello_spec(port)
    container = spec["spec"]["containerGroups"][0]["containers"][0]
    container["entrypoint"] = STREAM_ARGV
    container["environmentVars"] = [
        {"name": "THINK_SECONDS", "value": str(think)},
        {"name": "TOKEN_SECONDS", "value": str(gap)},
    ]
    return spec


async def one_stream(client: httpx.AsyncClient, url: str, tokens: int) -> tuple[float, float]:
    """Seconds to the first token and to the end of one answer of ``tokens`` tokens."""
    began = time.perf_counter()
    first = 0.0
    count = 0
    params = {"prompt": "stream", "n": str(tokens)}
    async with client.stream("GET", f"{url}/tokens", params=params) as answer:
        async for line in answer.aiter_lines():
            if line.startswith("data: "):
                count += 1
                if count == 1:
                    first = time.perf_counter() - began
    assert count >= tokens, f"only {count} tokens from {url}"
    return first, time.perf_counter() - began


async def streams(direct: str, proxied: str, rounds: int, tokens: int) -> dict[str, list[float]]:
    """First-token and total times of ``rounds`` answers each way, alternating."""
    times: dict[str, list[float]] = {k: [] for k in ("direct ttft", "proxy ttft", "direct total",
                                                     "proxy total")}  # fmt: skip
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(trust_env=False, timeout=60, headers=headers) as client:
        for url in (direct, proxied):
            await one_stream(client, url, tokens)  # warm: connections, pools
        for _ in range(rounds):
            for name, url in (("direct", direct), ("proxy", proxied)):
                first, total = await one_stream(client, url, tokens)
                times[f"{name} ttft"].append(first)
                times[f"{name} total"].append(total)
    return times


async def echoes(direct: str, proxied: str, messages: int) -> dict[str, list[float]]:
    """Round trips of ``messages`` echoes each way, in alternating blocks."""
    times: dict[str, list[float]] = {"direct": [], "proxy": []}
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def block(ws: ClientConnection, into: list[float], count: int) -> None:
        for _ in range(count):
            began = time.perf_counter()
            await ws.send(MESSAGE)
            await ws.recv()
            into.append(time.perf_counter() - began)

    async with (
        connect(f"{direct}/ws", compression=None, proxy=None) as straight,
        connect(
            f"{proxied}/ws", compression=None, proxy=None, additional_headers=headers
        ) as through,
    ):
        await block(straight, [], BLOCK)  # warm
        await block(through, [], BLOCK)
        for _ in range(max(1, messages // BLOCK)):
            await block(straight, times["direct"], BLOCK)
            await block(through, times["proxy"], BLOCK)
    return times


def ms(seconds: float) -> str:
    """``12.34 ms``."""
    return f"{seconds * 1000:.2f} ms"


def report(times: dict[str, list[float]], pairs: list[tuple[str, str, str, float]]) -> None:
    """One row per measure: p50 direct, p50 proxy, what the proxy adds, the ratio."""
    rows = []
    for label, direct, proxied, goal in pairs:
        straight = statistics.median(times[direct])
        through = statistics.median(times[proxied])
        rows.append(
            [label, ms(straight), ms(through), ms(through - straight),
             goal_text(through / straight, goal)]
        )  # fmt: skip
    print_table(["", "direct p50", "proxy p50", "added", "proxy/direct"], rows)


def main() -> int:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=40)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.05)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3, help="echo rounds; the better counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp) / "data") as endpoint:
        port = free_port()
        with api_client(endpoint) as api:
            created = api.post(
                "/console/workloads/",
                json={"name": "bench-stream", "artifact": stream_spec(port, args.think, args.gap)},
            )
            created.raise_for_status()
            workload_id = created.json()["id"]
            wait_status(api, workload_id, "running", interval=0.05)
        direct = f"http://127.0.0.1:{port}"
        proxied = f"{endpoint}/endpoints/workloads/{workload_id}"
        tokens = asyncio.run(streams(direct, proxied, args.streams, args.tokens))
        ws_direct, ws_proxied = (url.replace("http", "ws", 1) for url in (direct, proxied))
        rounds = [
            asyncio.run(echoes(ws_direct, ws_proxied, args.messages)) for _ in range(args.repeat)
        ]
    # The better round of each way counts (the machine is shared: a busy moment is not ours).
    sockets = {way: min((r[way] for r in rounds), key=statistics.median) for way in rounds[0]}
    print(
        f"tokens: {args.streams} answers each way of {args.tokens + 3} tokens, "
        f"think {args.think:g} s, gap {args.gap:g} s"
    )
    report(
        tokens,
        [
            ("first token", "direct ttft", "proxy ttft", TOKENS_GOAL),
            ("whole answer", "direct total", "proxy total", TOKENS_GOAL),
        ],
    )
    print(
        f"\necho: {len(sockets['direct'])} round trips each way, {len(MESSAGE)}-byte text, "
        f"the better of {args.repeat} rounds"
    )
    report(sockets, [("round trip", "direct", "proxy", ECHO_GOAL)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
