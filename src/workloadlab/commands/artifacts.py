"""A workload's artifact: ``%workload spec`` and the edits of ``%%artifact``."""

from __future__ import annotations

import argparse

from workloadlab.commands import preflight, render
from workloadlab.commands.base import Context, Table, notify_panels
from workloadlab.commands.lifecycle import restart
from workloadlab.commands.specs import parse_text, to_input_artifact, to_yaml
from workloadlab.models import WorkloadStatus
from workloadlab.models.diff import diff_artifacts, needs_restart
from workloadlab.models.neutral import Artifact


def spec(ctx: Context, args: argparse.Namespace) -> Artifact:
    """The workload's artifact as YAML (paste it into ``%%artifact`` to edit it)."""
    artifact = ctx.artifact_of(ctx.workload(args.id))
    print(to_yaml(artifact), end="")
    return artifact


def edit_artifact(
    ctx: Context, ref: str | None, text: str, *, restart_after: bool, force: bool = False
) -> Artifact:
    """Apply the cell's artifact (or container spec) to the workload's artifact.

    PUT when the spec changes, PATCH when only the name or description do. Shows the changes
    field by field and whether a restart is needed; ``restart_after`` does it. Pre-flight
    errors refuse it unless ``force``.
    """
    workload = ctx.workload(ref)
    current = ctx.artifact_of(workload)
    data = parse_text(text)
    wanted = to_input_artifact(data, base=current)
    preflight.gate(ctx, data, force=force, refused="not saved")
    changes = diff_artifacts(current.to_input(), wanted)
    restart_needed = needs_restart(changes)
    if not changes:
        print("No changes.")
        updated = current
    elif restart_needed:
        updated = ctx.run(ctx.client.artifacts.replace(current.id, wanted))
    else:
        updated = ctx.run(
            ctx.client.artifacts.update(
                current.id, name=wanted.name, description=wanted.description
            )
        )
    if changes:
        notify_panels(ctx, workload.id)
        ctx.show(render.changes_html(changes), render.changes_text(changes))
    if restart_needed and workload.status is not WorkloadStatus.STOPPED:
        if restart_after:
            again = argparse.Namespace(id=workload.id, no_wait=False, timeout=None, force=False)
            restart(ctx, again)
        else:
            print(
                f"Saved. {workload.name} still runs the previous spec: "
                "run `%workload restart` to apply it (or use `%%artifact --restart`)."
            )
    elif changes:
        print("Saved." + (" No restart needed." if not restart_needed else ""))
    return updated


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    table.add("spec", spec, "Show a workload's artifact as YAML.", with_id=True)
