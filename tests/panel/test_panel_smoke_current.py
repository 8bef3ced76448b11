"""Smoke checks in the panel on the current generation (a ``serve --api current`` server, widgets
on a recording comm): Lock & Deploy runs the checks into its checklist, and a new production
workload of the locked artifact is compared with the draft once it runs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from currenttools import current_artifact, wait_for
from workloadlab import smoke
from workloadlab.notebook.panel import open_panel
from workloadlab.notebook.session import Session

from harness import LocalServer, free_port
from paneltools import eventually, frontend_click, frontend_set


@pytest.fixture(scope="module")
def server(current_server: LocalServer) -> LocalServer:
    """The module's server speaks the current generation."""
    return current_server


@pytest.fixture
def running(
    api: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """A running workload of the example app with a recorded check, in the test's directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(smoke.storage.ENV_VAR, raising=False)
    created = api.post(
        "/workloads/", json={"name": "smoked", "artifact": current_artifact(free_port(), "before")}
    )
    assert created.status_code == 201, created.text
    workload: dict[str, Any] = created.json()
    wait_for(api, workload["id"], "running")
    check = smoke.SmokeCheck.model_validate(
        {"request": {"path": "/"}, "expect": {"status": 200, "fields": {"greeting": "before"}}}
    )
    recorded = smoke.SmokeFile().with_check("smoked", "g", check)
    smoke.save(tmp_path / smoke.storage.FILE_NAME, recorded)
    yield workload
    for made in api.get("/workloads/").json()["data"]:
        if made["name"] in ("smoked", "smoked-prod"):
            api.delete(f"/workloads/{made['id']}/")


def text(markup: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup).replace("</div>", "\n")))


def test_a_new_production_workload_is_compared_with_the_draft(
    session: Session, running: dict[str, Any]
) -> None:
    panel = open_panel(session, running["id"])
    frontend_click(panel.lock_deploy)  # runs the checks into the checklist
    passed = "✓ Recorded smoke checks (1 passed: g)"
    eventually(lambda: passed in text(panel.deploy.checklist.value))
    frontend_set(panel.deploy.way, index=1)  # a new production workload
    frontend_set(panel.deploy.name, value="smoked-prod")
    eventually(lambda: not panel.deploy.confirm.disabled)
    frontend_click(panel.deploy.confirm)
    eventually(
        lambda: "Draft vs production workload smoked-prod" in text(panel.smoke_view.results.value),
        timeout=60,
    )
    table = text(panel.smoke_view.results.value)
    assert table.count('200 {"/greeting": "before"}') == 2, "the draft's and production's"
    assert "✓ same" in table
