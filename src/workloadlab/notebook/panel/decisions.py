"""The panel's decisions: which buttons are on and why, what each outcome says, what to do with
the watcher's news. Pure functions of :class:`~.state.PanelState` and the form's reading (no
widgets, no I/O), unit-tested on plain data; the widget only assigns what they return.

The rules, in the order they are applied to a button:

1. an action under way, a deleted workload or a transition blocks every action (:func:`blocked`);
2. a workload that backs a live deployment is not restarted from the panel: stopping it takes
   the deployment down (the local server answers ``409`` without ``force``), so Restart and
   Save & Restart are off and the panel says why, visibly; Save alone stays on;
3. Save needs an editable artifact, no unsettled conflict, a valid form and changes;
4. Lock & Deploy is off while the workload backs a live deployment (a deleted one frees it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from workloadlab.models import Deployment
from workloadlab.models.diff import FieldChange
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel.merging import unsettled_problem
from workloadlab.notebook.panel.state import Message, PanelState


@dataclass(frozen=True)
class Button:
    """What a button shows: on or off, its tooltip (why it is off), its label."""

    enabled: bool
    tooltip: str
    description: str = ""


@dataclass(frozen=True)
class FormView:
    """What the form says, as the decisions need it."""

    valid: bool
    changes: Sequence[FieldChange]

    @property
    def restart_needed(self) -> bool:
        """Whether saving the changes needs a restart to apply them."""
        return any(change.needs_restart for change in self.changes)


@dataclass(frozen=True)
class Buttons:
    """The action buttons, and a note shown under them when a reason must be readable
    (a tooltip is not seen on a touch screen, nor by everyone)."""

    save: Button
    restart: Button
    save_restart: Button
    lock_deploy: Button
    note: str = ""


def live_deployment(state: PanelState) -> Deployment | None:
    """The deployment the workload backs, unless it was deleted."""
    return None if state.deployment_deleted else state.deployment


def protection(state: PanelState) -> str | None:
    """Why the panel does not restart the workload (``None``: it may)."""
    deployment = live_deployment(state)
    if deployment is None:
        return None
    return (
        f"backs deployment {deployment.name}: stopping it takes the deployment down; "
        "use --force in a cell to restart anyway"
    )


def blocked(state: PanelState) -> str | None:
    """Why no action can start now (``None``: they can)."""
    if state.busy is not None:
        return f"{state.busy}…"
    if state.gone:
        return "the workload was deleted"
    if state.in_transition:
        return f"wait: the workload is {state.workload.status.value}"
    return None


def save_problem(state: PanelState, form: FormView) -> str | None:
    """Why Save is off, once nothing blocks actions (``None``: it is on)."""
    if state.locked:
        return "the artifact is registered: its container spec is immutable"
    if state.conflict is not None:
        return "the artifact changed on the server: Reload or Compare first"
    unsettled = unsettled_problem(state.merge)
    if unsettled is not None:
        return unsettled
    if not form.valid:
        return "fix the form's errors first"
    if not form.changes:
        return "no unsaved changes"
    return None


def buttons(state: PanelState, form: FormView) -> Buttons:
    """Every action button of the panel, decided at once."""
    stop = blocked(state)
    protected = protection(state)
    no_save = stop or save_problem(state, form)
    save_tip = (
        "Save the spec (PUT); Restart applies it"
        if form.restart_needed
        else "Save name and description (PATCH); no restart needed"
    )
    if protected is not None and form.restart_needed:
        save_tip = "Save the spec (PUT); the deployment keeps running the registered spec"
    no_restart = stop or protected
    deployment = live_deployment(state)
    no_deploy = stop or (f"deployed as {deployment.name}" if deployment is not None else None)
    return Buttons(
        save=Button(no_save is None, no_save or save_tip),
        restart=Button(
            no_restart is None,
            no_restart or "Stop and start the workload (applies the saved spec)",
        ),
        save_restart=Button(
            no_save is None and no_restart is None,
            no_save or no_restart or "Save, then stop and start the workload with the new spec",
        ),
        lock_deploy=Button(
            no_deploy is None,
            no_deploy or "Register the artifact and create a deployment (asks first)",
            "Deploy…" if state.locked else "Lock & Deploy…",
        ),
        note=f"Restart is off: {protected}." if protected and not state.gone else "",
    )


def confirm_button(*, checks_pass: bool, name: str, busy: bool) -> Button:
    """The Lock & Deploy step's Confirm: every check must pass and the deployment be named."""
    if busy:
        return Button(False, "working…")
    if not name:
        return Button(False, "give the deployment a name")
    if not checks_pass:
        return Button(False, "every check must pass first")
    return Button(True, "Register the artifact (irreversible) and deploy")


@dataclass(frozen=True)
class CardControls:
    """The deployment card's Delete and its confirmation."""

    delete: Button
    asking: bool
    """Whether the confirmation (Delete deployment NAME? Yes / Cancel) shows."""


def card_controls(state: PanelState) -> CardControls:
    """Delete is offered for a live deployment while no action runs; it asks first."""
    if live_deployment(state) is None:
        return CardControls(Button(False, "the deployment was deleted"), asking=False)
    if state.busy is not None:
        return CardControls(Button(False, f"{state.busy}…"), asking=False)
    if state.confirm_delete:
        return CardControls(Button(False, "confirm or cancel below"), asking=True)
    return CardControls(
        Button(True, "Delete the deployment (asks first); the workload keeps running"),
        asking=False,
    )


# -- outcomes ----------------------------------------------------------------------------------

SAVE_CONFLICT = Message(
    "warning",
    "Not saved: the artifact changed on the server since the form loaded it. Reload takes the "
    "server's version (your edits are dropped); Compare merges: what only the server changed "
    "is taken, your edits are kept, and what both changed is yours to choose.",
)
EDITED_CONFLICT = Message(
    "warning",
    "The artifact changed on the server while you were editing: Reload or Compare before saving.",
)
RELOADED = Message("info", "Reloaded the server's version of the artifact.")


def saved_message(
    *, method: str, count: int, needs_restart: bool, workload: Workload, restart: bool
) -> Message:
    """How a Save went (``method``: PUT, PATCH, or empty when there was nothing to send)."""
    if not method:
        return Message("success", "Nothing to save: the form matches the server.")
    if not needs_restart:
        return Message("success", f"Saved ({method}): metadata only, no restart needed.")
    text = f"Saved ({method}, {count} change(s))."
    if not restart and workload.status.value != "stopped":
        text += f" {workload.name} still runs the previous spec: Restart applies it."
    return Message("success", text)


def secrets_stored_message(names: Sequence[str]) -> str:
    """What Save says of the values it stored as credentials (names only)."""
    if not names:
        return ""
    return f" Stored as credential(s): {', '.join(names)}; the spec refers to them."


def restarted_message(workload: Workload, elapsed: str, prefix: str = "") -> Message:
    """How a Restart went."""
    return Message(
        "success", f"{prefix}Restarted: {workload.name} {workload.status.value} after {elapsed}."
    )


def deployed_message(
    artifact: Artifact, deployment: Deployment, *, registered_now: bool
) -> Message:
    """How Lock & Deploy went."""
    locked = (
        f"Locked: artifact {artifact.name!r} is registered as version {artifact.version}. "
        if registered_now
        else ""
    )
    return Message("success", f"{locked}Deployed as {deployment.name!r}.")


def production_message(
    artifact: Artifact, production: Workload, *, promoted: Workload | None, locked_now: bool
) -> Message:
    """How Lock & Deploy went on the current generation: ``promoted`` is this workload when
    it is production itself, else ``production`` is a new workload of the locked artifact."""
    locked = (
        f"Promoted: artifact {artifact.name!r} is locked as version {artifact.version}. "
        if locked_now
        else ""
    )
    if promoted is not None and production.id == promoted.id:
        return Message(
            "success", f"{locked}{production.name!r} is production; its endpoint is unchanged."
        )
    return Message(
        "success",
        f"{locked}Production workload {production.name!r} ({production.id}) is starting"
        f" with locked version {artifact.version}.",
    )


def deploy_failed_message(artifact: Artifact, cause: str) -> Message:
    """Lock & Deploy registered the artifact, then creating the deployment failed."""
    return Message(
        "error",
        f"Artifact {artifact.name!r} is registered (version {artifact.version}), but creating "
        f"the deployment failed: {cause}",
    )


def deployment_deleted_message(deployment: Deployment, *, here: bool) -> Message:
    """The deployment is gone (deleted by this panel, or elsewhere)."""
    where = "" if here else " elsewhere"
    return Message(
        "info",
        f"Deployment {deployment.name!r} was deleted{where}: the workload keeps running and "
        "can be restarted; Deploy makes a new deployment.",
    )


# -- the watcher's news ------------------------------------------------------------------------

ArtifactNews = Literal["ignore", "later", "switched", "registered", "reload", "conflict"]


def artifact_news(
    state: PanelState, artifact: Artifact, *, newer: bool, edited: bool
) -> ArtifactNews:
    """What to do with the server's artifact: ``ignore`` (not newer), ``later`` (an action of
    the panel runs: maybe its own save), ``switched`` (the workload runs another artifact now:
    its deployment moved to another version, older or newer; take it), ``registered`` or
    ``reload`` (take it into the form), ``conflict`` (the form has edits: the user chooses
    Reload or Compare)."""
    switched = artifact.id != state.artifact.id
    if not newer and not switched:
        return "ignore"
    if state.busy is not None:
        return "later"
    if switched:
        return "switched"
    if artifact.is_registered and not state.locked:
        return "registered"
    if not edited and state.merge is None:
        return "reload"
    return "conflict"


NEWS_MESSAGES: dict[ArtifactNews, Message] = {
    "registered": Message(
        "info", "The artifact was registered elsewhere: its spec is now immutable."
    ),
    "reload": Message(
        "info", "The artifact changed on the server: the form shows the new version."
    ),
    "conflict": EDITED_CONFLICT,
}


@dataclass(frozen=True)
class DeploymentView:
    """What the deployment card shows after a look at the server."""

    deployment: Deployment | None
    deleted: bool
    message: Message | None = None


def deployment_news(state: PanelState, fresh: Deployment | None) -> DeploymentView:
    """The card once the server was asked for the workload's deployment (``fresh``: its
    answer, ``None``: there is none): a deployment that is gone is shown ``deleted``; a
    deleted one never comes back (an answer with its id was read before the delete), nor
    does a change of version that is over (:func:`older_read`)."""
    known = state.deployment
    if fresh is None:
        if known is None or state.deployment_deleted:
            return DeploymentView(known, state.deployment_deleted)
        return DeploymentView(known, True, deployment_deleted_message(known, here=False))
    if state.deployment_deleted and known is not None and fresh.id == known.id:
        return DeploymentView(known, True)
    if known is not None and older_read(known, fresh):
        return DeploymentView(known, state.deployment_deleted)
    return DeploymentView(fresh, False)


def older_read(known: Deployment, fresh: Deployment) -> bool:
    """Whether ``fresh`` was read before ``known`` (two reads crossed on the way): its latest
    change of version is missing, older, or still under way where ``known``'s is over. A
    deployment's change never disappears nor resumes."""
    if fresh.id != known.id or known.rollout is None:
        return False
    was, now = known.rollout, fresh.rollout
    if now is None:
        return True
    if now.id != was.id:
        return bool(now.started_at and was.started_at and now.started_at < was.started_at)
    return was.status.finished and not now.status.finished


DEPLOYMENT_EVENTS = frozenset({"workload.rolledOut", "workload.rolloutAbandoned"})
"""Events of the workload's trail (besides ``deployment.*``) after which its deployment reads
differently: a change of version switched or was abandoned."""


def tells_of_deployment(event_type: str) -> bool:
    """Whether an event of the workload's trail means its deployment changed (made, deleted,
    moved to another version, or a move started, switched or abandoned)."""
    return event_type.startswith("deployment.") or event_type in DEPLOYMENT_EVENTS
