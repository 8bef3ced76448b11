"""``WorkloadPanel``: one workload's live status, spec form, changes and actions in one widget.

Threads: the watcher (:mod:`.news`) and the actions (:mod:`.flows`) run on the portal and change
the panel's state there; the user's edits and clicks arrive on the kernel's thread. Both hold
the panel's lock while they touch state or widgets. Redraws after the watcher's news go through
a :class:`Throttle` (at most ten a second, only changed values sent); a click redraws the
buttons at once, then submits its work to the portal and returns. Nothing here prints or
displays from the portal's thread: ipykernel routes output by the cell that is running, so only
widget traits are set there. What is enabled and why, and every outcome's words, come from
:mod:`.decisions`; this module wires widgets to them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from workloadlab.commands.describe import one_line
from workloadlab.models import Deployment
from workloadlab.models.diff import FieldChange, diff_artifacts
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel import decisions
from workloadlab.notebook.panel.card import CardActions, DeploymentCard, ProductionCard
from workloadlab.notebook.panel.changes import changes_html, yaml_html
from workloadlab.notebook.panel.checklist import offer_restart, readiness
from workloadlab.notebook.panel.conflict import ConflictActions, ConflictView
from workloadlab.notebook.panel.decisions import Button, FormView
from workloadlab.notebook.panel.deploy import DeployStep
from workloadlab.notebook.panel.display import PanelDisplay
from workloadlab.notebook.panel.findings import PreflightView
from workloadlab.notebook.panel.flows import PanelFlows
from workloadlab.notebook.panel.focus import DEPLOYMENT_NAME, MESSAGE_AREA, FocusMover
from workloadlab.notebook.panel.form import FormReading, SpecForm, base_containers
from workloadlab.notebook.panel.live import LiveStatus
from workloadlab.notebook.panel.news import PanelNews
from workloadlab.notebook.panel.state import Message, PanelState, utcnow
from workloadlab.notebook.panel.status import StatusView, note_html
from workloadlab.notebook.panel.style import disconnected_note, stylesheet
from workloadlab.notebook.panel.sync import SyncView
from workloadlab.notebook.panel.throttle import Throttle
from workloadlab.notebook.panel.ui import (
    FixedRepr,
    Widget,
    assign,
    button,
    close_tree,
    hbox,
    html,
    layout,
    vbox,
    widgets,
)
from workloadlab.notebook.panel.watcher import Watcher, watcher_for
from workloadlab.notebook.session import Session

logger = logging.getLogger(__name__)


class WorkloadPanel(
    PanelNews,
    PanelFlows,
    CardActions,
    ConflictActions,
    PanelDisplay,
    FixedRepr,
    widgets.VBox,  # type: ignore[misc]
):
    """A workload's panel: build it with :func:`workloadlab.panel` or ``%workload panel``."""

    _fixed_repr = "<WorkloadPanel>"

    def __init__(
        self,
        session: Session,
        workload: Workload,
        artifact: Artifact,
        deployment: Deployment | None = None,
        *,
        watcher: Watcher | None = None,
        on_close: Callable[[WorkloadPanel], None] | None = None,
    ) -> None:
        super().__init__(
            layout=layout(border="1px solid var(--jp-border-color2, #d0d7de)", padding="6px 10px"),
            _dom_classes=("wl-panel",),
        )
        self._lock = threading.RLock()
        self._closed = False
        self._on_close = on_close
        self._sidecar: Widget | None = None
        self._sidebar_cell: int | None = None
        self._tasks = set()
        self._timer = None
        self._pending_artifact = None
        self._deployment_marker = None
        self.session = session
        self.state = PanelState(workload, artifact, deployment)
        self.workload_id = workload.id
        self._throttle = Throttle(session.portal, self._flush)
        self._watcher = watcher or watcher_for(session, workload.id)

        self.status = StatusView()
        self.form = SpecForm(self._form_changed)
        self.preflight = PreflightView(self.form, self._form_changed)
        self._deploy: DeployStep | None = None
        self._conflict: ConflictView | None = None
        self._card: DeploymentCard | None = None
        self._production: ProductionCard | None = None
        self.extras: Widget = vbox([])
        """Where the conflict view, the Lock & Deploy step and the deployment card go when
        first needed (most panels never need them, and widgets cost build time)."""
        self.close_button: Widget = button(
            "",
            "wl-close",
            icon="times",
            tooltip="Close the panel (stops its watcher)",
            width="2.6em",
        )
        self.save: Widget = button("Save", "wl-save", icon="save")
        self.restart: Widget = button("Restart", "wl-restart", icon="refresh")
        self.save_restart: Widget = button(
            "Save & Restart", "wl-save-restart", button_style="primary"
        )
        self.lock_deploy: Widget = button(
            "Lock & Deploy…", "wl-lock-deploy", button_style="warning", icon="lock"
        )
        self.live_sync = SyncView(session, workload.id)
        self.note: Widget = html("", "wl-button-note")
        """Why a button is off, when that must be readable (a deployment the workload backs)."""
        self.changes: Widget = html("", "wl-diff")
        self.yaml: Widget = html("", "wl-yaml")
        self.tabs: Widget = widgets.Tab(
            children=[self.form.box, self.yaml, self.status.logs, self.status.timeline],
            titles=("Spec", "YAML", "Logs", "Timeline"),
            layout=layout(),
            _dom_classes=("wl-tabs",),
        )
        self.focus_requests = FocusMover()
        self.live = LiveStatus(self.status.message, self.focus_requests.widget)
        self.children = (
            stylesheet(),
            disconnected_note(),
            hbox([self.status.header, hbox([], flex="1"), self.close_button]),
            hbox([self.status.badge, self.status.details]),
            hbox([self.save, self.restart, self.save_restart, self.lock_deploy]),
            self.live_sync.box,
            self.note,
            self.live.box,
            self.extras,
            self.changes,
            self.tabs,
        )
        self.close_button.on_click(lambda _: self.close())
        self.save.on_click(lambda _: self._on_save(restart=False))
        self.save_restart.on_click(lambda _: self._on_save(restart=True))
        self.restart.on_click(lambda _: self._on_restart())
        self.lock_deploy.on_click(lambda _: self._on_lock_deploy())

        self._changes: list[FieldChange] = []
        self._reading: FormReading
        with self._lock:
            self.form.set_disabled(artifact.is_registered)
            self.form.load(artifact)
            self._refresh_form()
            self._draw()
        self._watcher.subscribe(self)
        preflight = self.preflight
        preflight.connect(session.client, session.portal.submit, self._form_changed, self._reading)
        session.portal.call_soon(self._tick)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran (a closed panel cannot be shown again)."""
        return self._closed

    def close(self) -> None:
        """Stop the watcher (when this was its last panel) and remove the panel's views."""
        lock = getattr(self, "_lock", None)
        if lock is None or not hasattr(self, "_watcher"):  # __init__ failed early
            super().close()
            return
        with lock:
            if self._closed:
                return
            self._closed = True
        self._throttle.close()
        self._watcher.unsubscribe(self)
        self.live_sync.detach()
        timer, self._timer = self._timer, None
        if timer is not None:
            self.session.portal.call_soon(timer.cancel)
        if self._on_close is not None:
            self._on_close(self)
        with lock:
            if self._sidecar is not None:
                self._sidecar.close()
                self._sidecar = None
            for child in self.children:
                close_tree(child)
            super().close()

    # -- drawing (hold the lock) -----------------------------------------------------------

    def _flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._draw()

    def _decide(self) -> decisions.Buttons:
        return decisions.buttons(self.state, FormView(self._reading.valid, self._changes))

    def _draw(self) -> None:
        state = self.state
        self.status.render(state, utcnow())
        if self.form.read_only != state.locked:
            self.form.set_disabled(state.locked)
        decided = self._decide()
        for widget, shown in (
            (self.save, decided.save),
            (self.restart, decided.restart),
            (self.save_restart, decided.save_restart),
            (self.lock_deploy, decided.lock_deploy),
        ):
            _show_button(widget, shown)
        assign(self.note, value=note_html(decided.note))
        if state.deploy_open or self._deploy is not None:
            checks = readiness(state, unsaved_edits=bool(self._changes))
            self.deploy.render(
                open_=state.deploy_open,
                artifact=state.artifact,
                checks=checks.checks,
                offer_restart=offer_restart(state, checks),
                busy=state.busy is not None or state.in_transition,
                current=state.generation == "current",
            )
        if state.deployment is not None:
            self.card.render(state)
        if state.production is not None:
            if self._production is None:
                self._production = ProductionCard()
                self._add_extras()
            self._production.render(state)
        if state.conflict is not None or state.merge is not None or self._conflict is not None:
            self.conflict_view.render(conflict=state.conflict is not None, merging=state.merge)
        self._draw_smoke()
        self.status.render_message(state)
        if state.badge_behind:
            self._throttle.request()  # the next status at the next redraw (within the budget)
        self.live.render(state)

    # -- parts made when first needed (hold the lock) ------------------------------------------

    def _add_extras(self) -> None:
        order = [self._conflict, self._deploy, self._card, self._production, self._smoke_view]
        self.extras.children = tuple(part.box for part in order if part is not None)

    @property
    def deploy(self) -> DeployStep:
        """The Lock & Deploy confirmation step."""
        if self._deploy is None:
            step = self._deploy = DeployStep()
            step.confirm.on_click(lambda _: self._on_confirm())
            step.cancel.on_click(lambda _: self._set_flag("deploy_open", False))
            step.restart.on_click(lambda _: self._on_restart())
            step.name.observe(lambda _: self._redraw_now(), names="value")
            self._add_extras()
        return self._deploy

    @property
    def card(self) -> DeploymentCard:
        """The deployment card (name, id, status, endpoint, importance, its change of version,
        the version chooser, Delete)."""
        if self._card is None:
            self._card = self._make_card()
            self._add_extras()
        return self._card

    @property
    def deployment_card(self) -> Widget:
        """The deployment card's table."""
        return self.card.info

    @property
    def production_card(self) -> Widget:
        """The production workload's table (the current generation's; once Lock & Deploy
        made one)."""
        assert self._production is not None, "no production workload yet"
        return self._production.info

    def _refresh_form(self) -> None:
        """Re-read the form: messages beside fields, the changes, the YAML view."""
        reading = self._reading = self.form.read()
        self.preflight.review(reading)
        self.form.show(reading)
        base = self.state.artifact.to_input()
        self._changes = diff_artifacts(base, reading.artifact or reading.wire)
        names = [str(c.get("name") or "primary") for c in base_containers(reading.wire)]
        assign(
            self.changes,
            value=changes_html(self._changes, valid=reading.valid, containers=names),
        )
        assign(self.yaml, value=yaml_html(reading))

    def _has_edits(self) -> bool:
        return bool(self._changes)

    def _take(self, artifact: Artifact, *, reload_form: bool, settle: bool = False) -> None:
        self.state.artifact = artifact
        self.state.conflict = None
        if reload_form or artifact.is_registered:
            self.state.merge = None
            self.form.load(artifact)
        else:
            self.form.rebase(artifact)
        if settle:
            self.form.settle(artifact)
        self._refresh_form()

    # -- the user (kernel thread) --------------------------------------------------------------

    def _redraw_now(self) -> None:
        with self._lock:
            if not self._closed:
                self._draw()

    def _set_flag(self, name: str, value: bool) -> None:
        with self._lock:
            setattr(self.state, name, value)
            self._draw()

    def _form_changed(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._refresh_form()
            self._draw()

    def _on_save(self, *, restart: bool) -> None:
        with self._lock:
            decided = self._decide()
            if not (decided.save_restart if restart else decided.save).enabled:
                return
            base, wanted = self.state.artifact, self._reading.artifact
            secrets = list(self._reading.secrets)
            assert wanted is not None
        self._submit("Saving", self._save_flow(base, wanted, secrets, restart=restart))
        self.focus_requests.move_to(MESSAGE_AREA)  # the clicked button is off while saving

    def _on_restart(self) -> None:
        with self._lock:
            if not self._decide().restart.enabled:
                return
        self._submit("Restarting", self._restart_flow())

    def _on_lock_deploy(self) -> None:
        with self._lock:
            if not self._decide().lock_deploy.enabled:
                return
            if not self.deploy.deployment_name:
                assign(self.deploy.name, value=f"{self.state.workload.name}-prod")
            self.state.deploy_open = True
            self.state.message = None
            self._draw()
        self.focus_requests.move_to(DEPLOYMENT_NAME)
        self.session.portal.submit(self._read_serving_since())
        self.session.portal.submit(self._run_smoke())

    def _on_confirm(self) -> None:
        with self._lock:
            state = self.state
            ready = readiness(state, unsaved_edits=bool(self._changes)).ok
            allowed = self._decide().lock_deploy.enabled
            if not allowed or not ready or not self.deploy.deployment_name:
                return
            flow = self._deploy_flow(
                state.workload,
                state.artifact,
                self.deploy.deployment_name,
                self.deploy.importance_value,
                self.deploy.way_value,
            )
        self._submit("Locking and deploying", flow)
        self.focus_requests.move_to(MESSAGE_AREA)  # Confirm is gone once the artifact is locked

    def _submit(self, label: str, flow: Coroutine[Any, Any, None]) -> None:
        """Mark the panel busy, redraw the buttons, run ``flow`` on the portal; return."""
        with self._lock:
            if self.state.busy is not None or self._closed:
                flow.close()
                return
            self.state.busy = label
            self.state.busy_since = time.monotonic()
            self.state.progress = None
            self.state.message = None
            self._draw()
        self.session.portal.submit(self._guarded(label, flow))

    async def _guarded(self, label: str, flow: Coroutine[Any, Any, None]) -> None:
        try:
            await flow
        except Exception as exc:
            logger.debug("panel action %s failed", label, exc_info=True)
            with self._lock:
                self.state.message = Message("error", f"{label} failed: {one_line(exc)}")
        finally:
            with self._lock:
                self.state.busy = None
                self.state.progress = None
                pending, self._pending_artifact = self._pending_artifact, None
            if pending is not None:
                self.artifact_changed(pending)
            self._watcher.poke()
            self._throttle.request()

    # -- for tests and benchmarks ----------------------------------------------------------------

    @property
    def watcher(self) -> Watcher:
        """The watcher this panel listens to."""
        return self._watcher

    @property
    def reading(self) -> FormReading:
        """The form's last reading."""
        return self._reading

    @property
    def pending_changes(self) -> list[FieldChange]:
        """The form's changes against the server's artifact."""
        return list(self._changes)

    def flush(self) -> None:
        """Redraw now (tests; the watcher's news redraw by themselves)."""
        self._redraw_now()


def _show_button(widget: Widget, shown: Button) -> None:
    traits: dict[str, Any] = {"disabled": not shown.enabled, "tooltip": shown.tooltip}
    if shown.description:
        traits["description"] = shown.description
    assign(widget, **traits)
