"""Events as a server may send them (``details`` is whatever it holds): a table and a timeline
always, never a formatter's traceback in place of the table."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.formatters import DisplayFormatter

from workloadlab.commands.timeline import runs_of, timeline_html, timeline_text
from workloadlab.models import Event
from workloadlab.models.neutral import Workload
from workloadlab.models.shown import event_summary
from workloadlab.models.tables import when
from workloadlab.notebook.panel.status import clock

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "details",
    [
        {"changedFields": None},
        {"changedFields": "spec.containerGroups[0].containers[0].port"},
        {"changedFields": [1, None, {"a": "<i>"}]},
        {"from": None, "to": 5, "message": ["<i>not text</i>"]},
        {"nested": {"deep": [1, {"x": "<i>"}]}},
    ],
)
def test_odd_details_still_show_as_a_table_and_a_timeline(details: dict[str, Any]) -> None:
    for kind in ("artifact.updated", "workload.statusChanged"):
        event = Event(id="e", timestamp=NOW, event_type=kind, details=details)
        data, _ = DisplayFormatter().format(event)
        assert 'class="wl-table"' in data["text/html"]
        assert "<i>" not in data["text/html"]
        runs = runs_of([event], [])
        assert "<i>" not in timeline_html(runs, NOW)
        assert timeline_text(runs)


def test_changed_fields_as_a_string_are_one_field_not_its_letters() -> None:
    path = "spec.containerGroups[0].containers[0].port"
    event = Event(id="e", timestamp=NOW, event_type="artifact.updated",
                  details={"changedFields": path})  # fmt: skip
    assert event_summary(event) == "port"


@pytest.fixture
def west_of_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is New York's for the test."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_zero_time_of_go_apis_shows_as_a_time_not_an_overflow(west_of_utc: None) -> None:
    """``0001-01-01T00:00:00Z`` (Go's zero time, what many APIs send for "never") has no local
    time west of UTC: tables and the panel show it in UTC."""
    zero = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert when(zero) == "0001-01-01 00:00:00 UTC"
    assert clock(zero) == "00:00:00 UTC"
    workload = Workload.model_validate(
        {"id": "w", "name": "n", "status": "running", "runningSince": "0001-01-01T00:00:00Z"}
    )
    data, _ = DisplayFormatter().format(workload)
    assert "0001-01-01 00:00:00 UTC" in data["text/html"]
    event = Event(id="e", timestamp=zero, event_type="workload.statusChanged", details={})
    assert "0001-01-01" in timeline_html(runs_of([event], []), NOW)
