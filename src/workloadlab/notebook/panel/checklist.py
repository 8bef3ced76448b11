"""Lock & Deploy's checklist: the client's readiness checks
(:func:`workloadlab.client.readiness.assess`, the list ``%workload lock`` and ``deploy`` print
too), judged on what the panel already holds (no request), with the form's own "no unsaved
edits" and the recorded smoke checks' last run (:mod:`.smoke`); and whether a Restart right
there would make the checks pass.

Pure functions of :class:`~.state.PanelState`; the widgets are in :mod:`.deploy`.
"""

from __future__ import annotations

import html as html_module
from collections.abc import Sequence

from workloadlab.client.readiness import Check, CheckName, Readiness, assess
from workloadlab.models import WorkloadStatus
from workloadlab.notebook.panel.decisions import live_deployment
from workloadlab.notebook.panel.smoke import smoke_items
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.status import MUTED

OK_COLOUR = "var(--jp-success-color1, #1a7f37)"
BAD_COLOUR = "var(--jp-error-color1, #cf222e)"


def readiness(state: PanelState, *, unsaved_edits: bool) -> Readiness:
    """The checklist of the panel's workload, artifact and live deployment."""
    deployment = live_deployment(state)
    workload = state.workload
    if workload.running_since is None and state.serving_since is not None:
        workload = workload.model_copy(update={"running_since": state.serving_since})
    return assess(
        workload,
        state.artifact,
        [deployment] if deployment is not None else [],
        unsaved_edits=unsaved_edits,
        extra=smoke_items(state.smoke),
    )


def runs_saved_spec(state: PanelState) -> bool:
    """Whether the workload's instance runs the artifact's saved spec."""
    check = readiness(state, unsaved_edits=False).get(CheckName.RUNS_SAVED_SPEC)
    return check is not None and check.ok


def offer_restart(state: PanelState, checks: Readiness) -> bool:
    """Whether the step offers a Restart: only the saved spec is missing, and a restart gives
    it (the workload is not on its way elsewhere, nor behind a deployment)."""
    saved = checks.get(CheckName.RUNS_SAVED_SPEC)
    return (
        saved is not None
        and not saved.ok
        and not state.in_transition
        and state.workload.status is not WorkloadStatus.UNKNOWN
        and live_deployment(state) is None
    )


def label(check: Check) -> str:
    """A check's name as the checklist shows it: ``No unsaved edits``."""
    return check.name[:1].upper() + check.name[1:]


def checklist_html(checks: Sequence[Check]) -> str:
    """The checklist, one line per check, with what was found."""
    lines = []
    for check in checks:
        mark, colour = ("✓", OK_COLOUR) if check.ok else ("✗", BAD_COLOUR)
        detail = (
            f' <span style="{MUTED}">({html_module.escape(check.detail)})</span>'
            if check.detail
            else ""
        )
        lines.append(
            f'<div><span style="color:{colour};font-weight:600">{mark}</span> '
            f"{html_module.escape(label(check))}{detail}</div>"
        )
    return "".join(lines)
