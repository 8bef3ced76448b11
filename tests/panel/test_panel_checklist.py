"""Lock & Deploy's checklist on plain data: the client's readiness checks on what the panel
holds, with the form's "no unsaved edits", and when the step offers a Restart."""

from __future__ import annotations

from typing import Any

from test_panel_state import artifact, at, workload

from workloadlab.client.readiness import TIME_JUDGED, CheckName
from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel.checklist import (
    checklist_html,
    offer_restart,
    readiness,
    runs_saved_spec,
)
from workloadlab.notebook.panel.state import PanelState

SAVED = "sha256:" + "1" * 64
OLDER = "sha256:" + "2" * 64


def running(digest: str = SAVED, **fields: Any) -> Workload:
    """A ready workload whose instance runs the spec with ``digest``."""
    instance = {"id": "a" * 24, "version": None, "specDigest": digest, "startedAt": at(10)}
    return workload(runningArtifact=instance, **fields)


def saved(digest: str = SAVED) -> Artifact:
    return artifact().model_copy(update={"spec_digest": digest})


def names(state: PanelState, *, unsaved_edits: bool = False) -> dict[str, bool]:
    return {c.name: c.ok for c in readiness(state, unsaved_edits=unsaved_edits).checks}


def test_a_ready_workload_running_its_saved_spec_passes() -> None:
    state = PanelState(running(), saved())
    checks = readiness(state, unsaved_edits=False)
    assert checks.ok
    assert [c.name for c in checks.checks] == [
        CheckName.NO_UNSAVED_EDITS,
        CheckName.RUNNING_AND_READY,
        CheckName.RUNS_SAVED_SPEC,
        CheckName.NOT_DEPLOYED,
    ]
    assert runs_saved_spec(state)
    assert not offer_restart(state, checks)


def test_the_form_s_edits_are_a_check_of_their_own() -> None:
    state = PanelState(running(), saved())
    assert names(state, unsaved_edits=True)[CheckName.NO_UNSAVED_EDITS] is False
    failed = readiness(state, unsaved_edits=True).failed
    assert [(c.name, c.detail) for c in failed] == [
        (CheckName.NO_UNSAVED_EDITS, "the form has unsaved edits: save them")
    ]


def test_a_saved_spec_that_does_not_run_offers_a_restart() -> None:
    state = PanelState(running(OLDER), saved())
    checks = readiness(state, unsaved_edits=False)
    assert names(state)[CheckName.RUNS_SAVED_SPEC] is False
    assert not runs_saved_spec(state)
    assert offer_restart(state, checks)
    stopped = PanelState(workload("stopped"), saved())
    assert offer_restart(stopped, readiness(stopped, unsaved_edits=False)), "a start gives it"
    moving = PanelState(workload("stopping"), saved())
    assert not offer_restart(moving, readiness(moving, unsaved_edits=False))


def test_not_ready_and_already_deployed_fail() -> None:
    assert names(PanelState(running(ready=False), saved()))[CheckName.RUNNING_AND_READY] is False
    deployed = PanelState(running(), saved())
    deployed.deployment = Deployment(id="d" * 24, name="hello-prod", workload_id="w" * 24)
    assert names(deployed)[CheckName.NOT_DEPLOYED] is False
    assert not offer_restart(deployed, readiness(deployed, unsaved_edits=False))
    deployed.deployment_deleted = True
    assert names(deployed)[CheckName.NOT_DEPLOYED] is True, "a deleted deployment frees it"


def test_without_digests_it_is_judged_by_time_as_against_datarobot() -> None:
    assert runs_saved_spec(PanelState(workload(), artifact(updated=9)))
    later = PanelState(workload(), artifact(updated=11))
    check = readiness(later, unsaved_edits=False).get(CheckName.RUNS_SAVED_SPEC)
    assert check is not None
    assert not check.ok
    assert check.detail.startswith(TIME_JUDGED)


def test_the_checklist_in_words() -> None:
    text = checklist_html(readiness(PanelState(running(OLDER), saved()), unsaved_edits=True).checks)
    assert "✗</span> No unsaved edits" in text
    assert "(the form has unsaved edits: save them)" in text
    assert "✓</span> Running and ready" in text
    assert "✗</span> Runs the saved spec" in text
    assert "✓</span> Not already deployed" in text
