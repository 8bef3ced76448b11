"""``%workload sync [PATH] [--off]``: restart the workload whenever its files change.

The sync itself is :mod:`workloadlab.sync` (a watcher thread, restarts on the session's loop);
this command starts or stops it and says so in a line. The notebook's front-end shows the
panel's live-sync line under the cell too, which follows the sync from then on (the last sync,
its duration, a syntax error, the checks after it).
"""

from __future__ import annotations

import argparse

from workloadlab.commands.base import CommandError, Context, Table
from workloadlab.sync import LiveSync, SyncRefused, roots_text, syncs_of


def sync(ctx: Context, args: argparse.Namespace) -> LiveSync | None:
    """Start (or, with ``--off``, stop) the live sync of the workload; the sync started."""
    workload_id = ctx.resolve(args.id)
    syncs = syncs_of(ctx.session)
    if args.off:
        if args.path is not None:
            raise CommandError("%workload sync --off takes no PATH")
        stopped = ctx.run(syncs.end(workload_id))
        print(f"⏹ live sync of {stopped.name} stopped" if stopped else "no live sync runs")
        return None
    try:
        started: LiveSync = ctx.run(syncs.begin(ctx.client, workload_id, args.path))
    except SyncRefused as exc:
        raise CommandError(f"%workload sync: {exc}") from None
    print(
        f"⟳ live sync of {started.name}: watching {roots_text(started.roots)}"
        " (each save restarts it; `%workload sync --off` stops)"
    )
    return started


def register(table: Table) -> None:
    """Add ``sync`` to ``table``."""
    p = table.add(
        "sync", sync, "Restart the workload whenever its files change (local server only)."
    )
    p.add_argument(
        "path",
        nargs="?",
        metavar="PATH",
        help="the app's directory (default: the entrypoint script's, or the localMounts)",
    )
    p.add_argument("--off", action="store_true", help="stop the live sync")
    p.add_argument("--id", metavar="ID|NAME", help="default: the current workload")
