"""The deployment card's version chooser, decided: which versions it lists and in what words,
which one it offers first, whether *Move deployment to vN* is on and why, what the card says of
a change of version, and what the panel says once it is over. Pure functions of
:class:`~.state.PanelState` (no widgets, no I/O), as in :mod:`.decisions`.

A move is the local server's rolling change (``PATCH /console/deployments/{id}`` with
``artifactId``): a new instance starts beside the one serving and the endpoint switches to it
once it is ready, or the change is abandoned and the old one goes on. The rules of the Move
button, in the order they apply:

1. a deleted deployment moves nowhere;
2. a change already under way (this panel's, a cell's, anyone's: the server's ``rollout``)
   must end first;
3. what blocks every action blocks it too (:func:`~.decisions.blocked`: an action under way, a
   deleted workload, a workload starting or stopping, which the server refuses to move);
4. the versions must be known, another one must exist, and be chosen;
5. it asks first, as Delete does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workloadlab.client import ArtifactVersion
from workloadlab.models import Deployment, Rollout, RolloutStatus
from workloadlab.models.digest import short_digest
from workloadlab.models.tables import in_reader_zone
from workloadlab.notebook.panel.decisions import Button, blocked, live_deployment
from workloadlab.notebook.panel.state import Message, PanelState
from workloadlab.notebook.panel.status import clock

ROLLOUT_WORDS = {
    RolloutStatus.IN_PROGRESS: "in progress",
    RolloutStatus.COMPLETED: "done",
    RolloutStatus.ABANDONED: "abandoned",
}
"""What the card calls the server's states of a change."""
PROGRESS_WORDS = {
    RolloutStatus.IN_PROGRESS: "the new instance is getting ready",
    RolloutStatus.COMPLETED: "switched",
    RolloutStatus.ABANDONED: "abandoned",
}
"""What the message area says while the panel's own move runs."""


@dataclass(frozen=True)
class MoveControls:
    """The chooser's Move button, its confirmation, and why it is off (shown under it)."""

    move: Button
    asking: bool
    """Whether the confirmation (Move deployment NAME to version N? Move / Cancel) shows."""
    note: str = ""


def version_label(version: ArtifactVersion, deployed: str | None) -> str:
    """One version in the chooser: ``v2 · 2026-12-05 16:10 · sha256:9b1c2d3e4f5a``, and
    ``· deployed here`` on the one the deployment runs (created in the kernel's time zone)."""
    created = version.created_at
    when = "—"
    if created is not None:
        local, zone = in_reader_zone(created)
        when = f"{local.isoformat(sep=' ', timespec='minutes')[:16]}{zone}"
    label = f"v{version.version} · {when} · {short_digest(version.digest)}"
    return f"{label} · deployed here" if version.id == deployed else label


def deployed_artifact(state: PanelState) -> str | None:
    """The artifact the card's deployment runs (as last read)."""
    return state.deployment.artifact_id if state.deployment is not None else None


def version_choices(state: PanelState) -> list[tuple[str, str]]:
    """The chooser's options, highest version first: (label, artifact id)."""
    deployed = deployed_artifact(state)
    return [(version_label(v, deployed), v.id) for v in state.versions or ()]


def default_target(
    versions: Sequence[ArtifactVersion], deployment: Deployment | None, current: str | None
) -> str | None:
    """The version the chooser offers: the one chosen, while it is listed and not deployed;
    else the version the deployment ran before its last completed change (what ``%workload
    rollback`` goes back to); else the highest other version; else the deployed one."""
    ids = [v.id for v in versions]
    deployed = deployment.artifact_id if deployment is not None else None
    if current in ids and current != deployed:
        return current
    last = deployment.rollout if deployment is not None else None
    if (
        last is not None
        and last.status is RolloutStatus.COMPLETED
        and last.to_artifact_id == deployed
        and last.from_artifact_id in ids
    ):
        return last.from_artifact_id
    others = [i for i in ids if i != deployed]
    if others:
        return others[0]
    return deployed if deployed in ids else None


def find_version(state: PanelState, artifact_id: str | None) -> ArtifactVersion | None:
    """The listed version with this artifact id."""
    return next((v for v in state.versions or () if v.id == artifact_id), None)


def deployed_version(state: PanelState) -> int | None:
    """The version number the deployment runs."""
    listed = find_version(state, deployed_artifact(state))
    if listed is not None:
        return listed.version
    deployment = state.deployment
    ref = deployment.artifact if deployment is not None else None
    return ref.version if ref is not None else None


def under_way(deployment: Deployment | None) -> Rollout | None:
    """The deployment's change of version, while it runs."""
    rollout = deployment.rollout if deployment is not None else None
    return rollout if rollout is not None and not rollout.status.finished else None


def move_label(state: PanelState) -> str:
    """The button: ``Move deployment to v2…`` (it asks first)."""
    target = find_version(state, state.move_target)
    if target is None or target.id == deployed_artifact(state):
        return "Move deployment…"
    return f"Move deployment to v{target.version}…"


def move_problem(state: PanelState) -> str | None:
    """Why the deployment cannot be moved to the chosen version now (``None``: it can)."""
    deployment = live_deployment(state)
    if deployment is None:
        return "the deployment was deleted"
    running = under_way(deployment)
    if running is not None:
        return f"a change to version {running.to_version} is under way: wait for its outcome"
    stop = blocked(state)
    if stop is not None:
        return stop
    if deployment.artifact_id is None:
        return "the server names no artifact for the deployment"
    if state.versions is None:
        if state.versions_problem is not None:
            return f"the versions could not be read: {state.versions_problem}"
        return "reading the versions…"
    current = deployed_version(state)
    if not [v for v in state.versions if v.id != deployment.artifact_id]:
        return (
            f"nothing to move to: version {current} is the only registered version"
            " (lock a new version of the artifact first)"
        )
    target = find_version(state, state.move_target)
    if target is None or target.id == deployment.artifact_id:
        return f"the deployment runs version {current}: choose another version"
    return None


def move_controls(state: PanelState) -> MoveControls:
    """The Move button (label, on or off and why) and whether its confirmation shows."""
    label = move_label(state)
    problem = move_problem(state)
    if problem is not None:
        return MoveControls(Button(False, problem, label), asking=False, note=problem)
    if state.confirm_move:
        return MoveControls(Button(False, "confirm or cancel below", label), asking=True)
    target = find_version(state, state.move_target)
    assert target is not None  # move_problem said so
    tip = (
        f"Move the deployment to version {target.version} as a rolling change (asks first):"
        " the endpoint keeps answering while the new instance gets ready"
    )
    return MoveControls(Button(True, tip, label), asking=False)


def move_question(deployment: Deployment, from_version: int | None, to_version: int | None) -> str:
    """What the confirmation asks (plain text; the card escapes it)."""
    return (
        f"Move deployment {deployment.name} from version {from_version} to version {to_version}?"
        " A new instance starts beside the one serving; the endpoint switches to it once it is"
        " ready."
    )


def moving_label(deployment: Deployment, to_version: int | None) -> str:
    """The panel's busy label while its move runs."""
    return f"Moving {deployment.name} to version {to_version}"


def rollout_progress(rollout: Rollout) -> str:
    """The message area's live state of the panel's own move."""
    return PROGRESS_WORDS[rollout.status]


def rollout_text(rollout: Rollout) -> str:
    """The card's line about the deployment's latest change of version, as the server has it:
    ``version 1 → 2: in progress since 16:10:01``, ``… done at 16:10:05``, ``… abandoned at
    16:10:05: <why>; version 1 still serves``."""
    change = f"version {rollout.from_version} → {rollout.to_version}"
    word = ROLLOUT_WORDS[rollout.status]
    if rollout.status is RolloutStatus.IN_PROGRESS:
        since = f" since {clock(rollout.started_at)}" if rollout.started_at else ""
        return f"{change}: {word}{since}"
    at = f" at {clock(rollout.finished_at)}" if rollout.finished_at else ""
    if rollout.status is RolloutStatus.COMPLETED:
        return f"{change}: {word}{at}"
    why = rollout.message or "no reason given"
    return f"{change}: {word}{at}: {why}; version {rollout.from_version} still serves"


def moved_message(deployment: Deployment, rollout: Rollout, elapsed: str) -> Message:
    """How the panel's move went: the deployment runs the new version, or the change was
    abandoned (with the server's reason) and the old one still serves."""
    if rollout.status is RolloutStatus.COMPLETED:
        return Message(
            "success",
            f"Deployment {deployment.name!r} runs version {rollout.to_version} (was version"
            f" {rollout.from_version}) after {elapsed}.",
        )
    return Message(
        "error",
        f"Not moved: the change of deployment {deployment.name!r} to version"
        f" {rollout.to_version} was abandoned ({rollout.message or 'no reason given'}); it still"
        f" runs version {rollout.from_version}.",
    )


def versions_due(state: PanelState, now: float, every: float) -> bool:
    """Whether the versions should be read (again): the card shows a live deployment, and they
    were not read for the artifact it runs, or not for ``every`` seconds (a version locked
    elsewhere shows up then)."""
    deployment = live_deployment(state)
    if deployment is None or deployment.artifact_id is None:
        return False
    if state.versions_for != deployment.artifact_id:
        return True
    return now - state.versions_read_at >= every
