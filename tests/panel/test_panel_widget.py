"""The panel against the real local server, without a browser: widgets on a recording comm,
edits and clicks delivered as the frontend sends them, the watcher on the real portal."""

from __future__ import annotations

import html
import itertools
import sys
import threading
import time
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_panel_budget import Counter

import workloadlab
from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel import WorkloadPanel, open_panel, open_panels
from workloadlab.notebook.panel.actions import SpecConflict, save
from workloadlab.notebook.panel.checklist import runs_saved_spec
from workloadlab.notebook.panel.watcher import active_watchers, poke_watcher
from workloadlab.notebook.session import Session

from harness import FAKE_TOKEN, wait_status
from paneltools import (
    Example,
    Recorder,
    eventually,
    frontend_click,
    frontend_set,
    portal_held,
)

BUTTONS = ("save", "restart", "save_restart", "lock_deploy")


def greeting_row(panel: WorkloadPanel) -> Any:
    return next(r for r in panel.form.containers[0].env.rows if r.name.value == "GREETING")


def edit_greeting(panel: WorkloadPanel, text: str) -> None:
    frontend_set(greeting_row(panel).value, value=text)


def message(panel: WorkloadPanel) -> str:
    return html.unescape(str(panel.status.message.value))


def badge(panel: WorkloadPanel) -> str:
    return str(panel.status.badge.value)


def disabled(panel: WorkloadPanel) -> dict[str, bool]:
    return {name: bool(getattr(panel, name).disabled) for name in BUTTONS}


def test_panel_shows_the_workload(session: Session, example: Example) -> None:
    panel = workloadlab.panel(example.id)
    assert isinstance(panel, WorkloadPanel)
    header = panel.status.header.value
    assert "panel_shows_the_workload" in header
    assert example.id in header
    assert f'href="{example.get()["endpoint"]}"' in header
    assert "artifact <b>draft</b>" in header
    assert "draft expires in 7 h 59 min" in header or "draft expires in 8 h 00 min" in header
    assert ">running</span>" in badge(panel)
    assert "Ready ✓" in panel.status.details.value
    assert "running since" in panel.status.details.value
    eventually(lambda: "serving on" in panel.status.logs.value)
    eventually(lambda: "workload created" in panel.status.timeline.value)
    assert "No unsaved changes" in panel.changes.value
    assert disabled(panel) == {
        "save": True,
        "restart": False,
        "save_restart": True,
        "lock_deploy": False,
    }
    assert panel.save.tooltip == "no unsaved changes"
    for css_class, widget in [
        ("wl-panel", panel),
        ("wl-status", panel.status.badge),
        ("wl-message", panel.status.message),
        ("wl-logs", panel.status.logs),
        ("wl-timeline", panel.status.timeline),
        ("wl-diff", panel.changes),
        ("wl-save", panel.save),
        ("wl-restart", panel.restart),
        ("wl-save-restart", panel.save_restart),
        ("wl-lock-deploy", panel.lock_deploy),
        ("wl-confirm", panel.deploy.confirm),
        ("wl-deploy-name", panel.deploy.name),
        ("wl-deployment", panel.deployment_card),
    ]:
        assert css_class in widget._dom_classes
    assert workloadlab.panel(example.id) is panel, "one panel per workload"
    assert workloadlab.panel(example.get()["name"]) is panel, "by name too"
    assert [w.workload_id for w in active_watchers()] == [example.id]


def test_panel_without_a_current_workload_says_what_to_do(session: Session) -> None:
    with pytest.raises(ValueError, match="no current workload: create one with"):
        workloadlab.panel()


def test_reprs_are_fixed_and_value_free(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    bundle = panel._repr_mimebundle_()
    assert repr(panel) == "<WorkloadPanel>"
    assert bundle["text/plain"] == "<WorkloadPanel>"
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    edit_greeting(panel, "secret-value-123")
    texts = [repr(panel), repr(panel.form), *(repr(c) for c in panel.form.containers)]
    texts += [panel.changes.value, panel.status.message.value]
    assert all("secret-value-123" not in text and FAKE_TOKEN not in text for text in texts)


def test_save_puts_the_spec_and_says_a_restart_is_needed(
    session: Session, example: Example
) -> None:
    panel = open_panel(session, example.id)
    edit_greeting(panel, "hello from the form")
    changes = panel.changes.value
    assert "<code>environmentVars[GREETING]</code>" in changes
    assert "value changed" in changes
    assert "needs restart" in changes
    assert "hello from the form" not in changes, "environment values are never shown"
    assert not panel.save.disabled
    assert panel.save.tooltip == "Save the spec (PUT); Restart applies it"

    frontend_click(panel.save)
    eventually(lambda: "Saved (PUT" in message(panel))
    assert "still runs the previous spec: Restart applies it" in message(panel)
    spec = example.artifact()["spec"]["containerGroups"][0]["containers"][0]
    assert {"name": "GREETING", "value": "hello from the form"} in spec["environmentVars"]
    assert example.invoke()["greeting"] == "hello from the test", "not restarted"
    assert panel.save.disabled
    assert "No unsaved changes" in panel.changes.value
    eventually(lambda: not runs_saved_spec(panel.state))


def test_metadata_only_is_patched_without_restart(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    before = example.get()
    frontend_set(panel.form.name.input, value="renamed-artifact")
    assert "metadata — no restart" in panel.changes.value
    assert "needs restart" not in panel.changes.value
    assert panel.save.tooltip == "Save name and description (PATCH); no restart needed"
    frontend_click(panel.save)
    eventually(lambda: "Saved (PATCH): metadata only, no restart needed." in message(panel))
    assert example.artifact()["name"] == "renamed-artifact"
    after = example.get()
    assert after["runningSince"] == before["runningSince"]
    assert after["status"] == "running"
    eventually(lambda: "artifact updated" in panel.status.timeline.value)
    assert runs_saved_spec(panel.state), "a metadata edit does not need a restart"


def slow_to_start(example: Example, seconds: float) -> None:
    """Make the example app take ``seconds`` to get ready after each start (a restart is then
    slower than the panel's redraws, so they show its steps)."""
    current = example.artifact()
    body = {k: current[k] for k in ("name", "description", "spec")}
    container = body["spec"]["containerGroups"][0]["containers"][0]
    container["environmentVars"].append({"name": "STARTUP_DELAY", "value": str(seconds)})
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success


def test_save_and_restart_applies_the_spec_and_buttons_wait(
    session: Session, example: Example, recorder: Recorder
) -> None:
    slow_to_start(example, 0.6)
    panel = open_panel(session, example.id)
    edit_greeting(panel, "hello after the restart")
    clicked = time.monotonic()
    before = example.artifact()
    with portal_held(session.portal):  # the click handler must only submit work to it
        handler = threading.Thread(target=frontend_click, args=(panel.save_restart,))
        handler.start()
        handler.join(10)
        assert not handler.is_alive(), "the click handler waited for the portal"
        assert example.artifact() == before, "the click handler saved by itself"
        assert all(disabled(panel).values()), "every button waits while an action runs"
        assert 'class="wl-spinner"' in message(panel)
        assert "</span> Saving" in message(panel)

    eventually(lambda: "Restarted:" in message(panel))
    assert "Saved. Restarted: save_and_restart" in message(panel)
    assert ">running</span>" in badge(panel)
    assert example.invoke()["greeting"] == "hello after the restart"
    assert disabled(panel) == {
        "save": True,
        "restart": False,
        "save_restart": True,
        "lock_deploy": False,
    }

    shown = [s.state["value"] for s in recorder.updates(panel.status.badge, clicked)]
    words = [value.rsplit(">", 2)[-2].removesuffix("</span") for value in shown]
    assert words[-1] == "running", "the final state is always shown"
    assert all(a != b for a, b in itertools.pairwise(words)), "unchanged values are not re-sent"
    eventually(lambda: "running → stopping" in panel.status.timeline.value)
    eventually(lambda: "stopped → submitted" in panel.status.timeline.value)
    restart_states = [s.state.get("disabled") for s in recorder.updates(panel.restart, clicked)]
    assert restart_states[0] is True
    assert restart_states[-1] is False
    progress = [s.state.get("value", "") for s in recorder.updates(panel.status.message, clicked)]
    assert any("</span> Restarting: " in text for text in progress), "the live status is shown"


def test_save_refuses_to_overwrite_a_newer_artifact(session: Session, example: Example) -> None:
    client = session.client
    loaded: Artifact = session.run(client.artifacts.get(example.artifact_id))
    changed = {**example.artifact(), "description": "changed elsewhere"}
    body = {k: changed[k] for k in ("name", "description", "spec")}
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success
    wanted = loaded.to_input().model_copy(update={"description": "mine"})
    with pytest.raises(SpecConflict) as caught:
        session.run(save(client, loaded, wanted))
    assert caught.value.current.description == "changed elsewhere"
    assert example.artifact()["description"] == "changed elsewhere"


def _change_elsewhere(example: Example, description: str) -> None:
    current = example.artifact()
    body = {k: current[k] for k in ("name", "spec")} | {"description": description}
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success


def test_a_conflict_offers_compare(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    edit_greeting(panel, "my edit")
    _change_elsewhere(example, "their edit")
    frontend_click(panel.save)  # unless the watcher noticed first (then Save waits for a choice)
    eventually(lambda: panel.conflict.layout.display is None)
    assert "changed on the server" in message(panel)
    assert panel.save.disabled
    assert panel.save.tooltip == "the artifact changed on the server: Reload or Compare first"
    assert example.artifact()["description"] == "their edit", "nothing was overwritten"

    frontend_click(panel.compare)
    assert panel.conflict.layout.display == "none"
    assert "Taken from the server: description." in message(panel)
    assert "Kept yours: environmentVars[GREETING]." in message(panel)
    assert panel.form.description.value == "their edit", "the form shows theirs"
    assert "<code>description</code>" not in panel.changes.value, "theirs is not listed as mine"
    assert "<code>environmentVars[GREETING]</code>" in panel.changes.value
    assert greeting_row(panel).value.value == "my edit", "Compare keeps the edits"
    frontend_click(panel.save)
    eventually(lambda: "Saved (PUT" in message(panel))
    saved = example.artifact()
    assert saved["description"] == "their edit"
    env = saved["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]
    assert {"name": "GREETING", "value": "my edit"} in env


def test_a_conflict_offers_reload(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    edit_greeting(panel, "my edit")
    _change_elsewhere(example, "their edit")
    frontend_click(panel.save)
    eventually(lambda: panel.conflict.layout.display is None)
    frontend_click(panel.reload)
    assert panel.form.description.value == "their edit"
    assert greeting_row(panel).value.value == "hello from the test", "Reload drops the edits"
    assert "No unsaved changes" in panel.changes.value
    assert "Reloaded the server's version" in message(panel)


def test_an_outside_change_reloads_a_form_without_edits(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    _change_elsewhere(example, "edited in another cell")
    eventually(lambda: panel.form.description.value == "edited in another cell")
    eventually(lambda: "the form shows the new version" in message(panel))
    assert panel.state.conflict is None


def test_lock_and_deploy_checks_first_then_shows_the_card(
    session: Session, example: Example
) -> None:
    panel = open_panel(session, example.id)
    edit_greeting(panel, "locked greeting")
    frontend_click(panel.lock_deploy)
    assert panel.deploy.box.layout.display is None
    assert panel.deploy.name.value == f"{example.get()['name']}-prod"
    assert "irreversible" in panel.deploy.warning.value
    assert "immutable" in panel.deploy.warning.value
    checklist = panel.deploy.checklist.value
    assert "✗</span> No unsaved edits" in checklist
    assert panel.deploy.confirm.disabled
    assert panel.deploy.confirm.tooltip == "every check must pass first"

    frontend_click(panel.save)  # saved, not restarted: the workload runs the old spec
    eventually(lambda: "Saved (PUT" in message(panel))
    panel.flush()
    eventually(lambda: "✗</span> Runs the saved spec" in panel.deploy.checklist.value)
    assert "✓</span> No unsaved edits" in panel.deploy.checklist.value
    assert panel.deploy.restart.layout.display is None, "a restart is offered"
    assert panel.deploy.confirm.disabled

    frontend_click(panel.deploy.restart)
    eventually(lambda: "Restarted:" in message(panel))
    eventually(lambda: not panel.deploy.confirm.disabled)
    assert panel.deploy.checklist.value.count("✓</span>") == 4
    assert panel.deploy.restart.layout.display == "none"

    frontend_set(panel.deploy.importance, index=2)  # a Dropdown syncs its index
    assert panel.deploy.importance_value.value == "high"
    frontend_set(panel.deploy.name, value="hello-production")
    frontend_click(panel.deploy.confirm)
    eventually(lambda: "Deployed as 'hello-production'" in message(panel))
    assert "registered as version 1" in message(panel)
    card = panel.deployment_card.value
    assert panel.deployment_card.layout.display is None
    assert "hello-production" in card
    assert "high" in card
    assert "/endpoints/deployments/" in card
    assert ">running</span>" in card
    assert panel.deploy.box.layout.display == "none"
    assert panel.form.read_only
    assert panel.form.containers[0].image.input.disabled
    assert panel.save.disabled
    assert panel.save.tooltip == "the artifact is registered: its container spec is immutable"
    assert panel.lock_deploy.disabled
    assert panel.lock_deploy.tooltip == "deployed as hello-production"
    assert "artifact <b>registered v1</b>" in panel.status.header.value
    assert "draft expires" not in panel.status.header.value
    artifact = example.artifact()
    assert (artifact["status"], artifact["version"]) == ("registered", 1)
    deployments = example.api.get("/console/deployments/", params={"workloadId": example.id})
    assert [d["importance"] for d in deployments.json()["data"]] == ["high"]


def test_errors_are_shown_in_words(
    session: Session, example: Example, capsys: pytest.CaptureFixture[str]
) -> None:
    panel = open_panel(session, example.id)
    entrypoint = panel.form.containers[0].entrypoint
    failing = f"{sys.executable} -c 'import sys; print(\"bad config\"); sys.exit(3)'"
    frontend_set(entrypoint.input, value=failing)
    frontend_click(panel.save_restart)
    eventually(lambda: "failed" in message(panel), timeout=30)
    text = message(panel)
    assert "✗ Saving failed: workload 'errors_are_shown_in_words'" in text
    assert "went errored while waiting for it to be running" in text
    assert ">errored</span>" in badge(panel)
    assert not panel.restart.disabled, "errored is not a transition: Restart is offered"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "", "nothing lands in the log console"


def test_buttons_wait_while_a_transition_is_under_way(session: Session, example: Example) -> None:
    slow_to_start(example, 2)
    panel = open_panel(session, example.id)
    example.api.post(f"/console/workloads/{example.id}/stop")
    wait_status(example.api, example.id, "stopped")
    example.api.post(f"/console/workloads/{example.id}/start")
    eventually(lambda: ">initializing</span>" in badge(panel), timeout=10)
    assert all(disabled(panel).values())
    assert panel.restart.tooltip == "wait: the workload is initializing"
    eventually(lambda: ">running</span>" in badge(panel), timeout=10)
    assert not panel.restart.disabled
    assert not panel.lock_deploy.disabled


def test_an_outside_stop_reaches_the_badge(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    stopped_at = time.monotonic()
    example.api.post(f"/console/workloads/{example.id}/stop")
    eventually(lambda: ">stopped</span>" in badge(panel), timeout=10)
    assert time.monotonic() - stopped_at < 5
    eventually(lambda: "running → stopping" in panel.status.timeline.value)
    assert "running since" not in panel.status.details.value
    assert not panel.restart.disabled
    assert panel.lock_deploy.disabled is False


def test_a_deleted_workload_stops_the_panel(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    watcher = panel.watcher
    example.api.delete(f"/console/workloads/{example.id}/")
    eventually(lambda: ">deleted</span>" in badge(panel), timeout=10)
    assert "was deleted" in message(panel)
    assert all(disabled(panel).values())
    assert watcher.stopped.wait(5)


def test_a_deployment_made_by_a_magic_reaches_the_open_panel_at_once(
    session: Session, example: Example
) -> None:
    """``%workload deploy`` hands the deployment it made to the workload's watcher, whose
    panels show its card at once (not only once the audit trail is read again)."""
    panel = open_panel(session, example.id)
    heard: list[Deployment] = []

    class Listener(Counter):
        def deployment_made(self, deployment: Deployment) -> None:
            heard.append(deployment)

    panel.watcher.subscribe(Listener())
    registered = example.api.patch(
        f"/registry/artifacts/{example.artifact_id}", json={"status": "registered"}
    )
    assert registered.status_code == 200, registered.text
    created = example.api.post(
        "/console/deployments/", json={"workloadId": example.id, "name": "made-by-a-magic"}
    )
    assert created.status_code == 201, created.text
    deployment = Deployment.model_validate(created.json())
    poke_watcher(session, example.id, deployment)
    eventually(lambda: heard == [deployment], timeout=5)
    eventually(lambda: "made-by-a-magic" in panel.deployment_card.value, timeout=5)
    assert panel.deployment_card.layout.display is None


def test_one_watcher_per_workload_closing_stops_it(
    session: Session, example: Example, recorder: Recorder
) -> None:
    panel = open_panel(session, example.id)
    again = open_panel(session, example.id)
    assert again is panel
    watcher = panel.watcher
    assert watcher.listeners == 1
    eventually(lambda: watcher.polls >= 1)
    closed_comms = {s.comm_id for s in recorder.sent if s.msg_type == "comm_close"}
    ids = (panel.model_id, panel.status.badge.model_id, panel.form.name.input.model_id)
    assert not closed_comms.intersection(ids)

    frontend_click(panel.close_button)
    assert panel.closed
    assert watcher.stopped.wait(5)
    assert active_watchers() == []
    assert open_panels() == []
    closed_comms = {s.comm_id for s in recorder.sent if s.msg_type == "comm_close"}
    assert closed_comms.issuperset(ids), "the panel and every part of it are closed"
    polls = watcher.polls
    time.sleep(0.6)
    assert watcher.polls == polls, "a closed panel's watcher does not poll"
    panel.close()  # twice is fine

    reopened = open_panel(session, example.id)
    assert reopened is not panel
    assert reopened.watcher is not watcher
    assert reopened.watcher.running
    assert ">running</span>" in badge(reopened)


def test_sidebar_shows_the_same_panel(session: Session, example: Example) -> None:
    shell = InteractiveShell.instance()
    panel = open_panel(session, example.id, sidebar=True)
    sidecar = panel._sidecar
    assert sidecar is not None
    assert "wl-sidecar" in sidecar._dom_classes
    assert sidecar.title == "⚙ sidebar_shows_the_same_panel"
    (output,) = sidecar.outputs
    view = output["data"]["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == panel.model_id
    assert panel._repr_mimebundle_() == {"text/plain": "<WorkloadPanel (in the sidebar)>"}
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()

    assert open_panel(session, example.id, sidebar=True) is panel
    assert sidecar.comm is None, "the previous sidebar tab is closed"
    shell.execution_count += 1
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle, "a later cell shows it inline"
    panel.close()
    assert panel._sidecar is None


def test_wait_status_helper_is_consistent(example: Example) -> None:
    assert wait_status(example.api, example.id, "running")["id"] == example.id


def test_after_a_save_a_field_set_back_to_its_first_value_is_an_edit(
    session: Session, example: Example
) -> None:
    panel = open_panel(session, example.id)
    edit_greeting(panel, "changed")
    frontend_click(panel.save_restart)
    eventually(lambda: "Restarted:" in message(panel))
    edit_greeting(panel, "hello from the test")  # the value the form first loaded
    assert [c.path for c in panel.pending_changes] == [
        "spec.containerGroups[0].containers[0].environmentVars[GREETING].value"
    ]
    frontend_click(panel.save_restart)
    eventually(lambda: "Restarted:" in message(panel) and panel.state.busy is None)
    assert example.invoke()["greeting"] == "hello from the test"
