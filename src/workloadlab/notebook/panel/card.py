"""The deployment card: the deployment the workload backs, live, its Delete, and the version
chooser that moves it to another version (:mod:`.mover`).

The card follows the deployment: its status is the workload's (the panel refreshes it when the
workload changes), its latest change of version as the server reports it (in progress, done,
abandoned and why), and once the deployment is gone (deleted here, from a cell, or anywhere) the
card says ``deleted`` and keeps what it knew. Delete asks first, in the card itself.
"""

from __future__ import annotations

import html as html_module

from workloadlab.models import Deployment
from workloadlab.notebook.panel import actions
from workloadlab.notebook.panel.decisions import (
    card_controls,
    deployment_deleted_message,
    live_deployment,
)
from workloadlab.notebook.panel.endpoint import endpoint_html
from workloadlab.notebook.panel.mover import MoveActions, VersionChooser
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.status import MUTED, WRAP, badge_html, clock
from workloadlab.notebook.panel.ui import (
    Confirmation,
    Widget,
    assign,
    button,
    html,
    set_visible,
    vbox,
)
from workloadlab.notebook.panel.versions import rollout_text


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
    if deployment.rollout is not None:
        word = html_module.escape(deployment.rollout.status.value)
        text = html_module.escape(rollout_text(deployment.rollout))
        rows.append(("change", f'<span class="wl-rollout wl-rollout-{word}">{text}</span>'))
    if deployment.endpoint and not deleted:
        rows.append(("endpoint", endpoint_html(deployment.endpoint)))
    if deployment.created_at is not None:
        rows.append(("created", clock(deployment.created_at)))
    return _table(rows)


def _table(rows: list[tuple[str, str]]) -> str:
    """A card's table: one muted key and its value a row."""
    cells = "".join(
        f'<tr><th style="text-align:left;padding:1px 10px 1px 0;{MUTED}">{key}</th>'
        f'<td style="padding:1px 0;{WRAP}">{value}</td></tr>'
        for key, value in rows
    )
    return f'<table style="border-collapse:collapse;font-size:12px">{cells}</table>'


class DeploymentCard:
    """The card's widgets: the table, the version chooser, Delete, and the confirmation Delete
    asks for."""

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
        asking = self.confirmation = Confirmation(
            "Delete",
            ("wl-deployment-question", "wl-deployment-confirm-delete", "wl-deployment-cancel"),
            button_style="danger",
            icon="trash",
        )
        self.question, self.confirm, self.cancel = asking.question, asking.confirm, asking.cancel
        self.asking: Widget = asking.row
        self.versions = VersionChooser()
        self.box: Widget = vbox(
            [self.info, self.versions.box, self.delete, self.asking],
            "wl-deployment-card",
            own_layout=True,
            border="1px solid var(--jp-border-color2, #d0d7de)",
            padding="6px 10px",
            margin="4px 0",
        )

    def render(self, state: PanelState) -> None:
        """Show the deployment as last seen, the versions, Move and Delete as decided."""
        deployment, deleted = state.deployment, state.deployment_deleted
        assert deployment is not None
        controls = card_controls(state)
        assign(self.info, value=deployment_html(deployment, deleted=deleted))
        self.versions.render(state)
        set_visible(self.delete, not deleted)
        assign(self.delete, disabled=not controls.delete.enabled, tooltip=controls.delete.tooltip)
        name = html_module.escape(deployment.name)
        question = f"Delete deployment <b>{name}</b>? Its endpoint stops answering."
        self.confirmation.ask(question if controls.asking else None)


class CardActions(MoveActions):
    """What the card's buttons do (a part of :class:`~.widget.WorkloadPanel`)."""

    def _make_card(self) -> DeploymentCard:
        """The card, its buttons wired."""
        card = DeploymentCard()
        card.delete.on_click(lambda _: self._on_delete())
        card.cancel.on_click(lambda _: self._set_flag("confirm_delete", False))
        card.confirm.on_click(lambda _: self._on_delete_confirm())
        self._wire_chooser(card.versions)
        return card

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


class ProductionCard:
    """The current generation's production workload (it has no deployments): this workload
    promoted, or the new workload Lock & Deploy started from the locked artifact."""

    def __init__(self) -> None:
        self.info: Widget = html("", "wl-production")
        self.box: Widget = vbox(
            [self.info],
            "wl-production-card",
            own_layout=True,
            border="1px solid var(--jp-border-color2, #d0d7de)",
            padding="6px 10px",
            margin="4px 0",
        )

    def render(self, state: PanelState) -> None:
        """The production workload as Lock & Deploy left it (this one: as it is now)."""
        production = state.production
        assert production is not None
        if production.id == state.workload.id:
            production = state.workload
        what = "this workload, promoted" if production.id == state.workload.id else "new workload"
        rows = [
            ("production", f"<b>{html_module.escape(production.name)}</b> ({what})"),
            ("id", f"<code>{html_module.escape(production.id)}</code>"),
            ("status", badge_html(production.status)),
        ]
        if state.artifact.is_registered:
            rows.append(("artifact", f"locked version {state.artifact.version}"))
        if production.endpoint:
            rows.append(("endpoint", endpoint_html(production.endpoint)))
        assign(self.info, value=_table(rows))
