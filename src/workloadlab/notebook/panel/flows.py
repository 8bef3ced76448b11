"""The panel's actions as they run on the portal: Save (and Save & Restart), Restart, Lock &
Deploy, and the clock that redraws relative times. A restart ends with the smoke checks, and
Lock & Deploy starts with them and ends with draft vs deployed (:mod:`.smoke`).

Each flow calls :mod:`.actions` (the network) and then, holding the panel's lock, writes the
outcome into the state with the words :mod:`.decisions` chooses; it never touches a widget but
through :meth:`~.core.PanelCore._take` (the form) and the throttle's redraw.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence

from workloadlab.commands.describe import one_line
from workloadlab.commands.progress import seconds
from workloadlab.models import Importance
from workloadlab.models.neutral import Artifact, InputArtifact, Workload
from workloadlab.notebook.panel import actions
from workloadlab.notebook.panel.decisions import (
    SAVE_CONFLICT,
    deploy_failed_message,
    deployed_message,
    production_message,
    restarted_message,
    saved_message,
    secrets_stored_message,
)
from workloadlab.notebook.panel.env import PendingSecret
from workloadlab.notebook.panel.smoke import PanelSmoke
from workloadlab.notebook.panel.state import Message, utcnow

CLOCK_SLOW = 15.0
"""Seconds between redraws of the relative times (running since, draft TTL) when idle."""
CLOCK_FAST = 1.0
"""... while an action runs or the draft TTL is less than :data:`SOON` away."""
SOON = dt.timedelta(minutes=2)


class PanelFlows(PanelSmoke):
    """The coroutines a panel's buttons submit to the portal."""

    _timer: asyncio.TimerHandle | None

    async def _save_flow(
        self,
        base: Artifact,
        wanted: InputArtifact,
        secrets: Sequence[tuple[int, PendingSecret]],
        *,
        restart: bool,
    ) -> None:
        client = self.session.client
        try:
            saved = await actions.save(
                client, base, wanted, secrets=secrets, owner=self.state.workload.name
            )
        except actions.SpecConflict as exc:
            with self._lock:
                self.state.conflict = exc.current
                self.state.message = SAVE_CONFLICT
            return
        with self._lock:
            self.state.merge = None
            self._take(saved.artifact, reload_form=False, settle=bool(saved.credentials))
            message = saved_message(
                method=saved.method,
                count=len(saved.changes),
                needs_restart=saved.needs_restart,
                workload=self.state.workload,
                restart=restart,
            )
            stored = secrets_stored_message([c.name for c in saved.credentials])
            self.state.message = Message(message.level, message.text + stored)
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
            self.state.message = restarted_message(workload, elapsed, prefix)
        await self._read_serving_since()
        await self._run_smoke()

    async def _read_serving_since(self) -> None:
        """Where the workload does not say when its instance became ready (the current
        generation), read it from its active proton for the checklist, and redraw."""
        if self.state.workload.running_since is not None:
            return
        served = await self.session.client.workloads.with_running_since(self.state.workload)
        with self._lock:
            self.state.serving_since = served.running_since
        self._throttle.request()

    async def _deploy_flow(
        self,
        workload: Workload,
        artifact: Artifact,
        name: str,
        importance: Importance,
        way: actions.ProductionWay = actions.ProductionWay.PROMOTE,
    ) -> None:
        client = self.session.client
        if not await self._smoke_gate():
            return
        try:
            done = await actions.lock_and_deploy(
                client, workload, artifact, name=name, importance=importance, way=way
            )
        except actions.DeployFailed as exc:
            with self._lock:
                self._take(exc.artifact, reload_form=True)
                self.state.message = deploy_failed_message(exc.artifact, one_line(exc.cause))
            return
        with self._lock:
            self._take(done.artifact, reload_form=True)
            self.state.deploy_open = False
            if done.deployment is None:  # the current generation: a production workload
                assert done.production is not None
                self.state.production = done.production
                self.state.message = production_message(
                    done.artifact,
                    done.production,
                    promoted=workload if done.production.id == workload.id else None,
                    locked_now=done.registered_now,
                )
            else:
                self.state.deployment = done.deployment
                self.state.deployment_deleted = False
                self.state.message = deployed_message(
                    done.artifact, done.deployment, registered_now=done.registered_now
                )
        await self._compare_after_deploy(workload, done.deployment or done.production)

    def _tick(self) -> None:
        """Redraw the relative times now and then, and read the deployed artifact's versions
        when due (on the portal)."""
        if self._closed:
            return
        self._throttle.request()
        self._read_versions_if_due()
        state = self.state
        expires = state.workload.expires_at
        soon = expires is not None and expires - utcnow() < SOON
        delay = CLOCK_FAST if state.busy is not None or soon else CLOCK_SLOW
        self._timer = asyncio.get_running_loop().call_later(delay, self._tick)
