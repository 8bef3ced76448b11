"""The update budget, proven with a recording comm: while the watcher sees a flood of changes
(status transitions and hundreds of log lines), each widget is updated at most ~10 times a
second, never with a value it already has, and the final state is always drawn."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
import time
from collections.abc import Sequence

import httpx

from workloadlab.models import LogRecord
from workloadlab.notebook.panel import open_panel
from workloadlab.notebook.session import Session

from harness import wait_status, wait_until
from paneltools import Counter, Example, Recorder, Sent, eventually

RATE = 10


def most_in_a_second(sent: Sequence[Sent]) -> int:
    """The largest number of messages within any one-second window."""
    times = [s.at for s in sent]
    return max(
        (sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times)), default=0
    )


def test_updates_stay_within_budget_while_a_transition_is_watched(
    session: Session, example: Example, recorder: Recorder
) -> None:
    panel = open_panel(session, example.id)
    counter = Counter()
    panel.watcher.subscribe(counter)
    eventually(lambda: "serving on" in panel.status.logs.value)
    started = time.monotonic()
    flushes = panel._throttle.flushes

    stop_flood = threading.Event()
    sent = itertools.count(1)
    flooded = 0

    def flood() -> None:  # each request is a log line, so the workload changes all the time
        nonlocal flooded
        with httpx.Client(headers=example.api.headers, base_url=example.api.base_url) as api:
            while not stop_flood.is_set():
                flooded = next(sent)
                api.get(f"/endpoints/workloads/{example.id}/flood/{flooded}")

    flooding = threading.Thread(target=flood)
    flooding.start()
    try:
        # Enough lines however fast this machine sends them, over 1.5 s at least (time passing
        # is the point: the budget is per second), then a transition on top.
        wait_until(lambda: flooded >= 150, timeout=60)
        time.sleep(max(0.0, 1.5 - (time.monotonic() - started)))
        example.api.post(f"/console/workloads/{example.id}/stop")
        wait_status(example.api, example.id, "stopped")
        eventually(lambda: ">stopped</span>" in panel.status.badge.value)
        example.api.post(f"/console/workloads/{example.id}/start")
        wait_status(example.api, example.id, "running")
    finally:
        stop_flood.set()
        flooding.join()
    for n in range(3):  # the last lines, after the flood
        example.api.get(f"/endpoints/workloads/{example.id}/last/{n}")
    eventually(lambda: "GET /last/2 " in panel.status.logs.value)
    eventually(lambda: ">running</span>" in panel.status.badge.value)
    elapsed = time.monotonic() - started

    assert counter.workloads >= 10, "the watcher saw the workload change again and again"
    assert counter.log_lines > 100
    redraws = panel._throttle.flushes - flushes
    assert redraws <= elapsed * RATE + 2
    for widget in (
        panel.status.badge,
        panel.status.details,
        panel.status.logs,
        panel.status.timeline,
        panel.status.header,
        panel.status.message,
    ):
        updates = recorder.updates(widget, started)
        assert most_in_a_second(updates) <= RATE + 1, widget._dom_classes
        values = [u.state.get("value") for u in updates]
        assert all(a != b for a, b in itertools.pairwise(values)), "nothing is sent twice"
    logs = recorder.updates(panel.status.logs, started)
    # Several lines per redraw (the flood sends lines faster than 10 a second even on a busy
    # machine, not 100 a second as an idle one does).
    assert 5 <= len(logs) < counter.log_lines / 2, "log lines are coalesced"
    badge = [u.state["value"] for u in recorder.updates(panel.status.badge, started)]
    assert ">running</span>" in badge[-1], "the final state is drawn"
    assert any(">stopped</span>" in value for value in badge)
    everything = [s for s in recorder.sent if s.at >= started and s.msg_type == "comm_msg"]
    assert most_in_a_second(everything) <= 15 * (RATE + 1), "well under IOPub's 1,000/s"


def test_a_storm_of_news_is_coalesced(
    session: Session, example: Example, recorder: Recorder
) -> None:
    """Whatever the watcher delivers (here: a log line every millisecond for two seconds, on
    the portal's thread as a watcher would), the log view is redrawn at most ten times a
    second, and it ends with the last line."""
    panel = open_panel(session, example.id)
    eventually(lambda: "serving on" in panel.status.logs.value)
    started = time.monotonic()
    done = threading.Event()

    async def storm() -> None:
        for n in range(2000):
            line = LogRecord(timestamp=dt.datetime.now(dt.UTC), message=f"storm line {n}")
            panel.logs_added([line])
            await asyncio.sleep(0.001)
        done.set()

    session.portal.submit(storm())
    assert done.wait(30)
    eventually(lambda: "storm line 1999" in panel.status.logs.value)
    elapsed = time.monotonic() - started
    updates = recorder.updates(panel.status.logs, started)
    assert most_in_a_second(updates) <= RATE + 1
    assert len(updates) <= elapsed * RATE + 2
    assert "storm line 1999" in updates[-1].state["value"]
