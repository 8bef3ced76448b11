"""Secrets in the panel's form: a row's "secret" toggle stores its value as a credential on Save
and leaves only the reference behind (in the spec, the form, the YAML view and every widget's
state); a plain value that looks like a secret is flagged beside its row. Against the real local
server, widgets on a recording comm."""

from __future__ import annotations

import json
import secrets
from typing import Any

from ipywidgets.widgets.widget import _instances

from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.panel.env import EnvRow
from workloadlab.notebook.session import Session

from harness import FAKE_TOKEN
from paneltools import Example, Recorder, eventually, frontend_click, frontend_set


def fake_secret() -> str:
    """A value ``looks_secret`` flags (an ``sk-`` key), different in each test."""
    return f"sk-test-{secrets.token_hex(16)}"


def message(panel: WorkloadPanel) -> str:
    return str(panel.status.message.value)


def row_named(panel: WorkloadPanel, name: str) -> EnvRow:
    return next(r for r in panel.form.containers[0].env.rows if r.name.value == name)


def new_row(panel: WorkloadPanel, name: str, value: str) -> EnvRow:
    frontend_click(panel.form.containers[0].env.add)
    row = panel.form.containers[0].env.rows[-1]
    frontend_set(row.name, value=name)
    frontend_set(row.value, value=value)
    return row


def widgets_holding(text: str) -> list[str]:
    """The widgets (by class) any of whose traits holds ``text``."""
    return [
        type(widget).__name__
        for widget in list(_instances.values())
        if text in json.dumps(widget.get_state(), default=str)
    ]


def variables(example: Example) -> dict[str, dict[str, Any]]:
    container = example.artifact()["spec"]["containerGroups"][0]["containers"][0]
    return {v["name"]: v for v in container["environmentVars"]}


def credentials(example: Example) -> dict[str, dict[str, Any]]:
    listed = example.api.get("/credentials/", params={"limit": 100}).json()["data"]
    return {c["name"]: c for c in listed}


def test_a_secret_row_is_saved_as_a_credential_and_its_value_leaves_the_widgets(
    session: Session, example: Example, recorder: Recorder
) -> None:
    panel = open_panel(session, example.id)
    value = fake_secret()
    row = new_row(panel, "API_TOKEN", value)
    assert "wl-secret-warning" in row.message.value
    assert "looks like a secret API key" in row.message.value
    assert "turn on secret to store it as a credential" in row.message.value

    frontend_set(row.secret, value=True)
    assert row.message.value == "", "the toggle answers the warning"
    assert "drCredentialId: (created on save)" in panel.yaml.value
    assert value not in panel.yaml.value, "the YAML view shows the reference, not the value"
    assert value not in panel.changes.value
    assert "environmentVars[API_TOKEN]" in panel.changes.value
    assert not panel.save.disabled

    frontend_click(panel.save)
    eventually(lambda: "Stored as credential(s): " in message(panel))
    name = f"{example.get()['name']}-API_TOKEN"
    assert f"Stored as credential(s): {name}; the spec refers to them." in message(panel)
    stored = credentials(example)[name]
    assert stored["credentialType"] == "api_token"
    assert variables(example)["API_TOKEN"] == {
        "source": "dr-credential",
        "name": "API_TOKEN",
        "drCredentialId": stored["id"],
        "key": "apiToken",
    }
    assert value not in json.dumps(example.artifact())

    assert row.reference is not None, "the row is a reference now"
    assert row.value.value == f"credential {stored['id']}, key apiToken"
    assert row.value.disabled
    assert not row.secret.value
    assert row.secret.disabled
    assert widgets_holding(value) == [], "no trait of any widget holds the value"
    sent = [u.state["value"] for u in recorder.updates(row.value) if "value" in u.state]
    assert sent[-1] == row.value.value, "the browser was told to clear it"
    assert "No unsaved changes" in panel.changes.value
    assert value not in panel.yaml.value
    assert value not in repr(panel.reading)
    assert value not in repr(panel.state)


def test_a_secret_value_reaches_the_app_through_its_credential(
    session: Session, example: Example
) -> None:
    panel = open_panel(session, example.id)
    value = f"greeting-{secrets.token_hex(8)}"
    greeting = row_named(panel, "GREETING")
    frontend_set(greeting.value, value=value)
    frontend_set(greeting.secret, value=True)
    frontend_click(panel.save_restart)
    eventually(lambda: "Restarted:" in message(panel), timeout=60)
    assert variables(example)["GREETING"]["source"] == "dr-credential"
    assert example.invoke()["greeting"] == value, "the server resolved the reference"
    assert widgets_holding(value) == []
    assert FAKE_TOKEN not in json.dumps(
        [w.get_state() for w in list(_instances.values())], default=str
    )


def test_a_credential_name_in_use_gets_a_number(session: Session, example: Example) -> None:
    taken = "a_credential_name_in_use_gets_a_number-DB_PASSWORD"
    created = example.api.post(
        "/credentials/",
        json={"name": taken, "credentialType": "api_token", "apiToken": "someone else's"},
    )
    assert created.status_code == 201, created.text
    panel = open_panel(session, example.id)
    row = new_row(panel, "DB_PASSWORD", "hunter2-but-longer")
    frontend_set(row.secret, value=True)
    frontend_click(panel.save)
    eventually(lambda: "Stored as credential(s): " in message(panel))
    assert f"Stored as credential(s): {taken}-2;" in message(panel)
    mine = credentials(example)[f"{taken}-2"]
    assert variables(example)["DB_PASSWORD"]["drCredentialId"] == mine["id"]


def test_a_failed_save_takes_its_new_credentials_back(session: Session, example: Example) -> None:
    gone = example.api.post(
        "/credentials/",
        json={"name": "soon-deleted-cred", "credentialType": "api_token", "apiToken": "x" * 8},
    ).json()
    current = example.artifact()
    body = {key: current[key] for key in ("name", "description", "spec")}
    body["spec"]["containerGroups"][0]["containers"][0]["environmentVars"].append(
        {"source": "dr-credential", "name": "OLD", "drCredentialId": gone["id"], "key": "apiToken"}
    )
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success
    panel = open_panel(session, example.id)
    eventually(lambda: any(r.name.value == "OLD" for r in panel.form.containers[0].env.rows))
    assert example.api.delete(f"/credentials/{gone['id']}").status_code == 204
    value = fake_secret()
    row = new_row(panel, "NEW_TOKEN", value)
    frontend_set(row.secret, value=True)
    frontend_click(panel.save)
    eventually(lambda: "Saving failed" in message(panel))
    assert "OLD" in message(panel), "the server's 422 names the variable"
    names = credentials(example)
    assert not [n for n in names if "NEW_TOKEN" in n], "the credential made for it is deleted"
    assert "NEW_TOKEN" not in variables(example)
    assert row.secret.value, "the row still waits for a good save"
    assert value not in message(panel)


def test_a_plain_value_that_looks_secret_is_flagged(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    greeting = row_named(panel, "GREETING")
    assert greeting.message.value == "", "hello from the test is no secret"
    frontend_set(greeting.value, value=f"ghp_{secrets.token_hex(18)}")
    assert "looks like a GitHub token" in greeting.message.value
    frontend_set(greeting.value, value="good morning")
    assert greeting.message.value == ""


def test_a_secret_row_keeps_its_value_through_compare(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    value = fake_secret()
    row = new_row(panel, "API_TOKEN", value)
    frontend_set(row.secret, value=True)
    current = example.artifact()
    body = {key: current[key] for key in ("name", "spec")} | {"description": "their edit"}
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success
    frontend_click(panel.save)  # unless the watcher noticed first
    eventually(lambda: panel.conflict.layout.display is None)
    frontend_click(panel.compare)
    assert row.pending_secret, "the merge shows the row as the reference Save will make"
    assert row.value.value == value
    assert panel.form.description.value == "their edit"
    frontend_click(panel.save)
    eventually(lambda: "Stored as credential(s): " in message(panel))
    assert variables(example)["API_TOKEN"]["source"] == "dr-credential"
    assert example.artifact()["description"] == "their edit"
    assert widgets_holding(value) == []
