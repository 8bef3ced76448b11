"""The watcher's news, taken into a panel's state (on the portal's thread).

Each method holds the panel's lock while it changes the state, then asks the throttle for a
redraw. The deployment card follows the deployment: a status change of the workload reads the
deployment again (its status is the workload's), a new ``deployment.*`` event in the
workload's trail (or the end of a change of version: :func:`~.decisions.tells_of_deployment`)
looks for the workload's deployment (made, deleted or moved elsewhere), and a deployment that
is no longer there is shown ``deleted`` (:func:`~.decisions.deployment_news`). When the
workload runs another artifact (its deployment moved to another version), the panel takes that
artifact (:func:`~.decisions.artifact_news`: ``switched``).
"""

from __future__ import annotations

from collections.abc import Sequence

from workloadlab.errors import NotFoundError
from workloadlab.models import Deployment, Event, LogRecord
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel import actions
from workloadlab.notebook.panel.core import PanelCore
from workloadlab.notebook.panel.decisions import (
    NEWS_MESSAGES,
    artifact_news,
    deployment_news,
    live_deployment,
    tells_of_deployment,
)
from workloadlab.notebook.panel.state import Message
from workloadlab.notebook.panel.versions import default_target, under_way


def _newer(candidate: Artifact, known: Artifact) -> bool:
    if candidate.updated_at is not None and known.updated_at is not None:
        return candidate.updated_at > known.updated_at
    return candidate.to_input() != known.to_input()


class PanelNews(PanelCore):
    """The :class:`~.watcher.WatchListener` side of a panel."""

    _pending_artifact: Artifact | None
    """An artifact seen while an action ran (maybe the panel's own save): judged after it."""
    _deployment_marker: str | None
    """The newest ``deployment.*`` event seen: a new one means deployments changed."""

    def _has_edits(self) -> bool:
        raise NotImplementedError

    def workload_changed(self, workload: Workload) -> None:
        """The watcher's news: a new state of the workload."""
        with self._lock:
            changed = self.state.observe(workload)
            if changed and live_deployment(self.state) is not None:
                self._spawn(self._refresh_deployment())
        self._throttle.request()

    def logs_added(self, records: Sequence[LogRecord]) -> None:
        """The watcher's news: new log lines."""
        with self._lock:
            self.state.add_logs(records)
        self._throttle.request()

    def events_changed(self, events: Sequence[Event]) -> None:
        """The watcher's news: the newest events (a deployment made or deleted elsewhere, e.g.
        by ``%workload deploy`` or a client call, shows up here first)."""
        marker = next((e.id for e in events if tells_of_deployment(e.event_type)), None)
        with self._lock:
            self.state.events = list(events)
            reload = marker is not None and marker != self._deployment_marker
            self._deployment_marker = marker
        if reload:
            self._spawn(self._reload_deployment())
        self._throttle.request()

    def deployment_made(self, deployment: Deployment) -> None:
        """The watcher's news: ``%workload deploy`` just made this deployment; its card shows
        now (the audit trail would tell a moment later)."""
        with self._lock:
            self._see_deployment(deployment)
        self._throttle.request()

    async def _refresh_deployment(self) -> None:
        """Read the card's deployment again (its status follows the workload's)."""
        deployment = live_deployment(self.state)
        if deployment is None:
            return
        try:
            fresh: Deployment | None = await self.session.client.deployments.get(deployment.id)
        except NotFoundError:
            fresh = None
        with self._lock:
            self._see_deployment(fresh)
        self._throttle.request()

    async def _reload_deployment(self) -> None:
        """Look for the workload's deployment (one was made or deleted)."""
        fresh = await actions.latest_deployment(self.session.client, self.workload_id)
        with self._lock:
            self._see_deployment(fresh)
        self._throttle.request()

    def _see_deployment(self, fresh: Deployment | None) -> None:
        state = self.state
        view = deployment_news(state, fresh)
        before = state.deployment.artifact_id if state.deployment is not None else None
        state.deployment, state.deployment_deleted = view.deployment, view.deleted
        if view.deleted:
            state.confirm_delete = False
        now = view.deployment.artifact_id if view.deployment is not None else None
        if view.deleted or now != before or under_way(view.deployment) is not None:
            state.confirm_move = False  # what it asked about is not so any more
        state.move_target = default_target(state.versions or (), view.deployment, state.move_target)
        if view.message is not None:
            state.message = view.message
        self._read_versions_if_due()

    def artifact_changed(self, artifact: Artifact) -> None:
        """The watcher's news: the artifact changed on the server (maybe by this panel)."""
        with self._lock:
            if self._closed:
                return
            news = artifact_news(
                self.state,
                artifact,
                newer=_newer(artifact, self.state.artifact),
                edited=self._has_edits(),
            )
            if news == "later":
                self._pending_artifact = artifact
            elif news in ("switched", "registered", "reload"):
                self._take(artifact, reload_form=True)
            elif news == "conflict":
                self.state.conflict = artifact
            if news in NEWS_MESSAGES:
                self.state.message = NEWS_MESSAGES[news]
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
            if self.state.deployment is not None:  # only a forced delete, which takes it too
                self.state.deployment_deleted = True
            self.state.message = Message(
                "warning", "The workload was deleted: this panel no longer updates."
            )
        self._throttle.request()
