"""Compare is a three-way merge: what the form loaded, the server now, the form. Against the real
local server, widgets on a recording comm, edits and clicks delivered as the frontend sends them.
"""

from __future__ import annotations

import copy
import html
from typing import Any

from workloadlab.notebook.panel import WorkloadPanel, open_panel
from workloadlab.notebook.session import Session

from paneltools import Example, eventually, frontend_click, frontend_set

SPEC_KEYS = ("name", "description", "spec")


def greeting_row(panel: WorkloadPanel) -> Any:
    return next(r for r in panel.form.containers[0].env.rows if r.name.value == "GREETING")


def message(panel: WorkloadPanel) -> str:
    return html.unescape(str(panel.status.message.value))


def primary(body: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = body["spec"]["containerGroups"][0]["containers"][0]
    return container


def set_greeting(body: dict[str, Any], value: str) -> None:
    for variable in primary(body)["environmentVars"]:
        if variable["name"] == "GREETING":
            variable["value"] = value


def change_elsewhere(example: Example, change: Any) -> dict[str, Any]:
    """PUT the artifact as another cell would (``%%artifact``, a client call), changed by
    ``change``; the body sent."""
    body = {key: copy.deepcopy(example.artifact()[key]) for key in SPEC_KEYS}
    change(body)
    answer = example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body)
    assert answer.status_code == 200, answer.text
    return body


def conflict_then_compare(panel: WorkloadPanel) -> None:
    """Save (unless the watcher saw the change first: then Save waits for a choice), see the
    conflict, press Compare."""
    frontend_click(panel.save)
    eventually(lambda: panel.conflict.layout.display is None)
    assert panel.save.disabled
    frontend_click(panel.compare)


def test_compare_takes_theirs_keeps_mine_and_save_sends_the_merge(
    session: Session, example: Example
) -> None:
    """The reported bug: another cell changed the description and removed the readiness probe
    while the panel's user edited GREETING; Compare then Save put the old description back."""
    panel = open_panel(session, example.id)
    loaded = {key: copy.deepcopy(example.artifact()[key]) for key in SPEC_KEYS}
    frontend_set(greeting_row(panel).value, value="my greeting")

    def theirs(body: dict[str, Any]) -> None:
        body["description"] = "their description"
        del primary(body)["readinessProbe"]

    change_elsewhere(example, theirs)
    conflict_then_compare(panel)

    assert panel.form.description.value == "their description", "the form shows theirs"
    assert greeting_row(panel).value.value == "my greeting", "and keeps mine"
    changes = panel.changes.value
    assert "<code>environmentVars[GREETING]</code>" in changes
    assert "<code>description</code>" not in changes, "their change is not listed as mine"
    assert "readinessProbe" not in changes
    assert "description" in message(panel), "what was taken from the server is said"
    assert not panel.save.disabled, "nothing both changed: Save may go"

    frontend_click(panel.save)
    eventually(lambda: "Saved (PUT" in message(panel))
    saved = example.artifact()
    assert saved["description"] == "their description"
    assert primary(saved)["readinessProbe"] is None
    assert {"name": "GREETING", "value": "my greeting"} in primary(saved)["environmentVars"]
    expected = copy.deepcopy(loaded)
    expected["description"] = "their description"
    primary(expected)["readinessProbe"] = None  # the server answers absent fields as null
    set_greeting(expected, "my greeting")
    assert {key: saved[key] for key in SPEC_KEYS} == expected, "everything else unchanged"


def variables(body: dict[str, Any]) -> dict[str, str]:
    return {v["name"]: v.get("value", "") for v in primary(body)["environmentVars"]}


def test_fields_both_changed_wait_for_a_choice_each(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    frontend_set(panel.form.description.input, value="my description")
    frontend_set(greeting_row(panel).value, value="my greeting")

    def theirs(body: dict[str, Any]) -> None:
        body["description"] = "their description"
        set_greeting(body, "their greeting")
        primary(body)["environmentVars"].append({"name": "EXTRA", "value": "theirs only"})

    change_elsewhere(example, theirs)
    conflict_then_compare(panel)

    view = panel.conflict_view
    assert view.rows.layout.display is None
    assert set(view.choices) == {
        "description",
        "spec.containerGroups[0].containers[primary].environmentVars[GREETING].value",
    }
    labels = [option for choice in view.choices.values() for option, _ in choice.options]
    assert "mine: my description" in labels
    assert "theirs: their description" in labels
    assert labels.count("mine: (value hidden)") == 1, "environment values are never shown"
    assert not any("greeting" in text for text in labels)
    assert "Both changed 2 field(s)" in message(panel)
    assert panel.save.disabled
    assert panel.save.tooltip == "choose mine or theirs for 2 field(s) both changed first"
    assert panel.save_restart.disabled
    assert variables({"spec": panel.reading.wire["spec"]})["EXTRA"] == "theirs only"

    frontend_set(panel.form.name.input, value="renamed-after-compare")  # an edit made now
    description, greeting = view.choices.values()
    frontend_set(description, index=0)  # mine
    assert panel.save.tooltip == "choose mine or theirs for 1 field(s) both changed first"
    frontend_set(greeting, index=1)  # theirs
    assert not panel.save.disabled, "every conflict has a choice"
    assert panel.form.description.value == "my description"
    assert greeting_row(panel).value.value == "their greeting"
    assert panel.form.name.value == "renamed-after-compare", "a choice keeps later edits"

    frontend_click(panel.save)
    eventually(lambda: "Saved (PATCH): metadata only" in message(panel))  # the spec is theirs
    saved = example.artifact()
    assert saved["name"] == "renamed-after-compare"
    assert saved["description"] == "my description"
    assert variables(saved) == {"GREETING": "their greeting", "EXTRA": "theirs only"}
    assert primary(saved)["readinessProbe"]["path"] == "/readyz", "nobody changed it"
    panel.flush()
    assert view.rows.layout.display == "none", "the merge is over once saved"
    assert panel.state.merge is None


def test_reload_ends_a_compare(session: Session, example: Example) -> None:
    panel = open_panel(session, example.id)
    frontend_set(panel.form.description.input, value="my description")
    change_elsewhere(example, lambda body: body.update(description="their description"))
    conflict_then_compare(panel)
    assert panel.state.merge is not None
    assert panel.save.disabled
    change_elsewhere(example, lambda body: body.update(description="theirs again"))
    eventually(lambda: panel.conflict.layout.display is None)  # the watcher saw it
    frontend_click(panel.reload)
    assert panel.state.merge is None
    assert panel.form.description.value == "theirs again"
    assert panel.conflict_view.rows.layout.display == "none"
    assert panel.save.tooltip == "no unsaved changes"
