"""Connecting, and a workload's life: create, use, restart, stop, start, delete, panel."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from workloadlab.models import Workload, WorkloadStatus
from workloadlab.notebook.commands.base import (
    CommandError,
    Context,
    Table,
    add_yes,
    notify_panels,
)
from workloadlab.notebook.progress import Progress
from workloadlab.notebook.specs import load_source, to_input_artifact


def connect(ctx: Context, args: argparse.Namespace) -> None:
    """Connect to the local server or to an endpoint (the token is never an argument)."""
    if args.local and args.endpoint:
        raise CommandError("give either --local or --endpoint, not both")
    token = None
    if args.endpoint:
        token = _token_for(args.endpoint)
    client = ctx.session.connect(args.endpoint, token, local=args.local, data_dir=args.data_dir)
    print(f"Connected to {client.endpoint} ({client.config_source}).")


def _token_for(endpoint: str) -> str | None:
    import getpass
    import os

    from workloadlab.client.config import resolve_config
    from workloadlab.errors import ConfigError

    if os.environ.get("DATAROBOT_API_TOKEN"):
        return None
    try:
        resolve_config(endpoint, None)
        return None
    except ConfigError:
        pass
    token = getpass.getpass(f"API token for {endpoint}: ").strip()
    if not token:
        raise CommandError("no token given")
    return token


def create(ctx: Context, args: argparse.Namespace) -> Workload:
    """Create a workload from a spec file or variable, make it current, wait for running."""
    data, default_name = load_source(args.spec, ctx.namespace)
    workload_name = args.name or _name_in(data) or default_name or "workload"
    artifact = to_input_artifact(data, name=default_name or workload_name)
    workload: Workload = ctx.run(ctx.client.workloads.create(name=workload_name, artifact=artifact))
    ctx.session.current_workload_id = workload.id
    if args.no_wait:
        return workload
    return ctx.wait_for(workload, WorkloadStatus.RUNNING, "starting")


def _name_in(data: Any) -> str | None:
    if isinstance(data, Mapping) and "artifact" in data and isinstance(data.get("name"), str):
        return str(data["name"])
    return None


def use(ctx: Context, args: argparse.Namespace) -> Workload:
    """Make a workload current."""
    workload = ctx.workload(args.id)
    ctx.session.current_workload_id = workload.id
    return workload


def restart(ctx: Context, args: argparse.Namespace) -> Workload:
    """Stop, wait for stopped, start, wait for running: the artifact's current spec goes live."""
    workload = ctx.workload(args.id)
    return restart_now(ctx, workload, wait=not args.no_wait, timeout=args.timeout)


def restart_now(ctx: Context, workload: Workload, *, wait: bool, timeout: float | None) -> Workload:
    """Restart with a live progress line (no checks)."""
    limit = timeout if timeout is not None else ctx.timeout

    async def flow(progress: Progress) -> Workload:
        return await ctx.client.workloads.restart(
            workload.id,
            wait=wait,
            timeout=limit,
            on_change=lambda w: progress.report(w.status.value),
        )

    return ctx.watched(workload, "restarting", flow)


def stop(ctx: Context, args: argparse.Namespace) -> Workload:
    """Stop the workload and wait until it is stopped."""
    workload = ctx.workload(args.id)
    started = ctx.client.workloads.stop(workload.id)
    if args.no_wait:
        ctx.run(started)
        return workload
    return ctx.wait_for(workload, WorkloadStatus.STOPPED, "stopping", started)


def start(ctx: Context, args: argparse.Namespace) -> Workload:
    """Start the workload (with its artifact's current spec) and wait until it is running."""
    workload = ctx.workload(args.id)
    started = ctx.client.workloads.start(workload.id)
    if args.no_wait:
        ctx.run(started)
        return workload
    return ctx.wait_for(workload, WorkloadStatus.RUNNING, "starting", started)


def delete(ctx: Context, args: argparse.Namespace) -> None:
    """Delete the workload (it is stopped first; its artifact is kept)."""
    workload = ctx.workload(args.id)
    if not args.yes and not ctx.confirm(
        f"Delete workload {workload.name!r} ({workload.id})? It is stopped first; "
        "its artifact is kept."
    ):
        print("Not deleted.")
        return
    ctx.run(ctx.client.workloads.delete(workload.id))
    notify_panels(ctx, workload.id)
    if ctx.session.current_workload_id == workload.id:
        ctx.session.current_workload_id = None
    print(f"Deleted workload {workload.name!r}.")


def panel(ctx: Context, args: argparse.Namespace) -> Any:
    """The live panel of the workload (status, spec form, Restart, Lock & Deploy)."""
    from workloadlab.notebook.panel import open_panel  # ipywidgets loads on first use

    workload_id = ctx.resolve(args.id)
    return open_panel(ctx.session, workload_id, sidebar=args.sidebar)


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    p = table.add("connect", connect, "Connect to the local server or DataRobot.")
    p.add_argument("--local", action="store_true", help="the local server (started if needed)")
    p.add_argument("--endpoint", metavar="URL", help="e.g. https://app.datarobot.com/api/v2")
    p.add_argument("--data-dir", help="the local server's data dir")

    p = table.add("create", create, "Create a workload from a spec and start it.")
    p.add_argument("spec", metavar="SPEC", help="a YAML/JSON file, or $variable (dict or model)")
    p.add_argument("--name", help="the workload's name")
    p.add_argument("--no-wait", action="store_true", help="do not wait for running")

    table.add("use", use, "Make a workload current.").add_argument("id", metavar="ID|NAME")

    p = table.add("restart", restart, "Stop, then start (applies edits).", with_id=True)
    p.add_argument("--no-wait", action="store_true", help="return once it is starting")
    p.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")
    for name, run, text in (
        ("stop", stop, "Stop a workload and wait until stopped."),
        ("start", start, "Start a workload and wait until running."),
    ):
        p = table.add(name, run, text, with_id=True)
        p.add_argument("--no-wait", action="store_true", help="do not wait")

    p = table.add("delete", delete, "Delete a workload.", with_id=True)
    add_yes(p)

    p = table.add("panel", panel, "Show the live panel.", with_id=True)
    p.add_argument("--sidebar", action="store_true", help="in JupyterLab's right sidebar")
