"""The panel on the current generation of the Workload API (a ``serve --api current`` server),
widgets on a recording comm: Restart of a running workload rolls it through ``settings`` (it
never stops), and Lock & Deploy promotes the workload (its draft is locked in place, it keeps
its endpoint) rather than creating a deployment, which this generation does not have."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from currenttools import current_artifact, wait_for
from workloadlab.models import Importance
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.panel.actions import ProductionWay
from workloadlab.notebook.panel.decisions import production_message
from workloadlab.notebook.session import Session

from harness import LocalServer, free_port
from paneltools import eventually, frontend_click, frontend_set


@pytest.fixture(scope="module")
def server(current_server: LocalServer) -> LocalServer:
    """The module's server speaks the current generation."""
    return current_server


@pytest.fixture
def running(api: httpx.Client, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A running workload of the example app, named after the test; deleted afterwards."""
    name = request.node.name.removeprefix("test_")[:40]
    body = {"name": name, "artifact": current_artifact(free_port(), "before")}
    created = api.post("/workloads/", json=body)
    assert created.status_code == 201, created.text
    workload: dict[str, Any] = created.json()
    wait_for(api, workload["id"], "running")
    yield workload
    api.delete(f"/workloads/{workload['id']}/")


def message(panel: WorkloadPanel) -> str:
    return html.unescape(str(panel.status.message.value))


def test_restart_rolls_a_running_workload_through_settings(
    session: Session, api: httpx.Client, running: dict[str, Any]
) -> None:
    panel = open_panel(session, running["id"])
    frontend_click(panel.restart)
    eventually(lambda: "Restarted" in message(panel), timeout=30)
    history = api.get(f"/workloads/{running['id']}/history").json()["data"]
    assert [record["status"] for record in history] == ["completed"], "one settings roll"
    assert history[0]["candidateArtifactId"] == running["artifactId"]
    events = api.get(f"/workloads/{running['id']}/events").json()["data"]
    assert not any(event.get("type") == "workload.stopped" for event in events)


def test_lock_and_deploy_promotes_the_workload_in_place(
    session: Session, api: httpx.Client, running: dict[str, Any]
) -> None:
    panel = open_panel(session, running["id"])
    frontend_click(panel.lock_deploy)
    eventually(lambda: not panel.deploy.confirm.disabled)
    assert panel.deploy.checklist.value.count("✓</span>") == 4, panel.deploy.checklist.value
    assert panel.deploy.way_row.layout.display is None, "the choice is offered"
    assert panel.deploy.way_value is ProductionWay.PROMOTE, "promote by default"
    assert panel.deploy.name_row.layout.display == "none", "promote needs no name"
    assert "keeps its endpoint" in panel.deploy.warning.value
    assert "irreversible" in panel.deploy.warning.value
    frontend_click(panel.deploy.confirm)
    eventually(lambda: "is production" in message(panel), timeout=30)
    assert (
        "✓ Promoted: artifact 'hello-artifact' is locked as version 1."
        f" {running['name']!r} is production; its endpoint is unchanged."
    ) in message(panel)
    after = api.get(f"/workloads/{running['id']}/").json()
    assert after["status"] == "running"
    assert after["artifact"]["status"] == "locked"
    assert after["endpoint"] == running["endpoint"]
    assert api.get(f"/workloads/{running['id']}/history").json()["data"][0]["status"] == (
        "completed"
    ), "promote's record"
    assert panel.state.production is not None
    assert panel.state.production.id == running["id"]
    assert panel.state.deployment is None
    panel.flush()
    card = html.unescape(panel.production_card.value)
    assert f"{running['name']}</b> (this workload, promoted)" in card
    assert "locked version 1" in card
    assert running["endpoint"] in card


def test_production_messages_say_which_workload_is_production(
    api: httpx.Client, running: dict[str, Any]
) -> None:
    workload = Workload.model_validate(running)
    stored = api.get(f"/artifacts/{running['artifactId']}/").json()
    artifact = Artifact.model_validate({**stored, "status": "locked", "version": 2})
    other = workload.model_copy(update={"id": "w2", "name": "hello-prod"})
    assert production_message(artifact, other, promoted=None, locked_now=False).text == (
        "Production workload 'hello-prod' (w2) is starting with locked version 2."
    )
    promoted = production_message(artifact, workload, promoted=workload, locked_now=True)
    assert promoted.text.startswith("Promoted: artifact 'hello-artifact' is locked as version 2")
    assert ProductionWay.PROMOTE.value.startswith("promote this workload")
    assert Importance.LOW.value == "low"


def test_lock_and_deploy_can_start_a_new_production_workload_instead(
    session: Session, api: httpx.Client, running: dict[str, Any]
) -> None:
    panel = open_panel(session, running["id"])
    frontend_click(panel.lock_deploy)
    frontend_set(panel.deploy.way, index=1)  # a Dropdown syncs its index
    assert panel.deploy.way_value is ProductionWay.NEW
    frontend_set(panel.deploy.name, value=f"{running['name'][:30]}-prod")
    eventually(lambda: panel.deploy.name_row.layout.display is None)
    assert "new production workload" in panel.deploy.warning.value
    eventually(lambda: not panel.deploy.confirm.disabled)
    frontend_click(panel.deploy.confirm)
    eventually(lambda: "Production workload" in message(panel), timeout=30)
    made = [
        w
        for w in api.get("/workloads/").json()["data"]
        if w["name"] == f"{running['name'][:30]}-prod"
    ]
    assert len(made) == 1
    assert made[0]["artifactId"] == running["artifactId"], "of the locked artifact"
    assert api.get(f"/artifacts/{running['artifactId']}/").json()["status"] == "locked"
    api.delete(f"/workloads/{made[0]['id']}/")
