"""The deployment card's version chooser: the registered versions of the deployed artifact's
collection, and *Move deployment to vN*, the local server's rolling change of the deployment to
another version (``client.deployments.update(id, artifact_id=...)``, then
``wait_for_rollout``).

What is listed, enabled and said comes from :mod:`.versions`; this module makes the widgets
(:class:`VersionChooser`) and runs the actions (:class:`MoveActions`, a part of the panel):

- the versions are read when the card first shows a deployment, when the deployment runs
  another artifact, after a move, and every ``WatchTiming.versions`` seconds (a version locked
  in another cell shows up then): :meth:`MoveActions._read_versions_if_due`, on the portal;
- Move asks first (as Delete does); confirmed, it PATCHes the deployment and follows the change
  as the server reports it (the message area says how it stands, the card shows the change's
  state), then reads the deployment again and says how it ended: done, or abandoned with the
  server's reason. A failure is a one-line message (:meth:`~.widget.WorkloadPanel._guarded`).
"""

from __future__ import annotations

import html as html_module
import logging
import time
from typing import Any

from workloadlab.client import ArtifactVersion
from workloadlab.commands.describe import one_line
from workloadlab.commands.progress import seconds
from workloadlab.errors import WorkloadlabError
from workloadlab.models import Deployment, Rollout
from workloadlab.notebook.panel.actions import RESTART_TIMEOUT
from workloadlab.notebook.panel.core import PanelCore
from workloadlab.notebook.panel.decisions import live_deployment
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.status import note_html
from workloadlab.notebook.panel.ui import (
    Confirmation,
    Widget,
    assign,
    button,
    dropdown,
    hbox,
    html,
    vbox,
)
from workloadlab.notebook.panel.versions import (
    default_target,
    deployed_version,
    find_version,
    move_controls,
    move_question,
    moved_message,
    moving_label,
    rollout_progress,
    version_choices,
    versions_due,
)

logger = logging.getLogger(__name__)


class VersionChooser:
    """The chooser's widgets: the versions, Move, why Move is off, and its confirmation."""

    def __init__(self) -> None:
        self.choice: Widget = dropdown(
            [], "wl-version-choice", description="version", width="auto", min_width="24em"
        )
        self.move: Widget = button(
            "Move deployment…",
            "wl-version-move",
            icon="exchange",
            own_layout=True,
            width="auto",
            min_width="13em",
        )
        self.note: Widget = html("", "wl-version-note")
        asking = self.confirmation = Confirmation(
            "Move",
            ("wl-version-question", "wl-version-confirm", "wl-version-cancel"),
            button_style="warning",
            icon="exchange",
        )
        self.question, self.confirm, self.cancel = asking.question, asking.confirm, asking.cancel
        self.asking: Widget = asking.row
        self.box: Widget = vbox([hbox([self.choice, self.move]), self.note, self.asking])
        self.quiet = False
        """Set while :meth:`render` assigns the choice: the change is not the user's."""
        self._choices: list[tuple[str, str]] = []

    def render(self, state: PanelState) -> None:
        """Show the versions, the one chosen, Move as :func:`~.versions.move_controls` decide."""
        controls = move_controls(state)
        choices = version_choices(state)
        ids = [artifact_id for _, artifact_id in choices]
        chosen = state.move_target if state.move_target in ids else (ids[0] if ids else None)
        self.quiet = True
        try:
            if choices != self._choices:
                self._choices = choices
                with self.choice.hold_sync():
                    self.choice.options = choices
                    self.choice.value = chosen
            else:
                assign(self.choice, value=chosen)
        finally:
            self.quiet = False
        frozen = live_deployment(state) is None or state.busy is not None or controls.asking
        assign(self.choice, disabled=frozen or not choices)
        move = controls.move
        assign(self.move, description=move.description, disabled=not move.enabled)
        assign(self.move, tooltip=move.tooltip)
        assign(self.note, value=note_html(controls.note))
        target = find_version(state, state.move_target)
        question = None
        if controls.asking and state.deployment is not None and target is not None:
            text = move_question(state.deployment, deployed_version(state), target.version)
            question = html_module.escape(text)
        self.confirmation.ask(question)


class MoveActions(PanelCore):
    """What the chooser does (a part of :class:`~.widget.WorkloadPanel`)."""

    _versions_reading: bool = False
    """A reading of the versions is under way (on the portal)."""

    def _wire_chooser(self, chooser: VersionChooser) -> None:
        chooser.choice.observe(lambda change: self._on_version_chosen(chooser, change), "value")
        chooser.move.on_click(lambda _: self._on_move())
        chooser.cancel.on_click(lambda _: self._set_flag("confirm_move", False))
        chooser.confirm.on_click(lambda _: self._on_move_confirm())

    # -- the user (kernel thread) --------------------------------------------------------------

    def _on_version_chosen(self, chooser: VersionChooser, change: dict[str, Any]) -> None:
        with self._lock:
            if chooser.quiet or self._closed or change["new"] == self.state.move_target:
                return
            self.state.move_target = change["new"]
            self.state.confirm_move = False
            self._draw()

    def _on_move(self) -> None:
        with self._lock:
            if move_controls(self.state).move.enabled:
                self.state.confirm_move = True
                self._draw()

    def _on_move_confirm(self) -> None:
        with self._lock:
            state = self.state
            deployment = live_deployment(state)
            target = find_version(state, state.move_target)
            if deployment is None or target is None or not move_controls(state).asking:
                return
            state.confirm_move = False
            label = moving_label(deployment, target.version)
        self._submit(label, self._move_flow(deployment, target))

    # -- on the portal -------------------------------------------------------------------------

    async def _move_flow(self, deployment: Deployment, target: ArtifactVersion) -> None:
        """PATCH the deployment to ``target``, follow the change, say how it ended."""
        client = self.session.client
        started = time.monotonic()
        moved = await client.deployments.update(deployment.id, artifact_id=target.id)
        with self._lock:
            self._see_deployment(moved)
        self._throttle.request()

        def on_change(rollout: Rollout) -> None:
            with self._lock:
                known = self.state.deployment
                if known is not None and known.id == deployment.id:
                    self._see_deployment(known.model_copy(update={"rollout": rollout}))
                self.state.progress = rollout_progress(rollout)
            self._throttle.request()

        rollout = await client.deployments.wait_for_rollout(
            deployment.id, timeout=RESTART_TIMEOUT, on_change=on_change
        )
        fresh = await client.deployments.get(deployment.id)
        elapsed = seconds(time.monotonic() - started)
        with self._lock:
            self._see_deployment(fresh)
            self.state.versions_read_at = 0.0  # which deployments run what changed: read again
            self.state.message = moved_message(deployment, rollout, elapsed)
        self._read_versions_if_due()

    def _read_versions_if_due(self) -> None:
        """Read the versions (on the portal) when :func:`~.versions.versions_due` says so."""
        with self._lock:
            if self._versions_reading or self._closed:
                return
            every = self._watcher.timing.versions
            if not versions_due(self.state, time.monotonic(), every):
                return
            deployment = live_deployment(self.state)
            artifact_id = deployment.artifact_id if deployment is not None else None
            if artifact_id is None:
                return
            self._versions_reading = True
        self._spawn(self._read_versions(artifact_id))

    async def _read_versions(self, artifact_id: str) -> None:
        found: list[ArtifactVersion] | None = None
        problem: str | None = None
        try:
            found = await self.session.client.artifacts.versions(artifact_id)
        except (WorkloadlabError, OSError) as exc:
            logger.debug("reading the versions of %s failed", artifact_id, exc_info=True)
            problem = one_line(exc)
        finally:
            with self._lock:
                self._versions_reading = False
                state = self.state
                state.versions_for, state.versions_read_at = artifact_id, time.monotonic()
                state.versions_problem = problem
                if found is not None:
                    state.versions = found
                    state.move_target = default_target(found, state.deployment, state.move_target)
        self._throttle.request()
