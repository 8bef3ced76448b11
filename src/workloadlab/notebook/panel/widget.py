"""``WorkloadPanel``: one workload's live status, spec form, changes and actions in one widget.

Threads: the watcher and the actions run on the portal and change the panel's state there; the
user's edits and clicks arrive on the kernel's thread. Both hold the panel's lock while they
touch state or widgets. Redraws after the watcher's news go through a :class:`Throttle` (at
most ten a second, only changed values sent); a click redraws the buttons at once, then submits
its work to the portal and returns. Nothing here prints or displays from the portal's thread:
ipykernel routes output by the cell that is running, so only widget traits are set there.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html as html_module
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import yaml

from workloadlab.models import (
    Artifact,
    Deployment,
    Event,
    Importance,
    InputArtifact,
    LogRecord,
    Workload,
)
from workloadlab.models.diff import FieldChange, diff_artifacts
from workloadlab.notebook.describe import one_line
from workloadlab.notebook.panel import actions
from workloadlab.notebook.panel.changes import changes_html
from workloadlab.notebook.panel.deploy import DeployStep, deployment_html
from workloadlab.notebook.panel.form import FormReading, SpecForm, base_containers
from workloadlab.notebook.panel.state import Message, PanelState, short_path, utcnow
from workloadlab.notebook.panel.status import StatusView
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
    set_visible,
    vbox,
    widgets,
)
from workloadlab.notebook.panel.watcher import Watcher, watcher_for
from workloadlab.notebook.progress import seconds
from workloadlab.notebook.session import Session
from workloadlab.notebook.specs import to_yaml

logger = logging.getLogger(__name__)

CLOCK_SLOW = 15.0
"""Seconds between redraws of the relative times (running since, draft TTL) when idle."""
CLOCK_FAST = 1.0
"""... while an action runs or the draft TTL is less than :data:`SOON` away."""
SOON = dt.timedelta(minutes=2)


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else int(shell.execution_count)


def _newer(candidate: Artifact, known: Artifact) -> bool:
    if candidate.updated_at is not None and known.updated_at is not None:
        return candidate.updated_at > known.updated_at
    return candidate.to_input() != known.to_input()


class WorkloadPanel(FixedRepr, widgets.VBox):  # type: ignore[misc]
    """A workload's panel: build it with :func:`workloadlab.panel` or ``%workload panel``."""

    _fixed_repr = "<WorkloadPanel>"
    reload: Widget
    """Conflict: take the server's version (made with :attr:`conflict`)."""
    compare: Widget
    """Conflict: keep the edits, measured against the server's version."""

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
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._pending_artifact: Artifact | None = None
        self._deployment_marker: str | None = None
        """The newest ``deployment.*`` event seen: a new one means deployments changed."""
        self.session = session
        self.state = PanelState(workload, artifact, deployment)
        self.workload_id = workload.id
        self._throttle = Throttle(session.portal, self._flush)
        self._watcher = watcher or watcher_for(session, workload.id)

        self.status = StatusView()
        self.form = SpecForm(self._form_changed)
        self._deploy: DeployStep | None = None
        self._conflict: Widget | None = None
        self._card: Widget | None = None
        self.extras: Widget = vbox([])
        """Where the conflict choice, the Lock & Deploy step and the deployment card go when
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
        self.changes: Widget = html("", "wl-diff")
        self.yaml: Widget = html("", "wl-yaml")
        self.tabs: Widget = widgets.Tab(
            children=[self.form.box, self.yaml, self.status.logs, self.status.timeline],
            titles=("Spec", "YAML", "Logs", "Timeline"),
            layout=layout(),
            _dom_classes=("wl-tabs",),
        )
        spacer = hbox([], flex="1")
        self.children = (
            hbox([self.status.header, spacer, self.close_button]),
            hbox([self.status.badge, self.status.details]),
            hbox([self.save, self.restart, self.save_restart, self.lock_deploy]),
            self.status.message,
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
        session.portal.call_soon(self._tick)

    # -- display -------------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        if self._sidebar_cell is not None and self._sidebar_cell == _execution_count():
            self._sidebar_cell = None  # just opened in the sidebar: do not show it twice
            return {"text/plain": "<WorkloadPanel (in the sidebar)>"}
        bundle: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        return bundle

    def show_in_sidebar(self) -> Widget:
        """Show the panel in JupyterLab's right sidebar (a ``sidecar.Sidecar``); replaces the
        sidebar tab this panel had. Returns the sidecar."""
        from sidecar import Sidecar  # type: ignore[import-untyped]

        with self._lock:
            if self._sidecar is not None:
                self._sidecar.close()
            sidecar = Sidecar(
                title=f"⚙ {self.state.workload.name}", anchor="right", _dom_classes=("wl-sidecar",)
            )
            view = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
            sidecar.outputs = (
                {
                    "output_type": "display_data",
                    "data": {
                        "text/plain": self._fixed_repr,
                        "application/vnd.jupyter.widget-view+json": view,
                    },
                    "metadata": {},
                },
            )
            self._sidecar = sidecar
            self._sidebar_cell = _execution_count()
        return sidecar

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

    def _redraw_now(self) -> None:
        with self._lock:
            if not self._closed:
                self._draw()

    def _draw(self) -> None:
        state = self.state
        self.status.render(state, utcnow())
        if self.form.read_only != state.locked:
            self.form.set_disabled(state.locked)
        self._draw_buttons()
        if state.deploy_open or self._deploy is not None:
            saved = state.runs_saved_spec()
            self.deploy.render(
                open_=state.deploy_open,
                artifact=state.artifact,
                checks=state.checklist(dirty=bool(self._changes)),
                offer_restart=saved is False and not state.in_transition,
                busy=state.busy is not None or state.in_transition,
            )
        if state.deployment is not None:
            assign(self.deployment_card, value=deployment_html(state.deployment))
        if state.conflict is not None or self._conflict is not None:
            set_visible(self.conflict, state.conflict is not None)
        self.status.render_message(state)

    # -- parts made when first needed (hold the lock) ------------------------------------------

    def _add_extra(self, widget: Widget) -> Widget:
        order = [self._conflict, self._deploy.box if self._deploy else None, self._card]
        self.extras.children = tuple(w for w in order if w is not None)
        return widget

    @property
    def deploy(self) -> DeployStep:
        """The Lock & Deploy confirmation step."""
        if self._deploy is None:
            step = self._deploy = DeployStep()
            step.confirm.on_click(lambda _: self._on_confirm())
            step.cancel.on_click(lambda _: self._on_cancel())
            step.restart.on_click(lambda _: self._on_restart())
            step.name.observe(lambda _: self._redraw_now(), names="value")
            self._add_extra(step.box)
        return self._deploy

    @property
    def conflict(self) -> Widget:
        """What to do when the artifact changed on the server: Reload or Compare."""
        if self._conflict is None:
            self.reload: Widget = button("Reload", "wl-reload", icon="download")
            self.compare: Widget = button("Compare", "wl-compare", icon="columns")
            self.reload.on_click(lambda _: self._on_reload())
            self.compare.on_click(lambda _: self._on_compare())
            self._conflict = hbox(
                [
                    html("The artifact changed on the server since the form loaded it."),
                    self.reload,
                    self.compare,
                ],
                "wl-conflict",
                own_layout=True,
                display="none",
            )
            self._add_extra(self._conflict)
        return self._conflict

    @property
    def deployment_card(self) -> Widget:
        """The deployment card (name, id, status, endpoint, importance)."""
        if self._card is None:
            self._card = html("", "wl-deployment")
            self._add_extra(self._card)
        return self._card

    def blocked(self) -> str | None:
        """Why no action can start now (``None``: they can)."""
        state = self.state
        if state.busy is not None:
            return f"{state.busy}…"
        if state.gone:
            return "the workload was deleted"
        if state.in_transition:
            return f"wait: the workload is {state.workload.status.value}"
        return None

    def _save_problem(self) -> str | None:
        state = self.state
        if state.locked:
            return "the artifact is registered: its container spec is immutable"
        if state.conflict is not None:
            return "the artifact changed on the server: Reload or Compare first"
        if not self._reading.valid:
            return "fix the form's errors first"
        if not self._changes:
            return "no unsaved changes"
        return None

    def _draw_buttons(self) -> None:
        state = self.state
        blocked = self.blocked()
        save_problem = blocked or self._save_problem()
        restart_needed = any(change.needs_restart for change in self._changes)
        save_tip = (
            save_problem
            or ("Save the spec (PUT); Restart applies it" if restart_needed else "")
            or "Save name and description (PATCH); no restart needed"
        )
        assign(self.save, disabled=save_problem is not None, tooltip=save_tip)
        assign(
            self.save_restart,
            disabled=save_problem is not None,
            tooltip=save_problem or "Save, then stop and start the workload with the new spec",
        )
        assign(
            self.restart,
            disabled=blocked is not None,
            tooltip=blocked or "Stop and start the workload (applies the saved spec)",
        )
        deployed = state.deployment is not None
        deploy_problem = blocked or (f"deployed as {state.deployment.name}" if deployed else None)  # type: ignore[union-attr]
        assign(
            self.lock_deploy,
            description="Deploy…" if state.locked else "Lock & Deploy…",
            disabled=deploy_problem is not None,
            tooltip=deploy_problem or "Register the artifact and create a deployment (asks first)",
        )

    def _refresh_form(self) -> None:
        """Re-read the form: messages beside fields, the changes, the YAML view."""
        reading = self._reading = self.form.read()
        self.form.show(reading)
        base = self.state.artifact.to_input()
        self._changes = diff_artifacts(base, reading.artifact or reading.wire)
        names = [str(c.get("name") or "primary") for c in base_containers(reading.wire)]
        assign(
            self.changes,
            value=changes_html(self._changes, valid=reading.valid, containers=names),
        )
        text = to_yaml(reading.artifact) if reading.artifact is not None else _raw_yaml(reading)
        assign(
            self.yaml,
            value=f'<pre style="margin:0;font-size:12px">{html_module.escape(text)}</pre>',
        )

    # -- the user (kernel thread) --------------------------------------------------------------

    def _form_changed(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._refresh_form()
            self._draw()

    def _on_save(self, *, restart: bool) -> None:
        with self._lock:
            if self.blocked() or self._save_problem():
                return
            base, wanted = self.state.artifact, self._reading.artifact
            assert wanted is not None
        self._submit("Saving", self._save_flow(base, wanted, restart=restart))

    def _on_restart(self) -> None:
        with self._lock:
            if self.blocked():
                return
        self._submit("Restarting", self._restart_flow())

    def _on_lock_deploy(self) -> None:
        with self._lock:
            if self.blocked():
                return
            if not self.deploy.deployment_name:
                assign(self.deploy.name, value=f"{self.state.workload.name}-prod")
            self.state.deploy_open = True
            self.state.message = None
            self._draw()

    def _on_cancel(self) -> None:
        with self._lock:
            self.state.deploy_open = False
            self._draw()

    def _on_confirm(self) -> None:
        with self._lock:
            state = self.state
            checks = state.checklist(dirty=bool(self._changes))
            if self.blocked() or not all(c.ok for c in checks) or not self.deploy.deployment_name:
                return
            flow = self._deploy_flow(
                state.workload,
                state.artifact,
                self.deploy.deployment_name,
                self.deploy.importance_value,
            )
        self._submit("Locking and deploying", flow)

    def _on_reload(self) -> None:
        with self._lock:
            current = self.state.conflict
            if current is None:
                return
            self._take(current, reload_form=True)
            self.state.message = Message("info", "Reloaded the server's version of the artifact.")
            self._draw()

    def _on_compare(self) -> None:
        with self._lock:
            current = self.state.conflict
            if current is None:
                return
            theirs = diff_artifacts(self.state.artifact.to_input(), current.to_input())
            self._take(current, reload_form=False)
            fields = ", ".join(short_path(change.path) for change in theirs[:5])
            self.state.message = Message(
                "info",
                f"Changed on the server: {fields or 'nothing in the spec'}. The changes below now "
                "compare your form with the server's current version; Save applies your form "
                "over it.",
            )
            self._draw()

    def _take(self, artifact: Artifact, *, reload_form: bool) -> None:
        """Make ``artifact`` the form's base (and, with ``reload_form``, its content)."""
        self.state.artifact = artifact
        self.state.conflict = None
        if reload_form or artifact.is_registered:
            self.form.load(artifact)
        else:
            self.form.rebase(artifact)
        self._refresh_form()

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

    # -- the actions (portal) ------------------------------------------------------------------

    async def _save_flow(self, base: Artifact, wanted: InputArtifact, *, restart: bool) -> None:
        client = self.session.client
        try:
            saved = await actions.save(client, base, wanted)
        except actions.SpecConflict as exc:
            with self._lock:
                self.state.conflict = exc.current
                self.state.message = Message(
                    "warning",
                    "Not saved: the artifact changed on the server since the form loaded it. "
                    "Reload takes the server's version (your edits are dropped); Compare shows "
                    "what changed and keeps your edits.",
                )
            return
        with self._lock:
            self._take(saved.artifact, reload_form=False)
            workload = self.state.workload
            if not saved.method:
                text = "Nothing to save: the form matches the server."
            elif saved.needs_restart:
                text = f"Saved ({saved.method}, {len(saved.changes)} change(s))."
                if not restart and workload.status.value != "stopped":
                    text += f" {workload.name} still runs the previous spec: Restart applies it."
            else:
                text = f"Saved ({saved.method}): metadata only, no restart needed."
            self.state.message = Message("success", text)
            if restart:
                self.state.busy = "Restarting"
        self._throttle.request()
        if restart:
            await self._restart_flow(prefix="Saved. ")

    async def _restart_flow(self, prefix: str = "") -> None:
        started = time.monotonic()
        watcher = self._watcher

        def on_change(workload: Workload) -> None:
            watcher.observe(workload)
            with self._lock:
                self.state.progress = workload.status.value
            self._throttle.request()

        watcher.poke()
        workload = await actions.restart(self.session.client, self.workload_id, on_change)
        elapsed = seconds(time.monotonic() - started)
        with self._lock:
            self.state.message = Message(
                "success",
                f"{prefix}Restarted: {workload.name} {workload.status.value} after {elapsed}.",
            )

    async def _deploy_flow(
        self, workload: Workload, artifact: Artifact, name: str, importance: Importance
    ) -> None:
        client = self.session.client
        try:
            done = await actions.lock_and_deploy(
                client, workload, artifact, name=name, importance=importance
            )
        except actions.DeployFailed as exc:
            with self._lock:
                self._take(exc.artifact, reload_form=True)
                self.state.message = Message(
                    "error",
                    f"Artifact {exc.artifact.name!r} is registered "
                    f"(version {exc.artifact.version}), but creating the deployment failed: "
                    f"{one_line(exc.cause)}",
                )
            return
        with self._lock:
            self._take(done.artifact, reload_form=True)
            self.state.deployment = done.deployment
            self.state.deploy_open = False
            locked = (
                f"Locked: artifact {done.artifact.name!r} is registered as version "
                f"{done.artifact.version}. "
                if done.registered_now
                else ""
            )
            self.state.message = Message(
                "success", f"{locked}Deployed as {done.deployment.name!r}."
            )

    async def _refresh_deployment(self) -> None:
        deployment = self.state.deployment
        if deployment is None:
            return
        fresh = await self.session.client.deployments.get(deployment.id)
        with self._lock:
            self.state.deployment = fresh
        self._throttle.request()

    def _tick(self) -> None:
        """Redraw the relative times now and then (on the portal)."""
        if self._closed:
            return
        self._throttle.request()
        state = self.state
        expires = state.workload.expires_at
        soon = expires is not None and expires - utcnow() < SOON
        delay = CLOCK_FAST if state.busy is not None or soon else CLOCK_SLOW
        self._timer = asyncio.get_running_loop().call_later(delay, self._tick)

    # -- what the watcher says (portal) --------------------------------------------------------

    def workload_changed(self, workload: Workload) -> None:
        """The watcher's news: a new state of the workload."""
        with self._lock:
            changed = self.state.observe(workload)
            if changed and self.state.deployment is not None:
                task = asyncio.get_running_loop().create_task(self._refresh_deployment())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self._throttle.request()

    def logs_added(self, records: Sequence[LogRecord]) -> None:
        """The watcher's news: new log lines."""
        with self._lock:
            self.state.add_logs(records)
        self._throttle.request()

    def events_changed(self, events: Sequence[Event]) -> None:
        """The watcher's news: the newest events (a deployment made or deleted elsewhere, e.g.
        by ``%workload deploy``, shows up here first)."""
        marker = next((e.id for e in events if e.event_type.startswith("deployment.")), None)
        with self._lock:
            self.state.events = list(events)
            reload = marker is not None and marker != self._deployment_marker
            self._deployment_marker = marker
        if reload:
            task = asyncio.get_running_loop().create_task(self._reload_deployment())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._throttle.request()

    def deployment_made(self, deployment: Deployment) -> None:
        """The watcher's news: ``%workload deploy`` just made this deployment; its card shows
        now (the audit trail would tell a moment later)."""
        with self._lock:
            self.state.deployment = deployment
        self._throttle.request()

    async def _reload_deployment(self) -> None:
        fresh = await actions.latest_deployment(self.session.client, self.state.workload.id)
        with self._lock:
            self.state.deployment = fresh
        self._throttle.request()

    def artifact_changed(self, artifact: Artifact) -> None:
        """The watcher's news: the artifact changed on the server (maybe by this panel)."""
        with self._lock:
            if self._closed or not _newer(artifact, self.state.artifact):
                return
            if self.state.busy is not None:  # maybe this panel's own save: judge it after
                self._pending_artifact = artifact
                return
            if artifact.is_registered and not self.state.locked:
                self._take(artifact, reload_form=True)
                self.state.message = Message(
                    "info", "The artifact was registered elsewhere: its spec is now immutable."
                )
            elif not self._changes:
                self._take(artifact, reload_form=True)
                self.state.message = Message(
                    "info", "The artifact changed on the server: the form shows the new version."
                )
            else:
                self.state.conflict = artifact
                self.state.message = Message(
                    "warning",
                    "The artifact changed on the server while you were editing: "
                    "Reload or Compare before saving.",
                )
        self._throttle.request()

    def connection_changed(self, problem: str | None) -> None:
        """The watcher's news: the server cannot be reached (or can again)."""
        with self._lock:
            self.state.connection_problem = problem
        self._throttle.request()

    def workload_gone(self) -> None:
        """The watcher's news: the workload was deleted."""
        with self._lock:
            self.state.gone = True
            self.state.deploy_open = False
            self.state.message = Message(
                "warning", "The workload was deleted: this panel no longer updates."
            )
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


def _raw_yaml(reading: FormReading) -> str:
    with contextlib.suppress(yaml.YAMLError):
        return "# not valid yet\n" + yaml.safe_dump(reading.wire, sort_keys=False)
    return ""
