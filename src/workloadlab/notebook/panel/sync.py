"""The panel's "Live sync" toggle and line: on, it starts ``%workload sync``'s live sync of the
workload (:mod:`workloadlab.sync`); the line shows the last sync, its duration and the checks
after it, or why sync refused, updated from the portal as the sync goes (traits only)."""

from __future__ import annotations

import html as escape
import logging
from typing import Any

from workloadlab.client import AsyncClient
from workloadlab.notebook.panel.ui import Widget, assign, hbox, html, widgets
from workloadlab.notebook.session import Session
from workloadlab.sync import LiveSync, SyncRefused, syncs_of
from workloadlab.sync.describe import checks, headline
from workloadlab.sync.live import TURNED_OFF

logger = logging.getLogger(__name__)


class SyncView:
    """The toggle and the status line of one workload's live sync."""

    def __init__(self, session: Session, workload_id: str) -> None:
        self.session = session
        self.workload_id = workload_id
        self.toggle: Widget = widgets.ToggleButton(
            value=False,
            description="Live sync",
            icon="refresh",
            tooltip="Restart the workload whenever its files change (local server only)",
            _dom_classes=("wl-sync-toggle",),
        )
        self.line: Widget = html("", "wl-sync-status")
        self.box: Widget = hbox([self.toggle, self.line])
        self._sync: LiveSync | None = None
        self._refused = ""
        self.toggle.observe(self._toggled, names="value")
        running = syncs_of(session).get(workload_id)
        if running is not None:
            self.attach(running)
        else:
            self.render()

    def attach(self, sync: LiveSync) -> None:
        """Follow ``sync`` (started here or by ``%workload sync``)."""
        if self._sync is not None and self._listen in self._sync.listeners:
            self._sync.listeners.remove(self._listen)
        self._sync = sync
        self._refused = ""
        sync.listeners.append(self._listen)
        self.render()

    def detach(self) -> None:
        """Stop following the sync (the panel closes; the sync goes on)."""
        if self._sync is not None and self._listen in self._sync.listeners:
            self._sync.listeners.remove(self._listen)

    def render(self) -> None:
        """Draw the toggle and the line from the sync's state."""
        sync = self._sync
        on = sync is not None and sync.running
        ended = sync is not None and sync.stopped_because not in ("", TURNED_OFF)
        mark, words = headline(sync if on or ended else None)
        if self._refused:
            mark, words = "✗", f"Live sync refused: {self._refused}"
        text = f"{mark} {words}".strip()
        after = "".join(f"<div>{escape.escape(c)}</div>" for c in checks(sync))
        assign(self.toggle, value=on)
        assign(self.line, value=f"<span>{escape.escape(text)}</span>{after}")

    def _listen(self, sync: LiveSync) -> None:
        self.render()

    def _toggled(self, change: dict[str, Any]) -> None:
        sync = self._sync
        if change["new"] and (sync is None or not sync.running):
            self._submit(self._begin(self.session.client))  # connects here, not on the portal
        elif not change["new"] and sync is not None and sync.running:
            self._submit(syncs_of(self.session).end(self.workload_id))

    def _submit(self, work: Any) -> None:
        future = self.session.portal.submit(work)
        future.add_done_callback(lambda _: self.render())

    async def _begin(self, client: AsyncClient) -> None:
        try:
            sync = await syncs_of(self.session).begin(client, self.workload_id)
        except SyncRefused as exc:
            self._refused = str(exc)
            return
        except Exception as exc:  # shown in the line; the toggle goes back off
            logger.debug("live sync failed to start", exc_info=True)
            self._refused = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return
        self.attach(sync)
