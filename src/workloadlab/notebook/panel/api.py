"""Opening panels: one live panel per workload per kernel, built from the server's state.

``%workload panel`` and :func:`panel` return the workload's panel, building it on first use
(GET the workload, its artifact and newest deployment, then the widgets). Asking again returns
the same panel, so a re-run cell or the sidebar shows another view of it rather than a second
watcher. A closed panel is forgotten; the next request builds a fresh one from the server (as
after a kernel restart).
"""

from __future__ import annotations

import asyncio
import threading

from workloadlab.client import AsyncClient
from workloadlab.commands.refs import resolve_workload
from workloadlab.models import Deployment
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel.actions import latest_deployment
from workloadlab.notebook.panel.widget import WorkloadPanel
from workloadlab.notebook.session import Session, get_session

_panels: dict[tuple[Session, str], WorkloadPanel] = {}
_lock = threading.Lock()


async def load(
    client: AsyncClient, workload_id: str
) -> tuple[Workload, Artifact, Deployment | None]:
    """The workload, its artifact and its newest deployment."""
    workload = await client.workloads.get(workload_id)
    if workload.artifact_id is None:
        raise ValueError(f"workload {workload.name!r} has no artifact")
    artifact, deployment = await asyncio.gather(
        client.artifacts.get(workload.artifact_id), latest_deployment(client, workload_id)
    )
    return workload, artifact, deployment


def open_panel(session: Session, workload_id: str, *, sidebar: bool = False) -> WorkloadPanel:
    """The workload's panel (built on first use); with ``sidebar``, also shown in JupyterLab's
    right sidebar."""
    with _lock:
        panel = _panels.get((session, workload_id))
    if panel is not None and panel.state.gone:
        panel.close()  # its workload was deleted: look again (NotFoundError if still gone)
    if panel is None or panel.closed:
        workload, artifact, deployment = session.run(load(session.client, workload_id))
        panel = WorkloadPanel(session, workload, artifact, deployment, on_close=_forget)
        panel.state.generation = session.run(session.client.generation())  # known: no request
        with _lock:
            _panels[(session, workload_id)] = panel
    if sidebar:
        panel.show_in_sidebar()
    return panel


def panel(workload_id: str | None = None, *, sidebar: bool = False) -> WorkloadPanel:
    """The live panel of a workload (by id or name; default: the current one).

    Status, logs and timeline update by themselves; the form edits the artifact's spec; Save,
    Restart, Save & Restart and Lock & Deploy act on the server. ``sidebar=True`` shows it in
    JupyterLab's right sidebar.
    """
    session = get_session()
    resolved = resolve_workload(session, workload_id)  # a WorkloadRefError is a ValueError
    return open_panel(session, resolved, sidebar=sidebar)


def open_panels() -> list[WorkloadPanel]:
    """Every panel of this kernel that is not closed."""
    with _lock:
        return [p for p in _panels.values() if not p.closed]


def _forget(closed: WorkloadPanel) -> None:
    with _lock:
        for key, known in list(_panels.items()):
            if known is closed:
                del _panels[key]
