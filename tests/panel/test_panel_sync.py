"""The panel's "Live sync" toggle and line against the real local server: on, a save restarts
the workload and the line shows the last sync and its duration; a syntax error is shown while
the last good instance serves; off, nothing is left watching."""

from __future__ import annotations

from pathlib import Path

import httpx

from workloadlab.notebook.panel import panel
from workloadlab.notebook.panel.sync import SyncView
from workloadlab.notebook.session import Session
from workloadlab.sync import syncs_of

from harness import free_port, wait_status
from paneltools import eventually, frontend_set
from synctools import app_spec, sync_threads, write_app


def _answer(api: httpx.Client, workload_id: str) -> str:
    answer: str = api.get(f"/endpoints/workloads/{workload_id}/").json()["answer"]
    return answer


def _running_app(api: httpx.Client, app: Path, name: str) -> str:
    """The id of a running workload of ``app``."""
    artifact = app_spec(app, free_port())
    created = api.post("/console/workloads/", json={"name": name, "artifact": artifact})
    assert created.status_code == 201, created.text
    workload_id: str = created.json()["id"]
    wait_status(api, workload_id, "running")
    return workload_id


def test_the_toggle_syncs_and_the_line_follows(
    session: Session, api: httpx.Client, tmp_path: Path
) -> None:
    app = write_app(tmp_path / "app", "one")
    workload_id = _running_app(api, app, "panel-sync")
    view = SyncView(session, workload_id)
    assert not view.toggle.value
    assert "Live sync is off" in view.line.value

    frontend_set(view.toggle, value=True)
    eventually(lambda: "Watching" in view.line.value)
    assert str(app.parent.resolve()) in view.line.value
    assert syncs_of(session).get(workload_id) is not None

    write_app(app.parent, "two")
    eventually(lambda: "Synced app.py" in view.line.value)
    assert _answer(api, workload_id) == "two"
    assert " s; watching" in view.line.value, "the duration is shown"

    app.write_text(app.read_text().replace("def do_GET(self):", "def do_GET(self)"))
    eventually(lambda: "✗" in view.line.value)
    assert "app.py:" in view.line.value
    assert "the last good instance keeps serving" in view.line.value
    assert _answer(api, workload_id) == "two"

    frontend_set(view.toggle, value=False)
    eventually(lambda: "Live sync is off" in view.line.value)
    eventually(lambda: not sync_threads())
    assert syncs_of(session).get(workload_id) is None
    view.detach()
    api.delete(f"/console/workloads/{workload_id}/")


def test_the_panel_of_a_synced_workload_shows_its_sync(
    session: Session, api: httpx.Client, tmp_path: Path
) -> None:
    workload_id = _running_app(api, write_app(tmp_path / "app", "one"), "panel-sync-shown")
    sync = session.run(syncs_of(session).begin(session.client, workload_id))
    shown = panel(workload_id)
    assert shown.live_sync.toggle.value, "the panel shows the sync the magic started"
    assert "Watching" in shown.live_sync.line.value
    session.run(syncs_of(session).end(workload_id))
    eventually(lambda: not shown.live_sync.toggle.value)
    assert not sync.running
    shown.close()
    api.delete(f"/console/workloads/{workload_id}/")
