"""The notebook as a front-end of the command layer (:mod:`workloadlab.commands`): the
:class:`~workloadlab.commands.Context` the magics give a subcommand (HTML tables, a live
progress line in the cell, open panels told of changes) and the subcommand only a notebook has
(``panel``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any

from IPython.display import display

from workloadlab.commands import Context, Subcommand, Table
from workloadlab.models import Deployment
from workloadlab.notebook.progress import LiveProgress
from workloadlab.notebook.session import Session


def show_table(html: str, text: str) -> None:
    """Display HTML with a plain-text fallback."""
    display({"text/html": html, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


def poke_panels(ctx: Context, workload_id: str, deployment: Deployment | None) -> None:
    """Tell an open panel of the workload that a magic just changed it, or made
    ``deployment`` of it (no-op without one; the panel package is not imported for this)."""
    watchers = sys.modules.get("workloadlab.notebook.panel.watcher")
    if watchers is not None:
        watchers.poke_watcher(ctx.session, workload_id, deployment)


def notebook_context(
    session: Session,
    namespace: Mapping[str, Any],
    timeout: float,
    confirm: Callable[[str], bool],
) -> Context:
    """The Context of a magic's subcommand."""
    return Context(
        session=session,
        namespace=namespace,
        timeout=timeout,
        confirm=confirm,
        show=show_table,
        progress=LiveProgress,
        changed=poke_panels,
    )


def panel(ctx: Context, args: argparse.Namespace) -> Any:
    """The live panel of the workload (status, spec form, Restart, Lock & Deploy)."""
    from workloadlab.notebook.panel import open_panel  # ipywidgets loads on first use

    workload_id = ctx.resolve(args.id)
    assert isinstance(ctx.session, Session)
    return open_panel(ctx.session, workload_id, sidebar=args.sidebar)


def sync_shown(ctx: Context, args: argparse.Namespace) -> Any:
    """``%workload sync``, and the panel's live-sync line under the cell, following it."""
    from workloadlab.commands.sync import sync

    started = sync(ctx, args)
    if started is not None:
        from workloadlab.notebook.panel.sync import SyncView  # ipywidgets loads on first use

        assert isinstance(ctx.session, Session)
        display(SyncView(ctx.session, started.workload_id).box)  # type: ignore[no-untyped-call]
    return started


def register(table: Table) -> None:
    """Add the notebook's own subcommands to ``table`` (and its view to ``sync``)."""
    p = table.add("panel", panel, "Show the live panel.", with_id=True)
    p.add_argument("--sidebar", action="store_true", help="in JupyterLab's right sidebar")
    table["sync"] = Subcommand(table["sync"].parser, sync_shown)
