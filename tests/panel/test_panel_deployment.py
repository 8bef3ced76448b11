"""A workload behind a deployment, in its panel: Restart is off with its reason shown, the
deployment card follows the deployment (its status, its delete), and Delete on the card asks
first. Against the real local server, widgets on a recording comm."""

from __future__ import annotations

import html
from typing import Any

from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.session import Session

from harness import wait_status
from paneltools import Example, eventually, frontend_click, frontend_set

PROTECTED = (
    "backs deployment {name}: stopping it takes the deployment down; "
    "use --force in a cell to restart anyway"
)


def message(panel: WorkloadPanel) -> str:
    return html.unescape(str(panel.status.message.value))


def deploy(example: Example, name: str) -> dict[str, Any]:
    """Register the example's artifact and deploy it, as a cell would."""
    registered = example.api.patch(
        f"/registry/artifacts/{example.artifact_id}", json={"status": "registered"}
    )
    assert registered.status_code == 200, registered.text
    created = example.api.post(
        "/console/deployments/", json={"workloadId": example.id, "name": name}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def deployments(example: Example) -> list[dict[str, Any]]:
    answer = example.api.get("/console/deployments/", params={"workloadId": example.id})
    data: list[dict[str, Any]] = answer.json()["data"]
    return data


def test_restart_is_off_while_the_workload_backs_a_deployment(
    session: Session, example: Example
) -> None:
    deployed = deploy(example, "hello-live")
    panel = open_panel(session, example.id)
    reason = PROTECTED.format(name="hello-live")
    assert panel.restart.disabled
    assert panel.restart.tooltip == reason
    assert panel.save_restart.disabled
    assert (
        panel.save_restart.tooltip == "the artifact is registered: its container spec is immutable"
    )
    assert f"Restart is off: {reason}." in html.unescape(panel.note.value), "shown, not only a tip"
    assert panel.lock_deploy.disabled
    assert panel.lock_deploy.tooltip == "deployed as hello-live"
    frontend_click(panel.restart)  # a click that slips through does nothing
    assert panel.state.busy is None
    assert example.get()["runningSince"] is not None
    assert ">running</span>" in panel.deployment_card.value

    example.api.delete(f"/console/deployments/{deployed['id']}/")  # from a cell
    eventually(lambda: ">deleted</span>" in panel.deployment_card.value, timeout=10)
    assert "hello-live" in panel.deployment_card.value, "the card keeps what it knew"
    assert "was deleted elsewhere" in message(panel)
    assert not panel.restart.disabled, "nothing to take down any more"
    assert panel.note.value == ""
    assert not panel.lock_deploy.disabled
    assert panel.lock_deploy.description == "Deploy…"
    assert panel.card.delete.layout.display == "none", "nothing left to delete"


def test_the_card_follows_the_deployment_status(session: Session, example: Example) -> None:
    deploy(example, "hello-follow")
    panel = open_panel(session, example.id)
    assert ">running</span>" in panel.deployment_card.value
    stopped = example.api.post(f"/console/workloads/{example.id}/stop", params={"force": "true"})
    assert stopped.status_code < 300, stopped.text
    wait_status(example.api, example.id, "stopped")
    eventually(lambda: ">stopped</span>" in panel.deployment_card.value, timeout=10)
    assert PROTECTED.format(name="hello-follow") == panel.restart.tooltip, "still backs it"


def test_delete_on_the_card_asks_first_then_frees_lock_and_deploy(
    session: Session, example: Example
) -> None:
    deploy(example, "hello-delete")
    panel = open_panel(session, example.id)
    card = panel.card
    assert card.asking.layout.display == "none"
    frontend_click(card.delete)
    assert card.asking.layout.display is None, "Delete asks first"
    assert "Delete deployment <b>hello-delete</b>?" in card.question.value
    assert card.delete.disabled
    frontend_click(card.cancel)
    assert card.asking.layout.display == "none"
    assert [d["name"] for d in deployments(example)] == ["hello-delete"], "nothing deleted"

    frontend_click(card.delete)
    frontend_click(card.confirm)
    eventually(lambda: ">deleted</span>" in panel.deployment_card.value, timeout=10)
    assert deployments(example) == []
    eventually(lambda: "Deployment 'hello-delete' was deleted:" in message(panel))
    assert card.asking.layout.display == "none"
    assert not panel.restart.disabled
    assert not panel.lock_deploy.disabled

    frontend_click(panel.lock_deploy)  # Deploy again (the artifact stays registered)
    frontend_set(panel.deploy.name, value="hello-again")
    eventually(lambda: not panel.deploy.confirm.disabled)
    frontend_click(panel.deploy.confirm)
    eventually(lambda: "Deployed as 'hello-again'" in message(panel))
    assert "hello-again" in panel.deployment_card.value
    assert ">running</span>" in panel.deployment_card.value
    assert card.delete.layout.display is None
    assert panel.restart.disabled
    assert [d["name"] for d in deployments(example)] == ["hello-again"]
