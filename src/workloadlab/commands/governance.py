"""Lock and deploy only what was seen running: ``%workload lock`` and ``%workload deploy``.

Both print the checklist of :meth:`client.workloads.lock_readiness
<workloadlab.client.resources.workloads.Workloads.lock_readiness>` (one ``✓``/``✗`` line per
check) and refuse, in one line naming the first failed check and what to do, unless every
check passes. ``--restart`` applies the saved spec first (stop, start, wait for running) when
what fails is only what a restart fixes; ``--smoke PATH`` adds requests that must answer, and
the workload's recorded smoke checks (:mod:`.smoke`) are run and must pass. After a deploy, the
recorded checks are sent to the draft and to production, the answers side by side.
Nothing irreversible happens before the checklist passes: a refused deploy registers nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from workloadlab.client import Check, CheckName, Generation, Readiness
from workloadlab.commands import current, render
from workloadlab.commands import smoke as recorded
from workloadlab.commands.base import (
    CommandError,
    Context,
    Parser,
    Table,
    add_yes,
    notify_panels,
)
from workloadlab.commands.describe import one_line
from workloadlab.commands.lifecycle import restart_now
from workloadlab.errors import WorkloadlabError
from workloadlab.models import CreateDeployment, Deployment, Importance
from workloadlab.models.neutral import Artifact, Workload

RESTART_FIXES = frozenset({CheckName.RUNNING_AND_READY, CheckName.RUNS_SAVED_SPEC})
SMOKE = frozenset({CheckName.SMOKE_CHECKS, CheckName.RECORDED_SMOKE})
"""The checks a restart (stop, start with the saved spec, wait for running) can make pass."""


def remedy(check: Check, *, restarted: bool) -> str:
    """What to do about a failed check, in a few words."""
    if check.name in RESTART_FIXES:
        if restarted:
            return "even after a restart: see `%workload status` and `%workload logs`"
        return "restart first, or pass --restart"
    if check.name == CheckName.NOT_DEPLOYED:
        return "a workload backs at most one deployment: `%workload undeploy` that one first"
    if check.name == CheckName.SMOKE_CHECKS:
        return "fix the app (see `%workload logs`), or leave that --smoke path out"
    if check.name == CheckName.RECORDED_SMOKE:
        return (
            "fix the app (see `%workload logs`), or record the check again"
            " (`%workload invoke PATH --save NAME`) or `%workload smoke remove NAME`"
        )
    return "see the checklist above"


def checked(
    ctx: Context, workload: Workload, *, restart: bool, smoke: Sequence[str], refused: str
) -> Readiness:
    """The readiness of ``workload``, after a restart if ``restart`` and only a restart is
    missing; the checklist printed; :class:`CommandError` (``refused``: "not locked") naming
    the first failed check unless all pass."""
    readiness = _readiness(ctx, workload, smoke)
    restarted = False
    if restart and _restart_helps(readiness.failed):
        why = readiness.failed[0].detail
        print(f"Restarting {workload.name} to apply the saved spec ({why}).")
        restart_now(ctx, workload, wait=True, timeout=None, force=False)
        restarted = True
        readiness = _readiness(ctx, workload, smoke)
    print(render.checklist_text(readiness.checks))
    if not readiness.ok:
        first = readiness.failed[0]
        recorded_check = first.name == CheckName.RECORDED_SMOKE
        said = f"smoke check {first.detail}" if recorded_check else first.detail
        raise CommandError(f"{refused}: {said} — {remedy(first, restarted=restarted)}")
    return readiness


def _readiness(ctx: Context, workload: Workload, smoke: Sequence[str]) -> Readiness:
    """The checklist, with the recorded smoke checks run now (their item)."""
    ran = recorded.verdicts(ctx, workload)
    found: Readiness = ctx.run(
        ctx.client.workloads.lock_readiness(workload.id, smoke=smoke, smoke_results=ran)
    )
    return found


def _restart_helps(failed: Sequence[Check]) -> bool:
    """Whether a restart may make every failed check pass (smoke requests are only sent to a
    running workload)."""
    names = {check.name for check in failed}
    return bool(names & RESTART_FIXES) and names <= RESTART_FIXES | SMOKE


LOCKED_WORD = {Generation.V2_41: "registered", Generation.CURRENT: "locked"}
"""How each generation says an artifact is locked."""


def lock(ctx: Context, args: argparse.Namespace) -> Artifact:
    """Lock the workload's artifact (irreversible, its container spec becomes immutable):
    register it (v2.41), or promote the workload that runs it (current generation)."""
    workload = ctx.workload(args.id)
    artifact = ctx.artifact_of(workload)
    generation = ctx.generation()
    if artifact.is_registered:
        raise CommandError(
            f"artifact {artifact.name!r} is already {LOCKED_WORD[generation]}"
            f" (version {artifact.version})"
        )
    checked(ctx, workload, restart=args.restart, smoke=args.smoke, refused="not locked")
    if generation is Generation.CURRENT:
        if not args.yes and not ctx.confirm(
            f"Lock artifact {artifact.name!r} by promoting workload {workload.name!r}? This is"
            " irreversible: its container spec becomes immutable (the workload keeps running"
            " and keeps its endpoint)."
        ):
            print("Not locked.")
            return artifact
        locked = current.promote(ctx, workload)
        print(
            f"Locked: workload {workload.name!r} is promoted; artifact {locked.name!r} is"
            f" locked as version {locked.version}."
        )
        return locked
    if not args.yes and not ctx.confirm(
        f"Register artifact {artifact.name!r}? This is irreversible: its container spec "
        "becomes immutable."
    ):
        print("Not locked.")
        return artifact
    registered: Artifact = ctx.run(ctx.client.artifacts.register(artifact.id))
    notify_panels(ctx, workload.id)
    print(f"Locked: artifact {registered.name!r} is registered as version {registered.version}.")
    return registered


def deploy(ctx: Context, args: argparse.Namespace) -> Deployment | Workload:
    """Create a governed deployment of the workload (registering its draft artifact first);
    on the current generation, promote it (or, ``--new``, a new workload of its locked
    artifact)."""
    workload = ctx.workload(args.id)
    artifact = ctx.artifact_of(workload)
    if ctx.generation() is Generation.CURRENT:
        return _deploy_current(ctx, args, workload, artifact)
    if args.new is not None:
        raise CommandError(
            "--new is the current generation's (a new production workload); this server speaks"
            " v2.41: give the deployment's name with --name"
        )
    name = args.name or f"{workload.name}-prod"
    body = CreateDeployment(  # a bad name is refused before anything happens
        workload_id=workload.id, name=name, importance=Importance(args.importance)
    )
    checked(ctx, workload, restart=args.restart, smoke=args.smoke, refused="not deployed")
    question = f"Deploy {workload.name!r} as {name!r} ({args.importance} importance)?"
    if not artifact.is_registered:
        question = (
            f"Artifact {artifact.name!r} is a draft: deploying registers it first, which is "
            f"irreversible (its container spec becomes immutable). {question}"
        )
    if not args.yes and not ctx.confirm(question):
        raise CommandError("not deployed (answer y to confirm, or pass --yes)")
    if not artifact.is_registered:
        artifact = ctx.run(ctx.client.artifacts.register(artifact.id))
        notify_panels(ctx, workload.id)
    try:
        deployment: Deployment = ctx.run(ctx.client.deployments.create(body))
    except WorkloadlabError as exc:
        raise CommandError(
            f"not deployed (artifact {artifact.name!r} is registered as version"
            f" {artifact.version}): {one_line(exc)}"
        ) from None
    notify_panels(ctx, workload.id, deployment)
    recorded.after_deploy(ctx, workload, deployment)
    return deployment


def _deploy_current(
    ctx: Context, args: argparse.Namespace, workload: Workload, artifact: Artifact
) -> Workload:
    """Production on the current generation: this workload promoted (it keeps its endpoint),
    or with ``--new`` a new workload of the locked artifact."""
    if args.name is not None:
        raise CommandError(
            "--name names a v2.41 deployment; the current generation has none: deploy promotes"
            " this workload, or --new NAME creates a production workload"
        )
    new_name = (args.new or f"{workload.name}-prod") if args.new is not None else None
    if new_name is None and artifact.is_registered:
        print(
            f"{workload.name} already runs locked version {artifact.version}: it is production"
            " (`%workload deploy --new NAME` starts another production workload of it)."
        )
        return workload
    checked(ctx, workload, restart=args.restart, smoke=args.smoke, refused="not deployed")
    if new_name is None:
        question = (
            f"Promote {workload.name!r}? Its artifact {artifact.name!r} is locked in place"
            " (irreversible: its container spec becomes immutable); the workload keeps running"
            " and keeps its endpoint."
        )
    else:
        question = f"Create production workload {new_name!r} ({args.importance} importance)?"
        if not artifact.is_registered:
            question = (
                f"Artifact {artifact.name!r} is a draft: promoting {workload.name!r} locks it"
                f" first, which is irreversible. {question}"
            )
    if not args.yes and not ctx.confirm(question):
        raise CommandError("not deployed (answer y to confirm, or pass --yes)")
    if not artifact.is_registered:
        artifact = current.promote(ctx, workload)
        print(
            f"Promoted: {workload.name!r} runs artifact {artifact.name!r}, locked as version"
            f" {artifact.version}; its endpoint is unchanged."
        )
    if new_name is None:
        return ctx.workload(workload.id)
    try:
        made = current.new_production(ctx, workload, artifact, new_name, args.importance)
    except WorkloadlabError as exc:
        raise CommandError(
            f"no production workload (artifact {artifact.name!r} is locked as version"
            f" {artifact.version}): {one_line(exc)}"
        ) from None
    recorded.after_deploy(ctx, workload, made)
    return made


def _add_checks(parser: Parser, then: str) -> None:
    parser.add_argument(
        "--restart",
        action="store_true",
        help=f"apply the saved spec first (stop, start, wait for running), then {then}",
    )
    parser.add_argument(
        "--smoke",
        action="append",
        default=[],
        metavar="PATH",
        help="a GET that must answer below 400 first (repeatable), e.g. --smoke /health",
    )
    add_yes(parser)


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    p = table.add(
        "lock",
        lock,
        "Register the artifact (irreversible), once the checklist passes.",
        with_id=True,
    )
    _add_checks(p, "lock")

    p = table.add(
        "deploy",
        deploy,
        "Go to production once the checklist passes: a governed deployment (v2.41), or promote"
        " the workload (current generation; --new NAME: a new production workload).",
        with_id=True,
    )
    p.add_argument("--name", help="v2.41: the deployment's name (default: <workload>-prod)")
    p.add_argument(
        "--new",
        nargs="?",
        const="",
        metavar="NAME",
        help="current generation: a new production workload of the locked artifact"
        " (default name: <workload>-prod)",
    )
    p.add_argument(
        "--importance", default="low", choices=[i.value for i in Importance], help="(low)"
    )
    _add_checks(p, "deploy")
