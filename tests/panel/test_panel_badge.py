"""The status badge shows every status the workload passes through, and the busy mark needs
no font (real server, real watcher, widgets on a recording comm)."""

from __future__ import annotations

import itertools
import re
import time

from workloadlab.models import WorkloadStatus
from workloadlab.notebook.panel import open_panel
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.session import Session

from paneltools import Example, Recorder, eventually, frontend_click, frontend_set


def badge_words(recorder: Recorder, badge: object, since: float) -> list[str]:
    shown = [s.state["value"] for s in recorder.updates(badge, since)]
    return [value.rsplit(">", 2)[-2].removesuffix("</span") for value in shown]


def test_the_badge_shows_stopping_during_save_and_restart(
    session: Session, example: Example, recorder: Recorder
) -> None:
    panel = open_panel(session, example.id)
    row = next(r for r in panel.form.containers[0].env.rows if r.name.value == "GREETING")
    frontend_set(row.value, value="hello after the restart")
    clicked = time.monotonic()
    frontend_click(panel.save_restart)
    busy = str(panel.status.message.value)
    assert 'class="wl-spinner"' in busy, "a ring drawn by CSS"
    assert not re.search("[\u2300-\u23ff\U0001f300-\U0001faff]", busy), "no emoji glyph"
    eventually(lambda: "Restarted:" in str(panel.status.message.value))
    eventually(lambda: ">running</span>" in str(panel.status.badge.value))
    words = badge_words(recorder, panel.status.badge, clicked)
    assert words[:5] == ["stopping", "stopped", "submitted", "initializing", "running"], words
    assert words[-1] == "running"
    updates = [s.at for s in recorder.updates(panel.status.badge, clicked)]
    gaps = [b - a for a, b in itertools.pairwise(updates)]
    assert min(gaps) >= panel._throttle.interval * 0.8, "each status stays one redraw at least"


def test_a_crash_loop_does_not_make_the_badge_lag(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    state = PanelState(panel.state.workload, panel.state.artifact)
    statuses = ["initializing", "running"] * 20
    for word in statuses:
        state.observe(state.workload.model_copy(update={"status": WorkloadStatus(word)}))
    shown = []
    while state.badge_behind:
        shown.append(state.next_badge().value)
    assert len(shown) <= 8
    assert shown[-1] == "running"
    assert state.next_badge().value == "running"
