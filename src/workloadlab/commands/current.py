"""The magics on DataRobot's current Workload API generation (``workload-api-current.md``).

The workflow is the same; the ways differ (contract §8, §9):

- lock: ``POST …/promote`` of the workload that runs the draft (§5.5: the draft is locked in
  place, gets its version, keeps the workload's endpoint, no restart). The checklist only passes
  for a workload that runs its saved draft, which is exactly what promote locks; ``PATCH
  {"status": "locked"}`` (§5.3) would lock the artifact under a running workload without telling
  it, so the magics never use it;
- production: the promoted workload itself (``%workload deploy``, the default), or a new workload
  of the locked artifact (``%workload deploy --new NAME``) with this one's runtime;
- restart: ``PATCH …/settings`` with the present runtime (rolling: the old instance serves until
  the new one is ready) when the workload runs, stop + start otherwise;
- deployments do not exist: ``deployments``/``undeploy`` refuse in one line naming the way;
  ``rollback`` is a rolling replacement of the workload onto another locked version.

What to do is decided by the pure functions at the top; the flows below them only call.
"""

from __future__ import annotations

from workloadlab.client import Generation
from workloadlab.commands.base import CommandError, Context, notify_panels
from workloadlab.commands.progress import seconds
from workloadlab.models import WorkloadStatus
from workloadlab.models.neutral import Artifact, Replacement, Workload

NOT_ON_CURRENT = {
    "deployments": "the current generation of the Workload API has no deployments: production"
    " is a promoted workload (`%workload deploy`) or a workload of a locked artifact"
    " (`%workload deploy --new NAME`); see `%workload list`",
    "undeploy": "the current generation of the Workload API has no deployments: stop or delete"
    " the production workload instead (`%workload stop ID`, `%workload delete ID`)",
}
"""Why a v2.41-only subcommand does nothing on the current generation, and the way instead."""


def refuse_on_current(ctx: Context, subcommand: str) -> None:
    """A one-line refusal of a v2.41-only subcommand on a current-generation server."""
    if ctx.generation() is Generation.CURRENT:
        raise CommandError(f"%workload {subcommand}: {NOT_ON_CURRENT[subcommand]}")


def rollback_target(versions: dict[int, str], running: int | None, wanted: int | None) -> str:
    """The id of the locked version to move to: ``wanted``, else the highest below the one that
    runs; :class:`CommandError` saying why when there is none."""
    if running is None:
        raise CommandError("not rolled back: the workload runs a draft (`%workload lock` first)")
    if wanted is None:
        older = [version for version in versions if version < running]
        if not older:
            raise CommandError(f"not rolled back: version {running} is the first locked version")
        wanted = max(older)
    if wanted == running:
        raise CommandError(f"not rolled back: the workload already runs version {wanted}")
    if wanted not in versions:
        known = ", ".join(str(v) for v in sorted(versions)) or "none"
        raise CommandError(f"not rolled back: no locked version {wanted} (there are {known})")
    return versions[wanted]


def promote(ctx: Context, workload: Workload) -> Artifact:
    """Lock the draft the workload runs, in place; its artifact, now locked."""
    ctx.run(ctx.client.workloads.promote(workload.id))
    notify_panels(ctx, workload.id)
    return ctx.artifact_of(workload)


def rolling_restart(ctx: Context, workload: Workload, timeout: float | None) -> Workload:
    """Roll the running workload onto its saved spec (``PATCH …/settings`` with its present
    runtime), with a live line; a replacement that fails is a one-line refusal."""
    limit = timeout if timeout is not None else ctx.timeout
    return _rolled(
        ctx,
        workload,
        f"rolling {workload.name} onto its saved spec",
        ctx.client.workloads.update_settings(workload.id, timeout=limit),
        refused="not restarted",
    )


def move_to(ctx: Context, workload: Workload, artifact_id: str, target: str) -> Workload:
    """Replace the workload's artifact with ``artifact_id`` (rolling), with a live line."""
    return _rolled(
        ctx,
        workload,
        f"moving {workload.name} to {target}",
        ctx.client.workloads.replace(workload.id, artifact_id, timeout=ctx.timeout),
        refused="not rolled back",
    )


def _rolled(
    ctx: Context, workload: Workload, action: str, change: object, *, refused: str
) -> Workload:
    progress = ctx.progress(action)
    try:
        done: Replacement = ctx.run(change, progress)
    except KeyboardInterrupt:
        progress.fail(
            f"⏹ stopped waiting after {seconds(progress.elapsed)} (the replacement carries on;"
            " see `%workload status`)"
        )
        raise
    notify_panels(ctx, workload.id)
    if not done.succeeded:
        progress.fail(f"✗ {workload.name}: replacement {done.status}")
        raise CommandError(
            f"{refused}: the replacement ended {done.status} ({done.message or 'no reason'})"
            f" — {workload.name} serves on as before"
        )
    progress.finish(f"✓ {workload.name} switched (rolling) after {seconds(progress.elapsed)}")
    return ctx.workload(workload.id)


def new_production(
    ctx: Context, workload: Workload, artifact: Artifact, name: str, importance: str
) -> Workload:
    """A new workload of the locked ``artifact`` with ``workload``'s runtime, running."""
    settings = ctx.run(ctx.client.workloads.settings(workload.id))
    body = {
        "name": name,
        "artifactId": artifact.id,
        "importance": importance,
        "runtime": settings.runtime,
    }
    created: Workload = ctx.run(ctx.client.workloads.create(body))
    notify_panels(ctx, workload.id)
    return ctx.wait_for(created, WorkloadStatus.RUNNING, "starting")
