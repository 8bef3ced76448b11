"""The deployment card: the deployment the workload backs, live, and its Delete.

The card follows the deployment: its status is the workload's (the panel refreshes it when the
workload changes), and once the deployment is gone (deleted here, from a cell, or anywhere) the
card says ``deleted`` and keeps what it knew. Delete asks first, in the card itself.
"""

from __future__ import annotations

import html as html_module

from workloadlab.models import Deployment
from workloadlab.notebook.panel import actions
from workloadlab.notebook.panel.core import PanelCore
from workloadlab.notebook.panel.decisions import (
    CardControls,
    card_controls,
    deployment_deleted_message,
    live_deployment,
)
from workloadlab.notebook.panel.status import MUTED, WRAP, badge_html, clock
from workloadlab.notebook.panel.ui import Widget, assign, button, hbox, html, set_visible, vbox


def deployment_html(deployment: Deployment, *, deleted: bool = False) -> str:
    """The card's table: name, id, status (``deleted`` once gone), endpoint, importance."""
    rows = [
        ("deployment", f"<b>{html_module.escape(deployment.name)}</b>"),
        ("id", f"<code>{html_module.escape(deployment.id)}</code>"),
        ("status", badge_html(deployment.status, gone=deleted)),
        (
            "importance",
            html_module.escape(deployment.importance.value if deployment.importance else "—"),
        ),
    ]
    if deployment.artifact is not None and deployment.artifact.version:
        rows.append(("artifact", f"version {deployment.artifact.version}"))
    if deployment.endpoint and not deleted:
        href = html_module.escape(deployment.endpoint)
        rows.append(("endpoint", f'<a href="{href}" target="_blank" rel="noopener">{href}</a>'))
    if deployment.created_at is not None:
        rows.append(("created", clock(deployment.created_at)))
    cells = "".join(
        f'<tr><th style="text-align:left;padding:1px 10px 1px 0;{MUTED}">{key}</th>'
        f'<td style="padding:1px 0;{WRAP}">{value}</td></tr>'
        for key, value in rows
    )
    return f'<table style="border-collapse:collapse;font-size:12px">{cells}</table>'


class DeploymentCard:
    """The card's widgets: the table, Delete, and the confirmation Delete asks for."""

    def __init__(self) -> None:
        self.info: Widget = html("", "wl-deployment")
        self.delete: Widget = button(
            "Delete deployment…",
            "wl-deployment-delete",
            icon="trash",
            own_layout=True,
            width="auto",
            min_width="13em",
        )
        self.question: Widget = html("", "wl-deployment-question")
        self.confirm: Widget = button(
            "Delete", "wl-deployment-confirm-delete", button_style="danger", icon="trash"
        )
        self.cancel: Widget = button("Cancel", "wl-deployment-cancel")
        self.asking: Widget = hbox(
            [self.question, self.confirm, self.cancel], own_layout=True, display="none"
        )
        self.box: Widget = vbox(
            [self.info, self.delete, self.asking],
            "wl-deployment-card",
            own_layout=True,
            border="1px solid var(--jp-border-color2, #d0d7de)",
            padding="6px 10px",
            margin="4px 0",
        )

    def render(self, deployment: Deployment, *, deleted: bool, controls: CardControls) -> None:
        """Show the deployment as last seen, and Delete as ``controls`` decide."""
        assign(self.info, value=deployment_html(deployment, deleted=deleted))
        set_visible(self.delete, not deleted)
        assign(self.delete, disabled=not controls.delete.enabled, tooltip=controls.delete.tooltip)
        set_visible(self.asking, controls.asking)
        if controls.asking:
            name = html_module.escape(deployment.name)
            text = f"Delete deployment <b>{name}</b>? Its endpoint stops answering."
            assign(self.question, value=text)


class CardActions(PanelCore):
    """What the card's buttons do (a part of :class:`~.widget.WorkloadPanel`)."""

    def _on_delete(self) -> None:
        with self._lock:
            if card_controls(self.state).delete.enabled:
                self.state.confirm_delete = True
                self._draw()

    def _on_delete_confirm(self) -> None:
        with self._lock:
            deployment = live_deployment(self.state)
            if deployment is None or not card_controls(self.state).asking:
                return
            self.state.confirm_delete = False
        self._submit("Deleting the deployment", self._delete_deployment_flow(deployment))

    async def _delete_deployment_flow(self, deployment: Deployment) -> None:
        await actions.delete_deployment(self.session.client, deployment.id)
        with self._lock:
            known = self.state.deployment
            if known is not None and known.id == deployment.id:
                self.state.deployment_deleted = True
            self.state.message = deployment_deleted_message(deployment, here=True)
