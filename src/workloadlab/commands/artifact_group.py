"""Artifacts by id, outside any workload: the shell's ``workloadlab artifact list|get|lock|
delete`` (DataRobot's CLI has the same verbs). Locking here is the bare API call, with a
confirmation; ``%workload lock`` / ``workloadlab workload lock ID`` lock a workload's artifact
behind the readiness checklist."""

from __future__ import annotations

import argparse

from workloadlab.commands import render
from workloadlab.commands.base import CommandError, Context, Table, add_yes
from workloadlab.commands.governance import LOCKED_WORD
from workloadlab.commands.refs import ID_PATTERN
from workloadlab.models.neutral import Artifact


def list_(ctx: Context, args: argparse.Namespace) -> list[Artifact]:
    """Every artifact (or those named like ``--search``, or drafts / locked ones)."""
    locked = LOCKED_WORD[ctx.generation()] if args.status == "locked" else args.status

    async def everything() -> list[Artifact]:
        return [a async for a in ctx.client.artifacts.list(search=args.search, status=locked)]

    items: list[Artifact] = ctx.run(everything())
    ctx.show(render.artifacts_html(items), render.artifacts_text(items))
    return items


def _artifact(ctx: Context, artifact_id: str) -> Artifact:
    if not ID_PATTERN.match(artifact_id):
        raise CommandError(f"not an artifact id: {artifact_id!r} (24 hex digits)")
    found: Artifact = ctx.run(ctx.client.artifacts.get(artifact_id))
    return found


def get(ctx: Context, args: argparse.Namespace) -> Artifact:
    """The artifact (its identity; the whole spec with ``--output json``)."""
    return _artifact(ctx, args.artifact)


def lock(ctx: Context, args: argparse.Namespace) -> Artifact:
    """Lock (register) a draft artifact: irreversible, its spec becomes immutable."""
    artifact = _artifact(ctx, args.artifact)
    word = LOCKED_WORD[ctx.generation()]
    if artifact.is_registered:
        raise CommandError(
            f"artifact {artifact.name!r} is already {word} (version {artifact.version})"
        )
    if not args.yes and not ctx.confirm(
        f"Lock artifact {artifact.name!r} ({artifact.id})? This is irreversible: its container"
        " spec becomes immutable."
    ):
        raise CommandError("not locked (answer y to confirm, or pass --yes)")
    locked: Artifact = ctx.run(ctx.client.artifacts.lock(artifact.id))
    print(f"Locked: artifact {locked.name!r} is {word} as version {locked.version}.")
    return locked


def delete(ctx: Context, args: argparse.Namespace) -> None:
    """Delete a draft artifact that no workload uses."""
    artifact = _artifact(ctx, args.artifact)
    if not args.yes and not ctx.confirm(f"Delete artifact {artifact.name!r} ({artifact.id})?"):
        raise CommandError("not deleted (answer y to confirm, or pass --yes)")
    ctx.run(ctx.client.artifacts.delete(artifact.id))
    print(f"Deleted artifact {artifact.name!r} ({artifact.id}).")


def build(prog: str = "workloadlab artifact") -> Table:
    """The artifact subcommands."""
    table = Table(prog, current=False)
    p = table.add("list", list_, "List artifacts.")
    p.add_argument("--search", help="only names containing this")
    p.add_argument("--status", choices=["draft", "locked"], help="only drafts, or locked ones")
    for name, run, text in (
        ("get", get, "Show an artifact."),
        ("lock", lock, "Lock (register) a draft artifact: irreversible."),
        ("delete", delete, "Delete a draft artifact no workload uses."),
    ):
        p = table.add(name, run, text)
        p.add_argument("artifact", metavar="ARTIFACT_ID", help="the artifact's id")
        if run is not get:
            add_yes(p)
    return table


__all__ = ["build"]
