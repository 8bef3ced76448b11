"""Looking at workloads: list, status, logs, events (deleted ones' too), the timeline of its
restarts, invoke (``--save`` records a smoke check: :mod:`.smoke`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from workloadlab.commands import render, smoke
from workloadlab.commands.base import CommandError, Context, Table
from workloadlab.commands.timeline import runs_of, timeline_html, timeline_text
from workloadlab.errors import NotFoundError
from workloadlab.models import Creator, Event, LogRecord, WorkloadStatus
from workloadlab.models.neutral import Workload
from workloadlab.models.shown import ShownList


def list_(ctx: Context, args: argparse.Namespace) -> list[Workload]:
    """Every workload, newest first, as a list that shows as one table (the current one
    marked): the cell's result is the table, nothing else."""

    async def everything() -> list[Workload]:
        pager = ctx.client.workloads.list(search=args.search, status=args.status)
        return [w async for w in pager if args.status is None or w.status.value == args.status]

    items: list[Workload] = ctx.run(everything())
    return ShownList(items, current=ctx.session.current_workload_id)


def status(ctx: Context, args: argparse.Namespace) -> Workload:
    """The workload's status, conditions and log tail."""
    return ctx.workload(args.id)


def logs(ctx: Context, args: argparse.Namespace) -> None:
    """The last lines the workload wrote; ``--follow`` keeps printing until interrupted."""
    workload_id = ctx.resolve(args.id)
    if args.tail < 1 or args.tail > 1000:
        raise CommandError("--tail must be between 1 and 1000")

    async def last() -> list[LogRecord]:
        page = await ctx.client.workloads.logs(workload_id, limit=args.tail)
        return list(reversed(page.data))

    records: list[LogRecord] = ctx.run(last())
    for record in records:
        ctx.emit(_log_line(record), record)
    if not args.follow:
        return
    newest = records[-1].timestamp if records else None
    seen = {(r.timestamp, r.message) for r in records}

    async def follow() -> None:
        nonlocal newest
        while True:
            page = await ctx.client.workloads.logs(
                workload_id, limit=1000, start_time=newest.isoformat() if newest else None
            )
            for record in reversed(page.data):
                key = (record.timestamp, record.message)
                if key not in seen:
                    seen.add(key)
                    ctx.emit(_log_line(record), record)
                    newest = record.timestamp
            await asyncio.sleep(0.5)

    try:
        ctx.run(follow())
    except KeyboardInterrupt:
        print("(stopped following)")


def _log_line(record: LogRecord) -> str:
    level = "" if record.level == "info" else f"[{record.level}] "
    return f"{record.timestamp:%H:%M:%S} {level}{record.message}"


def events(ctx: Context, args: argparse.Namespace) -> list[Event]:
    """The workload's audit trail, newest first; a deleted workload's by its id (the local
    server keeps the trail, ending with the delete)."""
    try:
        workload_id = ctx.resolve(args.id)
    except CommandError as exc:
        raise CommandError(
            f"{exc} (the trail of a deleted workload: `%workload events ID`)"
        ) from None

    async def trail() -> list[Event]:
        return [e async for e in ctx.client.workloads.events(workload_id)]

    items: list[Event] = ctx.run(trail())
    names = actor_names(ctx, workload_id, items)
    ctx.show(render.events_html(items, names), render.events_text(items, names))
    return items


def actor_names(ctx: Context, workload_id: str, events: Sequence[Event]) -> dict[str, str]:
    """The names of who acted on a workload, as far as the client can tell: the creators of
    the workload and of its artifact (a deleted workload's: the artifact its trail names, if
    it is still there); the server's own changes are ``system``."""
    names = {"system": "system"}

    async def creators() -> list[Creator | None]:
        found: list[Creator | None] = []
        artifact_id = None
        with contextlib.suppress(NotFoundError):
            workload = await ctx.client.workloads.get(workload_id)
            found.append(workload.creator)
            artifact_id = workload.artifact_id
        if artifact_id is None:
            artifact_id = next((e.entity_id for e in events if e.entity_type == "artifact"), None)
        if artifact_id is not None:
            with contextlib.suppress(NotFoundError):
                found.append((await ctx.client.artifacts.get(artifact_id)).creator)
        return found

    for creator in ctx.run(creators()):
        if creator is not None and (creator.username or creator.email):
            names[creator.id] = creator.username or creator.email or creator.id
    return names


TIMELINE_LOG_LINES = 1000
"""The newest log lines ``%workload timeline`` reads (they cover the recent runs)."""


def timeline(ctx: Context, args: argparse.Namespace) -> None:
    """The workload's runs (one per restart), newest first: a strip of its statuses over time
    with each event a mark and crashes in red, then its log lines."""
    if not 1 <= args.lines <= 1000 or not 1 <= args.runs <= 100:
        raise CommandError("--lines must be between 1 and 1000, --runs between 1 and 100")
    workload = ctx.workload(args.id)

    async def read() -> tuple[list[Event], list[LogRecord]]:
        events = [e async for e in ctx.client.workloads.events(workload.id)]
        page = await ctx.client.workloads.logs(workload.id, limit=TIMELINE_LOG_LINES)
        return events, list(page.data)

    events, logs = ctx.run(read())
    runs = runs_of(events, logs, status=workload.status.value)
    ctx.show(
        timeline_html(runs, lines=args.lines, most=args.runs),
        timeline_text(runs, lines=args.lines, most=args.runs),
    )


def invoke(ctx: Context, args: argparse.Namespace) -> Any:
    """Send a request to the current workload's app and show the answer."""
    workload_id = ctx.resolve(args.id)
    body = None
    if args.data is not None:
        try:
            body = json.loads(_body_text(args.data))
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data is not valid JSON: {exc.msg}") from None
    path = args.path if args.path.startswith("/") else f"/{args.path}"
    started = time.perf_counter()
    response: httpx.Response = ctx.run(
        ctx.client.workloads.invoke(workload_id, path, method=args.method.upper(), json=body)
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    answered = f"{response.status_code} {response.reason_phrase}"
    if response.is_error and not args.fail:
        print(answered)
    smoke.record(ctx, args, workload_id, response, body, elapsed_ms)
    if response.is_error and args.fail:
        raise CommandError(f"the app answered {answered}")
    return answer


def _body_text(data: str) -> str:
    """``--data``: the JSON itself, or ``@FILE`` (``@-``: stdin), curl's way, for bodies too
    big for a command line."""
    if not data.startswith("@"):
        return data
    source = data[1:]
    try:
        return sys.stdin.read() if source == "-" else Path(source).expanduser().read_text()
    except FileNotFoundError:
        raise CommandError(f"--data: cannot read {source}: no such file") from None
    except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a kernel has no stdin
        raise CommandError(f"--data: cannot read {source}: {exc}") from None


def register(table: Table) -> None:
    """Add these subcommands to ``table``."""
    marked = " (the current one marked)" if table.current else ""
    p = table.add("list", list_, f"List workloads{marked}.")
    p.add_argument("--search", help="only names containing this")
    p.add_argument(
        "--status", choices=[s.value for s in WorkloadStatus], help="only workloads in this status"
    )
    table.add("status", status, "Show a workload's status.", with_id=True)
    table.add("get", status, "Show a workload (all of it with --output json).", with_id=True)

    p = table.add("logs", logs, "Show a workload's last log lines.", with_id=True)
    p.add_argument("--tail", type=int, default=50, metavar="N", help="how many lines (50)")
    p.add_argument("--follow", action="store_true", help="keep printing (interrupt to stop)")

    table.add(
        "events",
        events,
        "Show a workload's audit trail (a deleted one's by ID).",
        with_id=True,
        shown=True,
    )

    p = table.add(
        "timeline",
        timeline,
        "Show a workload's restarts as strips: statuses, events, crashes, log lines.",
        with_id=True,
    )
    p.add_argument("--lines", type=int, default=20, metavar="N", help="log lines per run (20)")
    p.add_argument("--runs", type=int, default=5, metavar="N", help="how many runs (5)")

    p = table.add("invoke", invoke, "Send a request to the workload's app.")
    p.add_argument("path", metavar="PATH", help="e.g. / or /predict")
    p.add_argument("--method", default="GET", help="(GET)")
    p.add_argument("--data", metavar="JSON", help="a JSON body, or @FILE (@- reads stdin)")
    p.add_argument(
        "--fail",
        action="store_true",
        help="an answer of 4xx/5xx is an error (exit 1 from the shell), as curl --fail",
    )
    table.add_id_option(p)
    smoke.add_save_arguments(p)
