"""The panel's decisions on plain data: which buttons are on and why, the deployment card, what
the watcher's news lead to, the words of each outcome, the merge of Compare, the secret
warning and the credential names."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_panel_state import artifact, workload

from workloadlab.models import ArtifactStatus, Deployment
from workloadlab.models.diff import FieldChange
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel import decisions
from workloadlab.notebook.panel.actions import credential_name
from workloadlab.notebook.panel.decisions import FormView
from workloadlab.notebook.panel.env import secret_warning
from workloadlab.notebook.panel.merging import (
    compare,
    compare_message,
    conflict_rows,
    form_after_choice,
    label,
    unsettled_problem,
)
from workloadlab.notebook.panel.state import PanelState

ENV = "spec.containerGroups[0].containers[0].environmentVars[GREETING].value"
SPEC_CHANGE = FieldChange(ENV, "hello", "hi")
NAME_CHANGE = FieldChange("name", "a", "b")
CLEAN = FormView(valid=True, changes=[])
EDITED = FormView(valid=True, changes=[SPEC_CHANGE])
PROTECTED = (
    "backs deployment hello-prod: stopping it takes the deployment down; "
    "use --force in a cell to restart anyway"
)


def deployment(name: str = "hello-prod", id: str = "d" * 24) -> Deployment:
    return Deployment(id=id, name=name, workload_id="w" * 24, status="running")


def registered() -> Artifact:
    return artifact().model_copy(update={"status": ArtifactStatus.LOCKED, "version": 1})


def state(**fields: Any) -> PanelState:
    made = PanelState(fields.pop("workload", workload()), fields.pop("artifact", artifact()))
    for key, value in fields.items():
        setattr(made, key, value)
    return made


def on(buttons: decisions.Buttons) -> dict[str, bool]:
    return {
        "save": buttons.save.enabled,
        "restart": buttons.restart.enabled,
        "save_restart": buttons.save_restart.enabled,
        "lock_deploy": buttons.lock_deploy.enabled,
    }


# -- buttons ----------------------------------------------------------------------------------


def test_a_running_workload_without_edits() -> None:
    decided = decisions.buttons(state(), CLEAN)
    assert on(decided) == {
        "save": False,
        "restart": True,
        "save_restart": False,
        "lock_deploy": True,
    }
    assert decided.save.tooltip == "no unsaved changes"
    assert decided.lock_deploy.description == "Lock & Deploy…"
    assert decided.note == ""


def test_edits_that_need_a_restart_and_metadata_edits() -> None:
    decided = decisions.buttons(state(), EDITED)
    assert on(decided) == {"save": True, "restart": True, "save_restart": True, "lock_deploy": True}
    assert decided.save.tooltip == "Save the spec (PUT); Restart applies it"
    metadata = decisions.buttons(state(), FormView(True, [NAME_CHANGE]))
    assert metadata.save.tooltip == "Save name and description (PATCH); no restart needed"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"busy": "Saving"}, "Saving…"),
        ({"gone": True}, "the workload was deleted"),
        ({"workload": workload("initializing")}, "wait: the workload is initializing"),
    ],
)
def test_what_blocks_every_action(fields: dict[str, Any], why: str) -> None:
    decided = decisions.buttons(state(**fields), EDITED)
    assert on(decided) == dict.fromkeys(on(decided), False)
    assert {decided.save.tooltip, decided.restart.tooltip, decided.lock_deploy.tooltip} == {why}


def test_a_workload_behind_a_live_deployment_is_not_restarted_but_saves() -> None:
    decided = decisions.buttons(state(deployment=deployment()), EDITED)
    assert on(decided) == {
        "save": True,
        "restart": False,
        "save_restart": False,
        "lock_deploy": False,
    }
    assert decided.restart.tooltip == PROTECTED
    assert decided.save_restart.tooltip == PROTECTED
    assert decided.save.tooltip == (
        "Save the spec (PUT); the deployment keeps running the registered spec"
    )
    assert decided.lock_deploy.tooltip == "deployed as hello-prod"
    assert decided.note == f"Restart is off: {PROTECTED}."
    assert decisions.protection(state(deployment=deployment())) == PROTECTED
    stopped = decisions.buttons(state(deployment=deployment(), workload=workload("stopped")), CLEAN)
    assert not stopped.restart.enabled, "a start takes it up again: the server wants force too"


def test_a_deleted_deployment_frees_restart_and_deploy() -> None:
    gone = state(deployment=deployment(), deployment_deleted=True, artifact=registered())
    decided = decisions.buttons(gone, CLEAN)
    assert decided.restart.enabled
    assert decided.lock_deploy.enabled
    assert decided.lock_deploy.description == "Deploy…"
    assert decided.note == ""
    assert decisions.live_deployment(gone) is None


def test_save_problems_in_order() -> None:
    assert decisions.save_problem(state(artifact=registered()), EDITED) == (
        "the artifact is registered: its container spec is immutable"
    )
    assert decisions.save_problem(state(conflict=artifact(updated=5)), EDITED) == (
        "the artifact changed on the server: Reload or Compare first"
    )
    assert decisions.save_problem(state(), FormView(False, [SPEC_CHANGE])) == (
        "fix the form's errors first"
    )
    merging = _merging()
    assert decisions.save_problem(state(merge=merging), EDITED) == (
        "choose mine or theirs for 1 field(s) both changed first"
    )
    assert decisions.save_problem(state(merge=merging.choose(ENV_MERGED, "mine")), EDITED) is None


def test_confirm_needs_checks_a_name_and_no_action_under_way() -> None:
    assert decisions.confirm_button(checks_pass=True, name="x", busy=True).tooltip == "working…"
    assert decisions.confirm_button(checks_pass=True, name="", busy=False).tooltip == (
        "give the deployment a name"
    )
    assert not decisions.confirm_button(checks_pass=False, name="x", busy=False).enabled
    assert decisions.confirm_button(checks_pass=True, name="x", busy=False).enabled


def test_the_card_offers_delete_and_asks_first() -> None:
    live = decisions.card_controls(state(deployment=deployment()))
    assert (live.delete.enabled, live.asking) == (True, False)
    asking = decisions.card_controls(state(deployment=deployment(), confirm_delete=True))
    assert (asking.delete.enabled, asking.asking) == (False, True)
    busy = decisions.card_controls(state(deployment=deployment(), busy="Restarting"))
    assert (busy.delete.enabled, busy.delete.tooltip) == (False, "Restarting…")
    gone = decisions.card_controls(state(deployment=deployment(), deployment_deleted=True))
    assert (gone.delete.enabled, gone.asking) == (False, False)


# -- news -------------------------------------------------------------------------------------


def test_a_deployment_that_is_gone_is_shown_deleted_and_stays_so() -> None:
    known = deployment()
    view = decisions.deployment_news(state(deployment=known), None)
    assert (view.deployment, view.deleted) == (known, True)
    assert "was deleted elsewhere" in getattr(view.message, "text", "")
    deleted = state(deployment=known, deployment_deleted=True)
    stale = decisions.deployment_news(deleted, known)
    assert (stale.deleted, stale.message) == (True, None), "a read from before the delete"
    again = decisions.deployment_news(deleted, None)
    assert (again.deleted, again.message) == (True, None), "said once"
    newer = deployment("hello-again", id="e" * 24)
    assert decisions.deployment_news(deleted, newer) == decisions.DeploymentView(newer, False)
    assert decisions.deployment_news(state(), None) == decisions.DeploymentView(None, False)
    moved = known.model_copy(update={"status": "stopped"})
    assert decisions.deployment_news(state(deployment=known), moved).deployment == moved


def test_what_the_server_s_artifact_leads_to() -> None:
    newer = artifact(updated=30)
    news = decisions.artifact_news
    assert news(state(), newer, newer=False, edited=True) == "ignore"
    assert news(state(busy="Saving"), newer, newer=True, edited=True) == "later"
    assert news(state(), registered(), newer=True, edited=True) == "registered"
    assert news(state(), newer, newer=True, edited=False) == "reload"
    assert news(state(), newer, newer=True, edited=True) == "conflict"
    assert news(state(merge=_merging()), newer, newer=True, edited=False) == "conflict"


# -- outcomes ---------------------------------------------------------------------------------


def test_outcome_words() -> None:
    running, stopped = workload(), workload("stopped")
    saved = decisions.saved_message
    assert saved(method="", count=0, needs_restart=False, workload=running, restart=False).text == (
        "Nothing to save: the form matches the server."
    )
    assert saved(
        method="PATCH", count=1, needs_restart=False, workload=running, restart=False
    ).text == ("Saved (PATCH): metadata only, no restart needed.")
    assert saved(
        method="PUT", count=2, needs_restart=True, workload=running, restart=False
    ).text == ("Saved (PUT, 2 change(s)). hello still runs the previous spec: Restart applies it.")
    assert saved(
        method="PUT", count=2, needs_restart=True, workload=stopped, restart=False
    ).text == ("Saved (PUT, 2 change(s)).")
    assert decisions.secrets_stored_message([]) == ""
    assert decisions.secrets_stored_message(["hello-API_TOKEN"]) == (
        " Stored as credential(s): hello-API_TOKEN; the spec refers to them."
    )
    assert decisions.restarted_message(running, "1.2 s", "Saved. ").text == (
        "Saved. Restarted: hello running after 1.2 s."
    )
    done = decisions.deployed_message(registered(), deployment(), registered_now=True)
    assert done.text == (
        "Locked: artifact 'hello-artifact' is registered as version 1. Deployed as 'hello-prod'."
    )
    assert decisions.deploy_failed_message(registered(), "409: no").level == "error"
    here = decisions.deployment_deleted_message(deployment(), here=True)
    assert here.text.startswith("Deployment 'hello-prod' was deleted: the workload keeps running")


# -- the merge of Compare ---------------------------------------------------------------------

ENV_MERGED = "spec.containerGroups[0].containers[primary].environmentVars[GREETING].value"


def _wire(source: Artifact) -> dict[str, Any]:
    return source.to_input().model_dump(mode="json", by_alias=True, exclude_none=True)


def _primary(wire: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = wire["spec"]["containerGroups"][0]["containers"][0]
    return container


def _with(source: Artifact, change: Any) -> Artifact:
    wire = _wire(source)
    change(wire)
    return source.model_copy(update={"spec": Artifact.model_validate({**wire, "id": "x"}).spec})


def _greeting(value: str) -> Any:
    return lambda wire: _primary(wire)["environmentVars"][0].update(value=value)


def _merging() -> Any:
    base = artifact()
    theirs = _with(base, _greeting("theirs")).model_copy(update={"description": "theirs"})
    mine = _wire(base)
    _greeting("mine")(mine)
    return compare(base, theirs, mine)


def test_compare_takes_theirs_keeps_mine_and_lists_conflicts() -> None:
    merging = _merging()
    assert [c.path for c in merging.conflicts] == [ENV_MERGED]
    assert merging.content()["description"] == "theirs"
    assert _primary(merging.content())["environmentVars"][0]["value"] == "theirs", "until chosen"
    text = compare_message(merging).text
    assert "Taken from the server: description." in text
    assert "Both changed 1 field(s)" in text
    (row,) = conflict_rows(merging)
    assert (row.label, row.mine, row.theirs, row.chosen) == (
        "environmentVars[GREETING].value",
        "mine: (value hidden)",
        "theirs: (value hidden)",
        None,
    )
    chosen = merging.choose(ENV_MERGED, "mine")
    assert conflict_rows(chosen)[0].chosen == "mine"
    assert unsettled_problem(chosen) is None
    assert _primary(chosen.content())["environmentVars"][0]["value"] == "mine"
    with pytest.raises(ValueError, match="no conflict at description"):
        merging.choose("description", "mine")


def test_a_choice_keeps_what_was_typed_since_compare() -> None:
    before = _merging()
    typed = copy.deepcopy(before.content())
    typed["name"] = "typed later"
    after = before.choose(ENV_MERGED, "mine")
    shown = form_after_choice(before, after, typed)
    assert shown["name"] == "typed later"
    assert _primary(shown)["environmentVars"][0]["value"] == "mine"


def test_conflict_values_outside_the_environment_are_shown_short() -> None:
    base = artifact()
    theirs = base.model_copy(update={"description": "t" * 60})
    mine = _wire(base) | {"description": "mine"}
    (row,) = conflict_rows(compare(base, theirs, mine))
    assert row.mine == "mine: mine"
    assert row.theirs == "theirs: " + "t" * 37 + "..."
    assert label("spec.containerGroups[0].containers[primary].port") == "port"


# -- secrets ----------------------------------------------------------------------------------


def test_secret_warnings_and_credential_names() -> None:
    assert secret_warning("GREETING", "hello") is None
    assert secret_warning("GREETING", "") is None
    warning = secret_warning("OPENAI", "sk-" + "a1B2c3D4e5" * 3)
    assert warning is not None
    assert "sk-a1B2" not in warning, "the warning never repeats the value"
    assert warning.endswith("turn on secret to store it as a credential")
    assert credential_name("hello", "API_TOKEN") == "hello-API_TOKEN"
    assert credential_name("hello", "API_TOKEN", 3) == "hello-API_TOKEN-3"


def test_a_merge_s_repr_holds_no_environment_value() -> None:
    base = artifact()
    mine = _wire(base)
    _greeting("mine-s3cr3t")(mine)
    theirs = _with(base, _greeting("their-s3cr3t"))
    merging = compare(base, theirs, mine)
    assert merging.conflicts, "both values are in the merge"
    assert "s3cr3t" not in repr(merging)
    assert "s3cr3t" not in repr(state(merge=merging))
