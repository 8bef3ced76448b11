"""Deployments from the notebook: ``%workload deployments`` and ``%workload undeploy``."""

from __future__ import annotations

import argparse

from workloadlab.commands import render
from workloadlab.commands.base import CommandError, Context, Table, add_yes, notify_panels
from workloadlab.commands.current import refuse_on_current
from workloadlab.commands.refs import ID_PATTERN
from workloadlab.models import Deployment


def deployments(ctx: Context, args: argparse.Namespace) -> list[Deployment]:
    """Every deployment (or those of one workload), newest first (v2.41 only)."""
    refuse_on_current(ctx, "deployments")
    workload_id = ctx.resolve(args.workload) if args.workload else None

    async def everything() -> list[Deployment]:
        pager = ctx.client.deployments.list(search=args.search, workload_id=workload_id)
        return [d async for d in pager if workload_id is None or d.workload_id == workload_id]

    items: list[Deployment] = ctx.run(everything())
    ctx.show(render.deployments_html(items), render.deployments_text(items))
    return items


def find_deployment(ctx: Context, ref: str) -> Deployment:
    """The deployment with this id or name."""
    if ID_PATTERN.match(ref):
        found: Deployment = ctx.run(ctx.client.deployments.get(ref))
        return found

    async def by_name() -> list[Deployment]:
        return [d async for d in ctx.client.deployments.list(search=ref) if d.name == ref]

    named: list[Deployment] = ctx.run(by_name())
    if not named:
        raise CommandError(
            f"unknown deployment {ref!r} (no deployment has that id or name; see"
            " `%workload deployments`)"
        )
    if len(named) > 1:
        ids = ", ".join(d.id for d in named)
        raise CommandError(f"{len(named)} deployments are named {ref!r} ({ids}): use an id")
    return named[0]


def undeploy(ctx: Context, args: argparse.Namespace) -> None:
    """Delete a deployment; its workload keeps running (v2.41 only)."""
    refuse_on_current(ctx, "undeploy")
    deployment = find_deployment(ctx, args.deployment)
    if not args.yes and not ctx.confirm(
        f"Delete deployment {deployment.name!r} ({deployment.id})? Its endpoint stops"
        f" answering; workload {deployment.workload_id} keeps running."
    ):
        print("Not undeployed.")
        return
    ctx.run(ctx.client.deployments.delete(deployment.id))
    notify_panels(ctx, deployment.workload_id)
    print(f"Undeployed: deployment {deployment.name!r} ({deployment.id}) is deleted.")


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    p = table.add("deployments", deployments, "List deployments (name, status, version, ...).")
    p.add_argument("--search", help="only names containing this")
    p.add_argument("--workload", metavar="ID|NAME", help="only the deployment of this workload")

    p = table.add("undeploy", undeploy, "Delete a deployment (its workload stays).")
    p.add_argument("deployment", metavar="NAME|ID", help="the deployment's name or id")
    add_yes(p)
