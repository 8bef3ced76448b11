"""Smoke checks in the panel, against the real local server (widgets on a recording comm): a
Save & Restart that breaks the app shows the failed check with its diff, Lock & Deploy's
checklist names it and holds Confirm back, the deploy flow itself refuses; fixed, the check
passes, Lock & Deploy goes through and shows the draft's and the deployment's answers side by
side."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from test_panel_widget import edit_greeting, message

from workloadlab import smoke
from workloadlab.models import Importance
from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.session import Session

from paneltools import Example, eventually, frontend_click, frontend_set

GREETING = "hello from the test"


@pytest.fixture
def smoke_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A smoke file beside the "notebook" (the current directory)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(smoke.storage.ENV_VAR, raising=False)
    return tmp_path / smoke.storage.FILE_NAME


def record_greeting(path: Path, workload: str) -> None:
    """The check ``%workload invoke / --save greeting --fields greeting`` records."""
    check = smoke.SmokeCheck.model_validate(
        {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"greeting": GREETING}}}
    )
    smoke.save(path, smoke.SmokeFile().with_check(workload, "greeting", check))


def text(markup: str) -> str:
    """HTML as read on screen (tags dropped; the diff's lines kept)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup.replace("</div>", "\n")))


def shown(panel: WorkloadPanel) -> str:
    return text(str(panel.smoke_view.results.value))


def checklist(panel: WorkloadPanel) -> str:
    return text(str(panel.deploy.checklist.value))


def test_a_failing_check_after_a_restart_holds_lock_and_deploy_back(
    session: Session, example: Example, smoke_file: Path
) -> None:
    name = example.get()["name"]
    record_greeting(smoke_file, name)
    panel = open_panel(session, example.id)

    edit_greeting(panel, "broken")
    frontend_click(panel.save_restart)
    eventually(lambda: panel._smoke_view is not None and "1 of 1 failed" in shown(panel))
    failed = f'greeting (GET /): /greeting: expected "{GREETING}", got "broken"'
    assert f"✗ {failed}" in shown(panel)
    assert f'- /greeting: "{GREETING}"\n+ /greeting: "broken"' in shown(panel), "the diff"

    frontend_click(panel.lock_deploy)
    eventually(lambda: f"✗ Recorded smoke checks ({failed})" in checklist(panel))
    assert panel.deploy.confirm.disabled
    frontend_click(panel.deploy.confirm)  # a click that slips through does nothing
    assert panel.state.busy is None

    state = panel.state  # the flow itself refuses too (a Confirm enabled a moment too early)
    flow = panel._deploy_flow(state.workload, state.artifact, "smoke-prod", Importance.LOW)
    session.run(flow)
    eventually(lambda: f"Not locked: a smoke check fails: {failed}" in message(panel))
    assert example.artifact()["status"] == "draft", "nothing was locked"

    edit_greeting(panel, GREETING)  # fixed
    frontend_click(panel.save_restart)
    eventually(lambda: "all 1 passed" in shown(panel))
    assert "✓ greeting (GET /): 200 in" in shown(panel)
    eventually(lambda: "✓ Recorded smoke checks (1 passed: greeting)" in checklist(panel))
    frontend_set(panel.deploy.name, value="smoke-prod")
    eventually(lambda: not panel.deploy.confirm.disabled)
    frontend_click(panel.deploy.confirm)
    eventually(lambda: "Deployed as 'smoke-prod'" in message(panel))
    eventually(lambda: "Draft vs deployment smoke-prod" in shown(panel))
    table = shown(panel)
    assert table.count(f'200 {{"/greeting": "{GREETING}"}}') == 2, "draft and deployed"
    assert "✓ same" in table
