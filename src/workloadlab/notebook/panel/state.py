"""What a panel knows, as plain data: the server's view of the workload and its artifact, what the
watcher saw, and what the panel is doing. No widgets here, so the rules (the timeline's runs in
:mod:`workloadlab.commands.timeline`; the buttons in :mod:`.decisions`, the Lock & Deploy
checklist in :mod:`.checklist`) are tested without a frontend.

The panel's lock guards a state: the watcher writes it on the portal's thread, the user's
clicks read it on the kernel's.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from workloadlab.client import ArtifactVersion
from workloadlab.commands.timeline import Change, Run, runs_of
from workloadlab.models import Deployment, Event, LogRecord, WorkloadStatus
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel.watcher import LOG_LINES

if TYPE_CHECKING:
    from workloadlab.notebook.panel.merging import Merging
    from workloadlab.notebook.panel.smoke import SmokeRun

TIMELINE_ENTRIES = 40
"""How many status changes a panel keeps (besides the trail's)."""
BADGE_BACKLOG = 8
"""How many statuses the badge may still have to show (a crash loop must not make it lag)."""

Level = Literal["info", "success", "warning", "error"]


@dataclass(frozen=True)
class Transition:
    """A status change the watcher saw (at the kernel's clock)."""

    at: dt.datetime
    old: WorkloadStatus
    new: WorkloadStatus


@dataclass(frozen=True)
class Message:
    """What the message area says."""

    level: Level
    text: str


def utcnow() -> dt.datetime:
    """Now, timezone-aware."""
    return dt.datetime.now(dt.UTC)


@dataclass
class PanelState:
    """The panel's data; guarded by the panel's lock."""

    workload: Workload
    artifact: Artifact
    """The artifact as the server has it (what the form's changes are measured against)."""
    deployment: Deployment | None = None
    """The deployment the workload backs (the newest), as last seen."""
    deployment_deleted: bool = False
    """Whether :attr:`deployment` was deleted since (its card says so)."""
    generation: str = "v2.41"
    """The Workload API generation the server speaks (``v2.41`` or ``current``)."""
    serving_since: dt.datetime | None = None
    """When the serving instance became ready, where the workload does not say it (the
    current generation: read from its active proton when Lock & Deploy opens or a restart
    ends); what the checklist's ``runs the saved spec`` judges by there."""
    production: Workload | None = None
    """The production workload Lock & Deploy made on the current generation (this workload
    promoted, or a new one of the locked artifact), which has no deployments."""
    logs: deque[LogRecord] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    events: list[Event] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    badge_backlog: deque[WorkloadStatus] = field(
        default_factory=lambda: deque(maxlen=BADGE_BACKLOG)
    )
    """Statuses seen but not shown yet: the badge shows each for one redraw at least, so a
    ``stopping`` that lasted 10 ms between two redraws (100 ms apart) is still seen."""
    busy: str | None = None
    """The action under way (``"Saving"``...), which disables the buttons."""
    busy_since: float = 0.0
    progress: str | None = None
    """The status the action's own polling saw last."""
    message: Message | None = None
    conflict: Artifact | None = None
    """The server's newer artifact, when Save found one (or the watcher did, with edits)."""
    gone: bool = False
    connection_problem: str | None = None
    deploy_open: bool = False
    """Whether the Lock & Deploy confirmation is shown."""
    confirm_delete: bool = False
    """Whether the deployment card asks to confirm its Delete."""
    versions: list[ArtifactVersion] | None = None
    """The registered versions of the deployed artifact's collection, highest first (``None``:
    not read yet)."""
    versions_for: str | None = None
    """The artifact (the deployment's, then) whose collection :attr:`versions` lists."""
    versions_read_at: float = 0.0
    """When :attr:`versions` were read (``time.monotonic``)."""
    versions_problem: str | None = None
    """Why the last reading of the versions failed."""
    move_target: str | None = None
    """The artifact (a version) chosen in the card's version chooser."""
    confirm_move: bool = False
    """Whether the deployment card asks to confirm its move to :attr:`move_target`."""
    merge: Merging | None = None
    """A Compare under way (its conflicts wait for choices), until the form is saved or
    reloaded."""
    smoke: SmokeRun | None = None
    """The workload's smoke checks as last run (``None``: it has none, or none ran yet)."""

    # -- updates ----------------------------------------------------------------------------

    def observe(self, workload: Workload, now: dt.datetime | None = None) -> bool:
        """Take the workload's new state; record a status change. Returns whether it changed."""
        old = self.workload.status
        self.workload = workload
        if workload.status is old:
            return False
        self.transitions.append(Transition(now or utcnow(), old, workload.status))
        del self.transitions[:-TIMELINE_ENTRIES]
        self.badge_backlog.append(workload.status)
        return True

    def next_badge(self) -> WorkloadStatus:
        """The status the badge shows at this redraw: the oldest not shown yet, else the
        workload's (see :attr:`badge_behind`)."""
        if self.badge_backlog:
            return self.badge_backlog.popleft()
        return self.workload.status

    @property
    def badge_behind(self) -> bool:
        """Whether the badge has statuses left to show (the panel redraws again for them)."""
        return bool(self.badge_backlog)

    def add_logs(self, records: Iterable[LogRecord]) -> None:
        """Append log lines (oldest first); the oldest fall off."""
        self.logs.extend(records)

    # -- derived ----------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        """Whether the artifact is registered (its spec is immutable)."""
        return self.artifact.is_registered

    @property
    def in_transition(self) -> bool:
        """Whether the workload is on its way to another status."""
        return self.workload.status.is_transition

    def runs(self) -> list[Run]:
        """The timeline: one run per restart, from the trail and the changes seen (those the
        trail does not have yet included), each with its log lines."""
        seen = [Change(t.at, t.old.value, t.new.value) for t in self.transitions]
        return runs_of(self.events, list(self.logs), seen, status=self.workload.status.value)
