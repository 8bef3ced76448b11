"""How fast the panel follows the server, and how fast it is built.

1. Latency: from a status change on the server (the timestamp of its ``workload.statusChanged``
   event, same machine and clock) to the new value in the panel's widget state (the badge's
   ``value`` trait, seen by an observer). Cycles of stop and start over HTTP, with a pause in
   each stable status so the watcher is back to its slow gap: the first change of each pause is
   the slow case, those during a transition the fast one. A change that is over before the
   panel looks counts until the panel shows it or a later status. Goal: median <= 300 ms.
2. Build: ``workloadlab.panel(id)`` in a kernel-less process (GET the workload, its artifact and
   newest deployment, then the widgets), closing it each time; and in a real ipykernel, where
   every widget is also a ``comm_open`` message. Goal: median <= 150 ms.

    .venv/bin/python benchmarks/panel.py [--transitions 20] [--builds 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    TOKEN,
    api_client,
    free_port,
    hello_spec,
    local_server,
    percentile,
    print_table,
    wait_status,
)

LATENCY_GOAL = 0.300
BUILD_GOAL = 0.150
PAUSE = 1.5
"""Seconds in each stable status before the next change (the watcher slows down meanwhile)."""


def ms(seconds: float) -> str:
    """``12.3 ms``."""
    return f"{seconds * 1000:.1f} ms"


def latency(endpoint: str, transitions: int) -> list[tuple[str, float]]:
    """Per status change: (``old → new``, seconds until the panel's badge showed it)."""
    import workloadlab
    from workloadlab.notebook.panel import open_panel
    from workloadlab.notebook.session import get_session

    with api_client(endpoint) as api:
        body = {"name": "bench-panel", "artifact": hello_spec(free_port())}
        body["artifact"]["spec"]["containerGroups"][0]["containers"][0]["environmentVars"].append(
            {"name": "STARTUP_DELAY", "value": "0.3"}  # initializing lasts a little
        )
        workload = api.post("/console/workloads/", json=body).json()
        wait_status(api, workload["id"], "running", 0.01)
        panel = workloadlab.panel(workload["id"])
        seen: list[tuple[float, str]] = []

        def observed(change: dict[str, Any]) -> None:
            word = str(change["new"]).rsplit("</span>", 1)[0].rsplit(">", 1)[-1]
            seen.append((time.time(), word))

        panel.status.badge.observe(observed, names="value")
        started = dt.datetime.now(dt.UTC)
        cycles = -(-transitions // 5)  # five status changes per stop + start
        for _ in range(cycles):
            time.sleep(PAUSE)
            api.post(f"/console/workloads/{workload['id']}/stop").raise_for_status()
            wait_status(api, workload["id"], "stopped", 0.01)
            time.sleep(PAUSE)
            api.post(f"/console/workloads/{workload['id']}/start").raise_for_status()
            wait_status(api, workload["id"], "running", 0.01)
        time.sleep(1.0)
        events = api.get(f"/console/workloads/{workload['id']}/events", params={"limit": 100})
        changes = [
            (dt.datetime.fromisoformat(e["timestamp"]).timestamp(), e["details"])
            for e in reversed(events.json()["data"])
            if e["eventType"] == "workload.statusChanged"
            and dt.datetime.fromisoformat(e["timestamp"]) > started
        ]
        open_panel(get_session(), workload["id"]).close()
        api.delete(f"/console/workloads/{workload['id']}/")
    results = []
    for index, (at, details) in enumerate(changes):
        later = {d["to"] for _, d in changes[index:]}  # this status, or one that replaced it
        shown = next(t for t, word in seen if t >= at and word in later)
        results.append((f"{details['from']} → {details['to']}", shown - at))
    return results[:transitions]


def builds(endpoint: str, count: int) -> tuple[list[float], list[float], int]:
    """Seconds to open a panel (GETs + widgets), to build its widgets alone, widgets per panel."""
    import ipywidgets

    import workloadlab
    from workloadlab.notebook.panel import WorkloadPanel
    from workloadlab.notebook.panel.api import load
    from workloadlab.notebook.session import get_session

    with api_client(endpoint) as api:
        workload = api.post(
            "/console/workloads/", json={"name": "bench-build", "artifact": hello_spec(free_port())}
        ).json()
        wait_status(api, workload["id"], "running", 0.01)
        session = get_session()
        workloadlab.panel(workload["id"]).close()  # warm: imports, connection
        opened, built = [], []
        before = len(ipywidgets.Widget.widgets)
        widgets = 0
        for _ in range(count):
            t0 = time.perf_counter()
            panel = workloadlab.panel(workload["id"])
            opened.append(time.perf_counter() - t0)
            widgets = len(ipywidgets.Widget.widgets) - before
            panel.close()
        models = session.run(load(session.client, workload["id"]))
        for _ in range(count):
            t0 = time.perf_counter()
            panel = WorkloadPanel(session, *models)
            built.append(time.perf_counter() - t0)
            panel.close()
        api.delete(f"/console/workloads/{workload['id']}/")
    return opened, built, widgets


KERNEL_CELL = """
import json, time, workloadlab
first = time.perf_counter(); workloadlab.panel({id!r}).close(); first = time.perf_counter() - first
times = []
for _ in range({count}):
    t0 = time.perf_counter(); p = workloadlab.panel({id!r}); times.append(time.perf_counter() - t0)
    p.close()
print(json.dumps({{"first": first, "times": times}}))
"""


def kernel_builds(endpoint: str, count: int) -> tuple[float, list[float]]:
    """The first panel in a fresh ipykernel (imports ipywidgets), then ``count`` more."""
    from jupyter_client.manager import KernelManager

    with api_client(endpoint) as api:
        workload = api.post(
            "/console/workloads/",
            json={"name": "bench-kernel", "artifact": hello_spec(free_port())},
        ).json()
        wait_status(api, workload["id"], "running", 0.01)
        manager = KernelManager(kernel_name="python3")
        env = {**os.environ, "DATAROBOT_ENDPOINT": endpoint, "DATAROBOT_API_TOKEN": TOKEN}
        manager.start_kernel(env=env)
        client = manager.blocking_client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            output: list[str] = []
            client.execute_interactive(
                KERNEL_CELL.format(id=workload["id"], count=count),
                timeout=120,
                output_hook=lambda msg: (
                    output.append(msg["content"].get("text", ""))
                    if msg["msg_type"] == "stream"
                    else None
                ),
            )
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        api.delete(f"/console/workloads/{workload['id']}/")
    result = json.loads("".join(output))
    return float(result["first"]), [float(t) for t in result["times"]]


def main() -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=20, help="status changes (20)")
    parser.add_argument("--builds", type=int, default=30, help="panels built (30)")
    parser.add_argument("--no-kernel", action="store_true", help="skip the ipykernel builds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp) / "data") as endpoint:
        os.environ["DATAROBOT_ENDPOINT"] = endpoint
        os.environ["DATAROBOT_API_TOKEN"] = TOKEN
        lags = latency(endpoint, args.transitions)
        opened, built, widgets = builds(endpoint, args.builds)
        kernel = None if args.no_kernel else kernel_builds(endpoint, min(args.builds, 15))

    values = [lag for _, lag in lags]
    print(f"Server status change -> panel widget state ({len(values)} status changes):")
    kinds = sorted({kind for kind, _ in lags}, key=lambda k: [kind for kind, _ in lags].index(k))
    rows = []
    for kind in kinds:
        mine = [lag for k, lag in lags if k == kind]
        rows.append([kind, str(len(mine)), ms(statistics.median(mine)), ms(max(mine))])
    rows.append(["all", str(len(values)), ms(statistics.median(values)), ms(max(values))])
    print_table(["change", "n", "median", "max"], rows)
    median = statistics.median(values)
    verdict = "met" if median <= LATENCY_GOAL else "NOT met"
    print(f"median {ms(median)}, p90 {ms(percentile(values, 0.9))} (goal <= 300 ms: {verdict})")
    print()
    print(f"Building a panel ({widgets} widgets; median of {len(opened)}):")
    rows = [
        [
            "open: 3 GETs + widgets, no kernel",
            ms(statistics.median(opened)),
            ms(percentile(opened, 0.9)),
        ],
        ["widgets only, no kernel", ms(statistics.median(built)), ms(percentile(built, 0.9))],
    ]
    if kernel is not None:
        first, times = kernel
        rows.append(
            ["open in an ipykernel", ms(statistics.median(times)), ms(percentile(times, 0.9))]
        )
        rows.append(["first open in a fresh ipykernel (imports)", ms(first), ""])
    print_table(["build", "median", "p90"], rows)
    reference = statistics.median(kernel[1]) if kernel is not None else statistics.median(opened)
    verdict = "met" if reference <= BUILD_GOAL else "NOT met"
    print(f"goal <= 150 ms ({'in an ipykernel' if kernel else 'no kernel'}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    raise SystemExit(main())
