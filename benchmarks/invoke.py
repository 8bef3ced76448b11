"""Invoke latency of a healthy workload, alone and while 200 calls hang on another workload.

Measured: ``GET /api/v2/endpoints/workloads/{id}/`` on ``workloadlab serve`` with its default
invoke limits (100 connections per workload, connect timeout 5 s, read timeout 5 min), answered
by the example app: p50 and p99 latency with 1 client (sequential) and with 8 concurrent
clients, each a minimal keep-alive HTTP/1.1 connection (``RawConnection``).
Against: the same, measured in the same run, while 200 calls to a second workload are
outstanding, sent by a process of their own (as that workload's callers would be). It runs the
tests' misbehaving app, whose ``/hang`` never answers: 100 calls hold all of its connections,
the others wait for one and are answered ``503`` after the connect timeout. The calls are first
sent spread over those 5 s, and each call answered is sent again after its ``Retry-After``
(1 s), as workloadlab's client does, so that about 200 stay outstanding. With ``--burst`` they
are all sent at once and sent again at once: the 100 over the limit then time out together,
a storm of 100 ``503`` s and 100 new calls every 5 s, whose CPU cost (about 0.6 ms of the
server's per call) the healthy workload's requests share. Rounds go alone, hanging, alone,
hanging; the better round (lower p50) of each counts.
Goal: hanging/alone p50 and p99 <= 1.5.

Before each workload had its own pool (one pool of 100 for all, no timeout), the healthy
workload did not answer at all in the second case.

    .venv/bin/python benchmarks/invoke.py [--repeat 3] [--requests 2000] [--hanging 200] [--burst]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _common import (
    PHASE_COLUMNS,
    TOKEN,
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
    wait_until,
)

GOAL = 1.5
MISBEHAVING_APP = Path(__file__).resolve().parent.parent / "tests" / "misbehaving_app.py"
SPREAD = 5.0
"""Seconds over which the hanging calls are first sent: the server's default connect timeout,
the longest a call over the limit waits."""
HANGS_AT_ONCE = 100
"""Calls that reach the hanging app at a time: the server's default ``--invoke-max-connections``."""


class HangingCalls:
    """``count`` calls kept outstanding on ``url``, closed at the end (the callers give up).

    As callers come and go: the first calls are sent spread over ``SPREAD`` seconds, and a call
    answered (``503``: busy) is sent again after its ``Retry-After``, as workloadlab's client
    does. With ``burst``, all are sent at once and each answered one again at once: the calls
    over the limit then time out together, every connect timeout, a storm of ``503`` s."""

    def __init__(self, url: str, count: int, *, burst: bool = False) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n"
        ).encode()
        self.count = count
        self.burst = burst
        self.answered: dict[int, int] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the callers give up meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _keep_one(self, index: int) -> None:
        if not self.burst:
            await self._pause(index * SPREAD / self.count)
        while not self._stop.is_set():
            reader, writer = await asyncio.open_connection(self.host, self.port)
            try:
                writer.write(self.request)
                answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
                stop = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait({answer, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if not answer.done():
                    answer.cancel()
                    return
                head = answer.result()
                status = int(head.split()[1])
                self.answered[status] = self.answered.get(status, 0) + 1
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            if not self.burst:
                await self._pause(retry_after(head))

    def start(self) -> None:
        """Send the calls."""
        self._stop.clear()
        self._tasks = [asyncio.create_task(self._keep_one(i)) for i in range(self.count)]

    async def stop(self) -> None:
        """Give up every outstanding call."""
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def until_terminated(self) -> None:
        """Keep the calls outstanding until SIGTERM; then print the answers' statuses counted
        (JSON) and give up the calls."""
        terminated = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)
        self.start()
        await terminated.wait()
        await self.stop()
        print(json.dumps(self.answered), flush=True)


def retry_after(head: bytes) -> float:
    """The ``Retry-After`` seconds of an answer's head, 1 if it has none."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"retry-after":
            return float(value)
    return 1.0


def start_hanging(url: str, count: int, burst: bool) -> subprocess.Popen[str]:
    """:class:`HangingCalls` in a process of their own (as the callers of another workload
    would be), so that their work does not delay this process's measurements."""
    return subprocess.Popen(
        [sys.executable, __file__, "--hang", url, str(count), *(["--burst"] if burst else [])],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_hanging(process: subprocess.Popen[str]) -> dict[int, int]:
    """Make the hanging callers give up; the statuses of the answers they got, counted."""
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    return {int(status): count for status, count in json.loads(out).items()}


def hang_requests(events: Path) -> int:
    """``/hang`` requests the misbehaving app has seen so far."""
    with contextlib.suppress(FileNotFoundError):
        return sum(1 for line in events.read_text().splitlines() if line.endswith(" /hang"))
    return 0


def misbehaving_spec(port: int, events: Path) -> dict[str, Any]:
    """The tests' misbehaving app on ``port``, writing down what reaches it in ``events``."""
    spec = hello_spec(port)
    primary = spec["spec"]["containerGroups"][0]["containers"][0]
    primary["entrypoint"] = [sys.executable, str(MISBEHAVING_APP)]
    primary["environmentVars"] = [{"name": "EVENTS", "value": str(events)}]
    return spec


def rounds(
    healthy_url: str, hanging_url: str, events: Path, args: argparse.Namespace
) -> tuple[dict[tuple[str, int], list[Phase]], dict[int, int]]:
    """Every round's phases, by (``alone``/``hanging``, concurrency); and the statuses of the
    answers the hanging calls got, counted."""
    results: dict[tuple[str, int], list[Phase]] = {}
    answered: dict[int, int] = {}
    for _ in range(args.repeat):
        for state in ("alone", "hanging"):
            seen = hang_requests(events)
            hanging = (
                start_hanging(hanging_url, args.hanging, args.burst) if state == "hanging" else None
            )
            try:
                if hanging is not None:
                    wait_until(lambda seen=seen: hang_requests(events) >= seen + HANGS_AT_ONCE, 30)
                for concurrency, total in ((1, args.requests), (8, args.concurrent_requests)):
                    measured = measure_raw(
                        healthy_url, total, concurrency, args.warmup, args.budget
                    )
                    results.setdefault((state, concurrency), []).append(asyncio.run(measured))
            finally:
                if hanging is not None:
                    for status, count in stop_hanging(hanging).items():
                        answered[status] = answered.get(status, 0) + count
    return results, answered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of alone then hanging (3)")
    parser.add_argument("--requests", type=int, default=2000, help="with 1 client (2000)")
    parser.add_argument(
        "--concurrent-requests", type=int, default=4000, help="with 8 clients, in all (4000)"
    )
    parser.add_argument(
        "--hanging", type=int, default=200, help="calls hanging meanwhile, at least 100 (200)"
    )
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured first (200)")
    parser.add_argument(
        "--budget", type=float, default=7.0, help="at most seconds per measured phase (7)"
    )
    parser.add_argument(
        "--burst",
        action="store_true",
        help="send the hanging calls all at once, and each answered one again at once",
    )
    parser.add_argument("--hang", nargs=2, metavar=("URL", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hang:
        calls = HangingCalls(args.hang[0], int(args.hang[1]), burst=args.burst)
        asyncio.run(calls.until_terminated())
        return 0

    with tempfile.TemporaryDirectory(prefix="wl-bench-invoke-") as tmp_name:
        tmp = Path(tmp_name)
        events = tmp / "events"
        with local_server(tmp / "data", "--grace-period", "3s") as endpoint:
            with api_client(endpoint) as client:
                ids = {}
                for name, spec in (
                    ("healthy", hello_spec(free_port())),
                    ("hanging", misbehaving_spec(free_port(), events)),
                ):
                    response = client.post(
                        "/console/workloads/", json={"name": f"bench-{name}", "artifact": spec}
                    )
                    response.raise_for_status()
                    ids[name] = response.json()["id"]
                    wait_status(client, ids[name], "running", 0.01)
            origin = endpoint.removesuffix("/api/v2")
            healthy_url = f"{origin}/api/v2/endpoints/workloads/{ids['healthy']}/"
            hanging_url = f"{origin}/api/v2/endpoints/workloads/{ids['hanging']}/hang"
            load_before = os.getloadavg()[0]
            results, answered = rounds(healthy_url, hanging_url, events, args)
            load_after = os.getloadavg()[0]

    best = {key: min(runs, key=lambda phase: phase.p(0.5)) for key, runs in results.items()}
    busy = answered.get(503, 0)
    how = "all at once, sent again at once" if args.burst else "spread, sent again after 1 s"
    print(
        f"invoke GET of the example app, better of {args.repeat} rounds; 'hanging': "
        f"{args.hanging} calls outstanding on another workload ({how}; {busy} answered 503 "
        f"busy; other answers: {sum(answered.values()) - busy}); machine load average "
        f"{load_before:.1f} before, {load_after:.1f} after ({os.cpu_count()} CPUs)"
    )
    rows = [
        best[(state, concurrency)].row(f"{clients(concurrency)}, {state}")
        for concurrency in (1, 8)
        for state in ("alone", "hanging")
    ]
    print_table(PHASE_COLUMNS, rows)
    for concurrency in (1, 8):
        alone, loaded = best[("alone", concurrency)], best[("hanging", concurrency)]
        print(f"{clients(concurrency)}:")
        print(f"  p50 hanging/alone: {goal_text(loaded.p(0.5) / alone.p(0.5), GOAL)}")
        print(f"  p99 hanging/alone: {goal_text(loaded.p(0.99) / alone.p(0.99), GOAL)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
