"""What the parts of a panel share: its state, lock, session, throttle and watcher, and the
few methods one part calls on another. :class:`~.widget.WorkloadPanel` is made of
:class:`~.news.PanelNews` (the watcher's news), :class:`~.flows.PanelFlows` (the actions on
the portal) and its own wiring of widgets; each part is written against this class."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact
from workloadlab.notebook.panel.form import FormReading, SpecForm
from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.throttle import Throttle
from workloadlab.notebook.panel.watcher import Watcher
from workloadlab.notebook.session import Session


class PanelCore:
    """The shared attributes (set by the panel's ``__init__``) and cross-part methods."""

    session: Session
    state: PanelState
    workload_id: str
    _lock: threading.RLock
    _closed: bool
    _throttle: Throttle
    _watcher: Watcher
    _tasks: set[asyncio.Task[Any]]
    form: SpecForm
    _reading: FormReading

    def _draw(self) -> None:
        """Redraw every widget from the state (hold the lock)."""
        raise NotImplementedError

    def _refresh_form(self) -> None:
        """Re-read the form: its messages, the changes, the YAML view (hold the lock)."""
        raise NotImplementedError

    def _submit(self, label: str, flow: Coroutine[Any, Any, None]) -> None:
        """Mark the panel busy, redraw, run ``flow`` on the portal (kernel thread)."""
        raise NotImplementedError

    def _take(self, artifact: Artifact, *, reload_form: bool, settle: bool = False) -> None:
        """Make ``artifact`` the form's base (and, with ``reload_form``, its content; with
        ``settle``, secret rows show the references they were saved as)."""
        raise NotImplementedError

    def _add_extras(self) -> None:
        """Show the parts made so far (conflict, deploy step, cards) under the form."""
        raise NotImplementedError

    def _set_flag(self, name: str, value: bool) -> None:
        """Set a flag of the state and redraw (kernel thread)."""
        raise NotImplementedError

    def _see_deployment(self, fresh: Deployment | None) -> None:
        """Take a read of the workload's deployment into the card (hold the lock)."""
        raise NotImplementedError

    def _read_versions_if_due(self) -> None:
        """Read the deployed artifact's versions when due (on the portal)."""
        raise NotImplementedError

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` on the portal's loop (call it there), keeping a reference."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
