"""Smoke checks from cells: ``%workload invoke PATH --save NAME`` records one,
``%workload smoke [list|run|remove NAME|compare]`` lists, runs, removes them or compares the
draft's answers with production's; and the hooks other commands call: after a restart or a
start (run them, print the outcome), before a lock or deploy (their checklist item), after a
deploy (draft vs deployed), and after each live sync (:data:`workloadlab.sync.AFTER_SYNC`).

The checks live in the smoke file (:func:`workloadlab.smoke.smoke_file_path`: beside the
notebook, or ``$WORKLOADLAB_SMOKE_FILE``), keyed by the workload's name.
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx

from workloadlab import smoke
from workloadlab.client import AsyncClient, Generation
from workloadlab.client.readiness import SmokeVerdict
from workloadlab.commands.base import CommandError, Context, Parser, Table
from workloadlab.models import Deployment
from workloadlab.models.neutral import Workload
from workloadlab.smoke.fields import MISSING, FieldError, resolve, shown
from workloadlab.smoke.model import refuse_secrets
from workloadlab.smoke.report import results_html, results_text, verdict_line
from workloadlab.smoke.running import answer_of
from workloadlab.smoke.storage import shown_path
from workloadlab.sync import AFTER_SYNC


def _where() -> str:
    return shown_path(smoke.smoke_file_path())


def _load() -> smoke.SmokeFile:
    try:
        return smoke.load(smoke.smoke_file_path())
    except smoke.SmokeError as exc:
        raise CommandError(str(exc)) from None


# -- recording (invoke --save) -------------------------------------------------------------


def add_save_arguments(parser: Parser) -> None:
    """``--save NAME``, ``--fields a,b`` and ``--budget-ms N`` of ``%workload invoke``."""
    parser.add_argument("--save", metavar="NAME", help="record request and answer as a check")
    parser.add_argument(
        "--fields",
        metavar="A,B",
        help="with --save: the JSON fields to compare (a.b.0 or /a/b/0; default: whole body)",
    )
    parser.add_argument(
        "--budget-ms", type=int, metavar="N", help="with --save: the answer must come in N ms"
    )


def record(
    ctx: Context,
    args: argparse.Namespace,
    workload_id: str,
    response: httpx.Response,
    body: Any,
    elapsed_ms: float,
) -> None:
    """Store ``%workload invoke``'s request and answer as check ``args.save`` (no-op without
    ``--save``; ``--fields``/``--budget-ms`` without it are refused)."""
    if args.save is None:
        if args.fields is not None or args.budget_ms is not None:
            raise CommandError("--fields and --budget-ms go with --save NAME")
        return
    workload = ctx.workload(workload_id)
    answer = answer_of(response)
    expect: dict[str, Any] = {"status": response.status_code, "budgetMs": args.budget_ms}
    if args.fields:
        try:
            pointers = [smoke.to_pointer(f) for f in args.fields.split(",")]
        except FieldError as exc:
            raise CommandError(f"not saved: {exc}") from None
        missing = [p for p in pointers if resolve(answer, p) is MISSING]
        if missing:
            raise CommandError(f"not saved: the answer has no field {', '.join(missing)}")
        expect["fields"] = {p: resolve(answer, p) for p in pointers}
    else:
        expect["body"] = answer
    check = smoke.SmokeCheck.model_validate(
        {
            "request": {"method": args.method, "path": args.path, "body": body},
            "expect": expect,
        }
    )
    try:
        refuse_secrets(check, [_token_of(response)])
        smoke.update(
            smoke.smoke_file_path(), lambda found: found.with_check(workload.name, args.save, check)
        )
    except smoke.SmokeError as exc:
        raise CommandError(str(exc)) from None
    compared = (
        ", ".join(f"{p} = {shown(v)}" for p, v in sorted(check.expect.fields.items()))
        if check.expect.fields is not None
        else "the whole body"
    )
    budget = f", within {args.budget_ms} ms" if args.budget_ms else ""
    over = (
        f" (this answer took {elapsed_ms:.0f} ms: over the budget)"
        if args.budget_ms and elapsed_ms > args.budget_ms
        else ""
    )
    print(
        f"Saved smoke check {args.save!r} of {workload.name} in {_where()}: status"
        f" {response.status_code}, {compared}{budget}{over}."
    )


def _token_of(response: httpx.Response) -> str:
    """The API token the request carried (so it is never stored), or ``""``."""
    try:
        sent = response.request.headers.get("authorization", "")
    except RuntimeError:  # a response without its request
        return ""
    return str(sent).split(" ", 1)[-1]


# -- %workload smoke -------------------------------------------------------------------------


def smoke_command(ctx: Context, args: argparse.Namespace) -> Any:
    """``%workload smoke [list|run|remove NAME|compare]``."""
    if args.action == "remove":
        return _remove(ctx, args)
    if args.name is not None:
        raise CommandError(f"%workload smoke {args.action} takes no NAME (remove does)")
    if args.action == "run":
        run_and_show(ctx, ctx.workload(args.id), quiet_without_checks=False)
        return None
    if args.action == "compare":
        return compare(ctx, ctx.workload(args.id), _production(ctx, args))
    return _list(ctx, args)


def _list(ctx: Context, args: argparse.Namespace) -> None:
    workload = ctx.workload(args.id)
    checks = _load().checks_of(workload.name)
    if not checks:
        print(f"{workload.name} has no smoke checks in {_where()} (record one with"
              " `%workload invoke PATH --save NAME`).")  # fmt: skip
        return
    print(f"Smoke checks of {workload.name} ({_where()}):")
    for name, check in checks.items():
        expect = check.expect
        compared = (
            ", ".join(f"{p} = {shown(v)}" for p, v in sorted(expect.fields.items()))
            if expect.fields is not None
            else "whole body"
        )
        budget = f", ≤ {expect.budget_ms} ms" if expect.budget_ms else ""
        print(f"  {name}: {check.request.describe()} → {expect.status}, {compared}{budget}")


def _remove(ctx: Context, args: argparse.Namespace) -> None:
    if args.name is None:
        raise CommandError("%workload smoke remove NAME: which check?")
    workload = ctx.workload(args.id)
    try:
        smoke.update(smoke.smoke_file_path(), lambda found: found.without(workload.name, args.name))
    except smoke.SmokeError as exc:
        raise CommandError(str(exc)) from None
    print(f"Removed smoke check {args.name!r} of {workload.name} from {_where()}.")


def run_and_show(
    ctx: Context, workload: Workload, *, quiet_without_checks: bool = True
) -> list[smoke.Result]:
    """Run the workload's checks and show the outcome (nothing, with ``quiet_without_checks``,
    when there are none)."""
    try:
        results: list[smoke.Result] = ctx.run(smoke.run_checks(ctx.client, workload))
    except smoke.SmokeError as exc:
        print(f"✗ smoke checks not run: {exc}")
        return []
    if not results:
        if not quiet_without_checks:
            print(f"{workload.name} has no smoke checks in {_where()}.")
        return results
    ctx.show(results_html(results, _where()), results_text(results, _where()))
    return results


# -- the hooks ---------------------------------------------------------------------------------


def after_restart(ctx: Context, workload: Workload) -> None:
    """Run and show the workload's checks after a restart or start (nothing without any)."""
    run_and_show(ctx, ctx.workload(workload.id))


def verdicts(ctx: Context, workload: Workload) -> list[SmokeVerdict]:
    """The checklist item's input: the recorded checks run now."""
    found: list[SmokeVerdict] = ctx.run(smoke.smoke_verdicts(ctx.client, workload.id))
    return found


def compare(ctx: Context, draft: Workload, production: Deployment | Workload) -> None:
    """Draft vs deployed: the draft's checks sent to both, the answers side by side."""
    comparisons: list[smoke.Comparison] = ctx.run(
        smoke.draft_vs_deployed(ctx.client, ctx.workload(draft.id), production)
    )
    if not comparisons:
        print(f"{draft.name} has no smoke checks in {_where()}: nothing to compare.")
        return
    what = f"deployment {production.name}" if isinstance(production, Deployment) else (
        f"production workload {production.name}")  # fmt: skip
    print(f"Draft {draft.name} vs {what}, the same requests:")
    ctx.show(smoke.comparison_html(comparisons), smoke.comparison_text(comparisons))


def after_deploy(ctx: Context, draft: Workload, production: Deployment | Workload) -> None:
    """Draft vs deployed after a deploy, when the draft has checks."""
    if _load().checks_of(draft.name):
        compare(ctx, draft, production)


def _production(ctx: Context, args: argparse.Namespace) -> Deployment | Workload:
    """What ``compare`` sends the requests to: ``--to`` (a deployment id on v2.41, a
    production workload on the current generation), else the workload's newest deployment."""
    workload = ctx.workload(args.id)
    if ctx.generation() is Generation.CURRENT:
        if args.to is None:
            raise CommandError(
                "the current generation has no deployments: name the production workload"
                " with --to NAME (a promoted workload is its own production)"
            )
        return ctx.workload(args.to)
    if args.to is not None:
        found: Deployment = ctx.run(ctx.client.deployments.get(args.to))
        return found

    async def newest() -> Deployment | None:
        async for deployment in ctx.client.deployments.list(workload_id=workload.id):
            if deployment.workload_id == workload.id:
                return deployment
        return None

    latest: Deployment | None = ctx.run(newest())
    if latest is None:
        raise CommandError(f"{workload.name} backs no deployment: deploy it first, or --to ID")
    return latest


async def smoke_checks(client: AsyncClient, workload: Workload) -> str:
    """Live sync's hook: the workload's checks after each sync, in one line (none: ``""``)."""
    return verdict_line(await smoke.run_checks(client, workload))


if smoke_checks not in AFTER_SYNC:  # every front-end loads the command layer, so syncs run it
    AFTER_SYNC.append(smoke_checks)


def register(table: Table) -> None:
    """Add ``%workload smoke`` to ``table``."""
    p = table.add(
        "smoke",
        smoke_command,
        "Smoke checks: list, run, remove NAME, compare (draft vs deployed).",
    )
    p.add_argument(
        "action",
        nargs="?",
        default="list",
        choices=("list", "run", "remove", "compare"),
        metavar="ACTION",
        help="list (default), run, remove NAME, or compare (draft vs deployed)",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="remove: the check")
    table.add_id_option(p)  # required where there is no current workload (the shell)
    p.add_argument(
        "--to",
        metavar="ID|NAME",
        help="compare: the deployment (v2.41) or production workload (current generation)",
    )
