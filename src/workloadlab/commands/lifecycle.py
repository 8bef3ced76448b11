"""Connecting, and a workload's life: create, use, restart, stop, start, delete.

Stop, restart, start and delete of a workload that backs a deployment take the deployment
down (the local server refuses them with ``409`` unless forced): they are refused here first,
in one line naming the deployment and ``--force``, which passes ``force=true`` on.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from workloadlab.client import Generation
from workloadlab.commands import preflight, smoke
from workloadlab.commands.base import (
    CommandError,
    Context,
    Table,
    UsageMistake,
    add_yes,
    notify_panels,
)
from workloadlab.commands.progress import Progress
from workloadlab.commands.restarting import RestartWay, restart_way
from workloadlab.commands.specs import load_source, to_input_artifact
from workloadlab.models import Deployment, Operation, WorkloadStatus
from workloadlab.models.neutral import Workload

ACTIVE = (WorkloadStatus.SUBMITTED, WorkloadStatus.INITIALIZING, WorkloadStatus.RUNNING)


def connect(ctx: Context, args: argparse.Namespace) -> None:
    """Connect to the local server or to an endpoint (the token is never an argument)."""
    if args.local and args.endpoint:
        raise CommandError("give either --local or --endpoint, not both")
    token = None
    if args.endpoint:
        token = _token_for(args.endpoint)
    client = ctx.session.connect(args.endpoint, token, local=args.local, data_dir=args.data_dir)
    generation = ctx.generation()
    print(
        f"Connected to {client.endpoint} ({client.config_source}): it speaks the {generation}"
        " generation of the Workload API."
    )


def _token_for(endpoint: str) -> str | None:
    """``None`` when a configured source has a token for ``endpoint`` (never another
    endpoint's token), else the token typed at a prompt."""
    import getpass

    from workloadlab.client.config import resolve_config
    from workloadlab.errors import ConfigError

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
    if (args.spec is None) == (args.spec_file is None):
        raise UsageMistake(
            f"{'give' if args.spec is None else 'give only one of'} SPEC or --spec-file FILE"
        )
    data, default_name = load_source(args.spec or args.spec_file, ctx.namespace)
    workload_name = args.name or _name_in(data) or default_name or "workload"
    artifact = to_input_artifact(data, name=default_name or workload_name)
    preflight.gate(ctx, data, force=args.force, refused="not created")
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


def deployments_of(ctx: Context, workload: Workload) -> list[Deployment]:
    """The deployments the workload backs (none on the current generation, which has none)."""
    if ctx.generation() is not Generation.V2_41:
        return []

    async def backing() -> list[Deployment]:
        pager = ctx.client.deployments.list(workload_id=workload.id)
        return [d async for d in pager if d.workload_id == workload.id]

    found: list[Deployment] = ctx.run(backing())
    return found


def named(deployments: list[Deployment]) -> str:
    """Deployments in words: ``hello-prod (ID)``."""
    return ", ".join(f"{d.name} ({d.id})" for d in deployments)


def protect(ctx: Context, workload: Workload, *, force: bool, refused: str, remedy: str) -> None:
    """Refuse (``refused``: "not stopped") to act on a workload that backs a deployment,
    unless ``force``; ``remedy`` says what ``--force`` does."""
    if force:
        return
    backing = deployments_of(ctx, workload)
    if backing:
        raise CommandError(
            f"{refused}: {workload.name} backs deployment {named(backing)} — {remedy}"
        )


def restart(ctx: Context, args: argparse.Namespace) -> Workload:
    """Apply the artifact's saved spec: stop, wait for stopped, start, wait for running; on the
    current generation a running workload is rolled instead (``PATCH …/settings``)."""
    workload = ctx.workload(args.id)
    protect(
        ctx,
        workload,
        force=args.force,
        refused="not restarted",
        remedy="pass --force to restart it anyway (the deployment does not answer meanwhile)",
    )
    restarted = restart_now(
        ctx, workload, wait=not args.no_wait, timeout=args.timeout, force=args.force
    )
    if not args.no_wait:
        smoke.after_restart(ctx, restarted)
    return restarted


def restart_now(
    ctx: Context, workload: Workload, *, wait: bool, timeout: float | None, force: bool
) -> Workload:
    """Restart with a live progress line (no checks): rolling on the current generation when
    the workload runs (the old instance serves until the new one is ready)."""
    from workloadlab.commands import current

    way = restart_way(ctx.generation(), workload.status)
    if way is RestartWay.ROLLING:
        if not wait:
            ctx.run(ctx.client.workloads.update_settings(workload.id, wait=False))
            return ctx.workload(workload.id)
        return current.rolling_restart(ctx, workload, timeout)
    limit = timeout if timeout is not None else ctx.timeout

    async def flow(progress: Progress) -> Workload:
        return await ctx.client.workloads.restart(
            workload.id,
            wait=wait,
            timeout=limit,
            on_change=lambda w: progress.report(w.status.value),
            force=force,
        )

    return ctx.watched(workload, "restarting", flow)


@dataclass(frozen=True)
class Switch:
    """Stop or start: what it waits for, and how a refusal to do it reads."""

    wanted: WorkloadStatus
    waiting: str
    refused: str
    remedy: str
    no_op: tuple[WorkloadStatus, ...]
    """The statuses in which it changes nothing (and so needs no ``--force``)."""


STOP = Switch(
    WorkloadStatus.STOPPED,
    "stopping",
    "not stopped",
    "pass --force to stop it anyway (the deployment stops answering)",
    (WorkloadStatus.STOPPED,),
)
START = Switch(
    WorkloadStatus.RUNNING, "starting", "not started", "pass --force to start it anyway", ACTIVE
)


def stop(ctx: Context, args: argparse.Namespace) -> Workload:
    """Stop the workload and wait until it is stopped."""
    return _switch(ctx, args, STOP, ctx.client.workloads.stop)


def start(ctx: Context, args: argparse.Namespace) -> Workload:
    """Start the workload (with its artifact's current spec) and wait until it is running."""
    return _switch(ctx, args, START, ctx.client.workloads.start)


def _switch(
    ctx: Context,
    args: argparse.Namespace,
    switch: Switch,
    request: Callable[..., Coroutine[Any, Any, Operation]],
) -> Workload:
    workload = ctx.workload(args.id)
    if workload.status not in switch.no_op:
        protect(ctx, workload, force=args.force, refused=switch.refused, remedy=switch.remedy)
    started = request(workload.id, force=args.force)
    if args.no_wait:
        ctx.run(started)
        return workload
    done = ctx.wait_for(workload, switch.wanted, switch.waiting, started)
    if switch is START:
        smoke.after_restart(ctx, done)
    return done


def delete(ctx: Context, args: argparse.Namespace) -> None:
    """Delete the workload (it is stopped first; its artifact is kept)."""
    workload = ctx.workload(args.id)
    backing = deployments_of(ctx, workload)
    if backing and not args.force:
        raise CommandError(
            f"not deleted: {workload.name} backs deployment {named(backing)} — pass --force"
            " to delete it together with its deployment"
        )
    question = (
        f"Delete workload {workload.name!r} ({workload.id})? It is stopped first; "
        "its artifact is kept."
    )
    if backing:
        question += f" Its deployment {named(backing)} is deleted too."
    if not args.yes and not ctx.confirm(question):
        print("Not deleted.")
        return
    ctx.run(ctx.client.workloads.delete(workload.id, force=args.force))
    notify_panels(ctx, workload.id)
    if ctx.session.current_workload_id == workload.id:
        ctx.session.current_workload_id = None
    print(f"Deleted workload {workload.name!r} ({workload.id}).")


def _add_force(parser: Any, what: str) -> None:
    parser.add_argument(
        "--force", action="store_true", help=f"{what} even if it backs a deployment"
    )


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    p = table.add("connect", connect, "Connect to the local server or DataRobot.")
    p.add_argument("--local", action="store_true", help="the local server (started if needed)")
    p.add_argument("--endpoint", metavar="URL", help="e.g. https://app.datarobot.com/api/v2")
    p.add_argument("--data-dir", help="the local server's data dir")

    p = table.add("create", create, "Create a workload from a spec and start it.")
    p.add_argument(
        "spec",
        nargs="?",
        metavar="SPEC",
        help="a YAML/JSON file, or $variable (dict or model)"
        if table.current
        else "a YAML/JSON file",
    )
    p.add_argument("--spec-file", metavar="FILE", help="a YAML/JSON file (instead of SPEC)")
    p.add_argument("--name", help="the workload's name")
    p.add_argument("--no-wait", action="store_true", help="do not wait for running")
    preflight.add_force(p)

    table.add("use", use, "Make a workload current.").add_argument("id", metavar="ID|NAME")

    p = table.add("restart", restart, "Stop, then start (applies edits).", with_id=True)
    p.add_argument("--no-wait", action="store_true", help="return once it is starting")
    p.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")
    _add_force(p, "restart it")
    for name, run, text in (
        ("stop", stop, "Stop a workload and wait until stopped."),
        ("start", start, "Start a workload and wait until running."),
    ):
        p = table.add(name, run, text, with_id=True)
        p.add_argument("--no-wait", action="store_true", help="do not wait")
        _add_force(p, f"{name} it")

    p = table.add("delete", delete, "Delete a workload.", with_id=True)
    add_yes(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="even if it backs a deployment (which is deleted too)",
    )
