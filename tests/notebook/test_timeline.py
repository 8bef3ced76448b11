"""The timeline of a crash loop that went on for hours (DataRobot's ``CrashLoopBackOff`` never
gives up): one run with hundreds of crashes and thousands of events stays a picture of a
bounded size, its caption still counting every crash."""

from __future__ import annotations

import datetime as dt

from workloadlab.commands.timeline import (
    MOST_BANDS,
    MOST_ENTRIES,
    MOST_MARKS,
    runs_of,
    timeline_html,
)
from workloadlab.models import Event

START = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def status(n: int, at: dt.datetime, old: str, new: str, message: str = "") -> Event:
    details = {"from": old, "to": new, "message": message}
    return Event(id=f"s{n}", timestamp=at, event_type="workload.statusChanged", details=details)


def crash_loop(crashes: int, events: int) -> list[Event]:
    trail = [status(0, START, "stopped", "submitted")]
    for n in range(crashes):
        at = START + dt.timedelta(seconds=10 * n + 1)
        trail.append(status(3 * n + 1, at, "errored" if n else "submitted", "initializing"))
        trail.append(status(3 * n + 2, at + dt.timedelta(seconds=3), "initializing", "running"))
        trail.append(
            status(3 * n + 3, at + dt.timedelta(seconds=6), "running", "errored", "exited 1")
        )
    trail += [
        Event(
            id=f"e{n}",
            timestamp=START + dt.timedelta(seconds=n),
            event_type="workload.artifactUpdated",
            details={"changedFields": ["spec.containerGroups[0].containers[0].port"]},
        )
        for n in range(events)
    ]
    return trail


def test_a_crash_loop_of_hundreds_of_restarts_stays_a_bounded_picture() -> None:
    runs = runs_of(crash_loop(600, 3000), [])
    assert len(runs) == 1
    now = START + dt.timedelta(hours=2)
    page = timeline_html(runs, now)
    assert "600 crashes" in page
    assert page.count("wl-mark") <= MOST_MARKS
    assert page.count("<div>") <= MOST_ENTRIES + 1
    assert "earlier changes and events" in page
    assert len(page) < 150_000, len(page)
    assert page.count('class="wl-band ') <= MOST_BANDS + 1
    assert "wl-band-earlier" in page
    small = timeline_html(runs_of(crash_loop(3, 2), []), now)
    assert small.count("wl-mark wl-crash") == 3
    assert small.count("wl-mark wl-event") == 2
    assert "earlier changes and events" not in small
