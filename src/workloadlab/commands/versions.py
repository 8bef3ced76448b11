"""Registered versions of a workload's artifact: ``%workload versions``, ``%workload diff`` and
``%workload rollback`` (the local server's rolling change of a deployment to another version).

Versions are the registered artifacts of one collection (``client.artifacts.versions``);
a rollback moves the deployment the workload backs (``client.deployments.rollback``) and waits
for the change with a live line: ``completed`` is reported, ``abandoned`` is a one-line
refusal saying why and which version still serves.
"""

from __future__ import annotations

import argparse

from workloadlab.client import ArtifactVersion, Generation
from workloadlab.commands import render
from workloadlab.commands.base import CommandError, Context, Table, notify_panels
from workloadlab.commands.current import move_to, rollback_target
from workloadlab.commands.governance import LOCKED_WORD
from workloadlab.commands.lifecycle import deployments_of
from workloadlab.commands.progress import seconds
from workloadlab.models import Deployment, Rollout, RolloutStatus
from workloadlab.models.diff import FieldChange, diff_artifacts
from workloadlab.models.neutral import Workload


def registered_versions(ctx: Context, workload: Workload) -> list[ArtifactVersion]:
    """The registered versions of the workload's artifact collection, highest first."""
    assert workload.artifact_id is not None
    found: list[ArtifactVersion] = ctx.run(ctx.client.artifacts.versions(workload.artifact_id))
    return found


def versions(ctx: Context, args: argparse.Namespace) -> list[ArtifactVersion]:
    """The registered versions of the workload's artifact, each with the deployments that run
    it; the one the workload runs is marked."""
    workload = ctx.workload(args.id)
    found = registered_versions(ctx, workload)
    if not found:
        word = LOCKED_WORD[ctx.generation()]
        verb = "registers" if word == "registered" else "locks"
        print(
            f"No {word} versions: {workload.name}'s artifact is a draft"
            f" (`%workload lock` {verb} it as version 1)."
        )
        return found
    ctx.show(
        render.versions_html(found, workload.artifact_id),
        render.versions_text(found, workload.artifact_id),
    )
    return found


def diff(ctx: Context, args: argparse.Namespace) -> list[FieldChange]:
    """The changes from one registered version to another, field by field."""
    workload = ctx.workload(args.id)
    found = {v.version: v for v in registered_versions(ctx, workload)}
    for wanted in (args.old, args.new):
        if wanted not in found:
            known = ", ".join(str(v) for v in sorted(n for n in found if n is not None))
            has = f"it has {known}" if known else "none is registered"
            raise CommandError(f"{workload.name}'s artifact has no version {wanted} ({has})")
    old, new = found[args.old].artifact, found[args.new].artifact
    changes = diff_artifacts(old.to_input(), new.to_input())
    print(f"From version {args.old} to version {args.new} of {new.name!r}:")
    ctx.show(render.changes_html(changes), render.changes_text(changes))
    return changes


def rollback(ctx: Context, args: argparse.Namespace) -> Deployment | Workload:
    """Move the workload's deployment (v2.41) or the workload itself (current generation) to
    ``VERSION`` (default: the version it ran before) as a rolling change, and wait for the
    outcome."""
    workload = ctx.workload(args.id)
    if ctx.generation() is Generation.CURRENT:
        return _replace_with_version(ctx, workload, args.version)
    backing = deployments_of(ctx, workload)
    if not backing:
        raise CommandError(
            f"{workload.name} backs no deployment: nothing to roll back (`%workload deploy`)"
        )
    deployment = backing[0]
    try:
        started: Rollout = ctx.run(
            ctx.client.deployments.rollback(deployment.id, version=args.version, wait=False)
        )
    except ValueError as exc:
        raise CommandError(f"not rolled back: {exc}") from None
    timeout = args.timeout if args.timeout is not None else ctx.timeout
    target = f"version {started.to_version}"
    progress = ctx.progress(f"moving {deployment.name} to {target}")

    async def outcome() -> Rollout:
        return await ctx.client.deployments.wait_for_rollout(
            deployment.id,
            timeout=timeout,
            on_change=lambda rollout: progress.report(rollout.status.value),
        )

    try:
        done: Rollout = ctx.run(outcome(), progress)
    except KeyboardInterrupt:
        progress.fail(
            f"⏹ stopped waiting after {seconds(progress.elapsed)} (the change carries on;"
            " see `%workload deployments`)"
        )
        raise
    notify_panels(ctx, workload.id)
    if done.status is not RolloutStatus.COMPLETED:
        progress.fail(f"✗ {deployment.name}: abandoned after {seconds(progress.elapsed)}")
        raise CommandError(
            f"not rolled back: the change to {target} was abandoned ({done.message or 'no reason'})"
            f" — {deployment.name} still runs version {done.from_version}"
        )
    progress.finish(
        f"✓ {deployment.name} runs {target} (was version {done.from_version}) after"
        f" {seconds(progress.elapsed)}"
    )
    moved: Deployment = ctx.run(ctx.client.deployments.get(deployment.id))
    return moved


def _replace_with_version(ctx: Context, workload: Workload, version: int | None) -> Workload:
    """The current generation's rollback: a rolling replacement of the workload onto another
    locked version of its artifact's repository."""
    running = ctx.artifact_of(workload)
    found = {v.version: v.id for v in registered_versions(ctx, workload) if v.version is not None}
    target_id = rollback_target(found, running.version if running.is_registered else None, version)
    target = next(number for number, id in found.items() if id == target_id)
    moved = move_to(ctx, workload, target_id, f"version {target}")
    print(f"{workload.name} runs version {target} (was version {running.version}).")
    return moved


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    table.add(
        "versions",
        versions,
        "List the registered versions of a workload's artifact (and what runs them).",
        with_id=True,
    )

    p = table.add("diff", diff, "Show what changed between two registered versions.", shown=True)
    p.add_argument("old", type=int, metavar="V1", help="a version number, e.g. 1")
    p.add_argument("new", type=int, metavar="V2", help="another version number, e.g. 2")
    table.add_id_option(p)

    p = table.add(
        "rollback",
        rollback,
        "Move the workload's deployment to another version (a rolling change).",
    )
    p.add_argument(
        "version",
        nargs="?",
        type=int,
        metavar="VERSION",
        help="default: the version the deployment ran before",
    )
    table.add_id_option(p)
    p.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S seconds")
