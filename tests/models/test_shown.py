"""Events as a server may send them (``details`` is whatever it holds): a table and a timeline
always, never a formatter's traceback in place of the table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from IPython.core.formatters import DisplayFormatter

from workloadlab.commands.timeline import runs_of, timeline_html, timeline_text
from workloadlab.models import Event
from workloadlab.models.shown import event_summary

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
