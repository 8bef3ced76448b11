"""The panel's state on plain data: the timeline, status changes, relative times, the throttle."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from typing import Any

from workloadlab.commands.timeline import timeline_text
from workloadlab.models import Event, WorkloadStatus
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.status import countdown, duration
from workloadlab.notebook.panel.throttle import Throttle
from workloadlab.notebook.portal import Portal

from harness import hello_spec

T0 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def workload(status: str = "running", ready: bool = True, **fields: Any) -> Workload:
    conditions = [{"type": "Started", "value": "True"}, {"type": "Ready", "value": str(ready)}]
    return Workload.model_validate(
        {
            "id": "w" * 24,
            "name": "hello",
            "status": status,
            "statusDetails": {"conditions": conditions if status == "running" else []},
            "runningSince": at(10) if status == "running" else None,
            **fields,
        }
    )


def artifact(updated: float = 0) -> Artifact:
    return Artifact.model_validate(
        {
            **hello_spec(8080),
            "id": "a" * 24,
            "status": "draft",
            "createdAt": at(0),
            "updatedAt": at(updated),
        }
    )


def event(kind: str, seconds: float, **details: Any) -> Event:
    return Event(id=f"{kind}{seconds}", timestamp=at(seconds), event_type=kind, details=details)


def test_timeline_merges_events_and_observed_changes() -> None:
    state = PanelState(workload("running"), artifact())
    state.observe(workload("stopping"), now=at(30))
    state.observe(workload("stopped"), now=at(31))
    state.events = [
        event("workload.statusChanged", 30.2, **{"from": "running", "to": "stopping"}),
        event("workload.stopped", 30.1),
        event(
            "artifact.updated",
            20,
            changedFields=["spec.containerGroups[0].containers[0].environmentVars[GREETING].value"],
        ),
    ]
    (run,) = state.runs()
    assert [(c.old, c.new) for c in run.changes] == [
        ("running", "stopping"),  # the server's, and the one seen (one change)
        ("stopping", "stopped"),  # seen before the server's event came in
    ]
    assert [e.event_type for e in run.events] == ["artifact.updated", "workload.stopped"]
    text = timeline_text([run])
    assert "artifact updated environmentVars[GREETING]" in text
    assert text.index("running → stopping") < text.index("stopping → stopped")


def test_observe_records_changes_only() -> None:
    state = PanelState(workload("running"), artifact())
    assert not state.observe(workload("running", restartCount=1))
    assert state.observe(workload("stopping"))
    assert [(t.old, t.new) for t in state.transitions] == [
        (WorkloadStatus.RUNNING, WorkloadStatus.STOPPING)
    ]


def test_relative_times() -> None:
    assert duration(42.9) == "42 s"
    assert duration(3600 + 5 * 60) == "1 h 05 min"
    assert duration(3 * 86400 + 7200) == "3 d 2 h"
    assert countdown(at(8 * 3600), at(0)) == "in 8 h 00 min"
    assert countdown(at(0), at(1)) == "expired"


def test_throttle_coalesces_and_always_draws_the_last_request() -> None:
    portal = Portal("throttle-test")
    drawn: list[float] = []
    done = threading.Event()

    def draw() -> None:
        drawn.append(time.monotonic())
        done.set()

    throttle = Throttle(portal, draw, rate=10)
    try:
        started = time.monotonic()
        while time.monotonic() - started < 0.55:
            throttle.request()  # thousands of requests
        done.clear()
        throttle.request()
        assert done.wait(1)
        time.sleep(0.25)  # a quiet period: nothing more is drawn
        gaps = [b - a for a, b in itertools.pairwise(drawn)]
        assert 5 <= len(drawn) <= 8
        assert min(gaps) >= 0.095
        assert drawn[-1] > started + 0.5, "the last request was drawn"
        count = len(drawn)
        time.sleep(0.2)
        assert len(drawn) == count
    finally:
        throttle.close()
        portal.stop()
