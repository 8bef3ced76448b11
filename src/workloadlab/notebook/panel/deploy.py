"""Lock & Deploy: the confirmation step with its checklist (the deployment card is in
:mod:`.card`).

Registering is irreversible, so the step says so and holds Confirm back until the checklist
(:mod:`.checklist`) passes; when only a restart is missing it offers one right there.
"""

from __future__ import annotations

import html as html_module
from collections.abc import Sequence

from workloadlab.client.readiness import Check
from workloadlab.models import Importance
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel.actions import ProductionWay
from workloadlab.notebook.panel.checklist import checklist_html
from workloadlab.notebook.panel.decisions import confirm_button
from workloadlab.notebook.panel.ui import (
    Widget,
    assign,
    button,
    dropdown,
    hbox,
    html,
    set_visible,
    text,
    vbox,
)


def warning_html(artifact: Artifact, way: ProductionWay | None = None) -> str:
    """What confirming will do, in words; ``way`` on the current generation (no
    deployments): promote this workload, or a new production workload."""
    name = html_module.escape(artifact.name_or_id)
    if way is not None:
        lock = (
            f"Artifact <b>{name}</b> is already locked (version {artifact.version}). "
            if artifact.is_registered
            else f"<b>Promoting locks artifact {name} in place: irreversible.</b> It gets a"
            " version, and its container spec becomes immutable. "
        )
        if way is ProductionWay.PROMOTE:
            return lock + "This workload is production: it keeps running and keeps its endpoint."
        return lock + "Then a new production workload of the locked artifact starts."
    if artifact.is_registered:
        return (
            f"Artifact <b>{name}</b> is already registered (version {artifact.version}): "
            "Confirm creates a governed deployment of this workload."
        )
    return (
        f"<b>Registering artifact {name} is irreversible.</b> It gets a version, and its "
        "container spec becomes immutable: no more edits, only new artifacts. Then a governed "
        "deployment of this workload is created."
    )


class DeployStep:
    """The confirmation: what happens, deployment name and importance, checklist, Confirm."""

    def __init__(self) -> None:
        self.warning: Widget = html("", "wl-deploy-warning")
        self.name: Widget = text(
            "wl-deploy-name", description="deployment", width="auto", min_width="20em"
        )
        self.name_row: Widget = hbox([self.name], "wl-deploy-name-row", own_layout=True)
        self.importance: Widget = dropdown(
            [(i.value, i.value) for i in Importance],
            "wl-deploy-importance",
            value=Importance.LOW.value,
            description="importance",
        )
        self.way: Widget = dropdown(
            [(w.value, w.name) for w in ProductionWay],
            "wl-deploy-way",
            value=ProductionWay.PROMOTE.name,
            description="production",
        )
        self.way_row: Widget = hbox([self.way], "wl-deploy-way-row", own_layout=True)
        set_visible(self.way_row, False)  # the current generation's choice only
        self.checklist: Widget = html("", "wl-checklist")
        self.restart: Widget = button(
            "Restart",
            "wl-checklist-restart",
            icon="refresh",
            tooltip="Apply the saved spec",
            own_layout=True,
        )
        self.confirm: Widget = button("Confirm", "wl-confirm", button_style="danger", icon="lock")
        self.cancel: Widget = button("Cancel", "wl-cancel")
        self.box: Widget = vbox(
            [
                self.warning,
                self.way_row,
                self.name_row,
                self.importance,
                self.checklist,
                hbox([self.confirm, self.cancel, self.restart]),
            ],
            "wl-deploy-step",
            own_layout=True,
            border="1px solid var(--jp-warn-color1, #9a6700)",
            padding="6px 10px",
            margin="4px 0",
            display="none",
        )

    @property
    def deployment_name(self) -> str:
        """The name typed for the deployment."""
        return str(self.name.value).strip()

    @property
    def way_value(self) -> ProductionWay:
        """The way to production chosen (the current generation's)."""
        return ProductionWay[str(self.way.value)]

    @property
    def importance_value(self) -> Importance:
        """The importance chosen."""
        return Importance(self.importance.value)

    def render(
        self,
        *,
        open_: bool,
        artifact: Artifact,
        checks: Sequence[Check],
        offer_restart: bool,
        busy: bool,
        current: bool = False,
    ) -> None:
        """Show or hide the step; enable Confirm only when every check passes. ``current``:
        the server has no deployments, the step offers promote or a new workload instead."""
        set_visible(self.box, open_)
        if not open_:
            return
        way = self.way_value if current else None
        set_visible(self.way_row, current)
        set_visible(self.name_row, way is not ProductionWay.PROMOTE)
        assign(self.name, description="workload" if current else "deployment")
        assign(self.warning, value=warning_html(artifact, way))
        assign(self.checklist, value=checklist_html(checks))
        named = "promoted" if way is ProductionWay.PROMOTE else self.deployment_name
        confirm = confirm_button(
            checks_pass=all(check.ok for check in checks), name=named, busy=busy
        )
        assign(self.confirm, disabled=not confirm.enabled, tooltip=confirm.tooltip)
        set_visible(self.restart, offer_restart)
        assign(self.restart, disabled=busy)
        assign(self.name, disabled=busy)
        assign(self.importance, disabled=busy)
