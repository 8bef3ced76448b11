"""The subcommands of ``%workload``: one small argparse parser and one function each.

Each function gets a :class:`Context` (the session, the user's namespace, confirmation and
display) and the parsed arguments, does its I/O on the portal, and returns what the magic
returns (a model, a list, or ``None``). User mistakes raise :class:`CommandError`, which the
magic turns into a one-line ``UsageError``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx
from IPython.display import display

from workloadlab.client import AsyncClient
from workloadlab.errors import WorkloadErroredError
from workloadlab.models import (
    Artifact,
    Deployment,
    Importance,
    LogRecord,
    Workload,
    WorkloadStatus,
)
from workloadlab.models.diff import diff_artifacts, needs_restart
from workloadlab.notebook import render
from workloadlab.notebook.progress import Progress, seconds
from workloadlab.notebook.refs import WorkloadRefError, resolve_workload
from workloadlab.notebook.session import Session
from workloadlab.notebook.specs import load_source, to_input_artifact, to_yaml


class CommandError(Exception):
    """A user mistake; the message is one line."""


class HelpShown(Exception):
    """``--help`` printed the help; the magic returns nothing."""


class Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise CommandError(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message)
        raise HelpShown


@dataclass
class Context:
    """What a subcommand may use."""

    session: Session
    namespace: Mapping[str, Any]
    timeout: float
    confirm: Callable[[str], bool]
    show: Callable[[str, str], None] = field(default=lambda h, t: show_table(h, t))

    @property
    def client(self) -> AsyncClient:
        """The session's client (connecting on first use)."""
        return self.session.client

    def run(self, coroutine: Any, progress: Progress | None = None) -> Any:
        """Run on the portal; redraw ``progress`` while waiting."""
        self.session.client  # noqa: B018 - connect here: coroutines use the client on the portal
        if progress is None:
            return self.session.run(coroutine)
        progress.begin()
        return self.session.run(coroutine, tick=progress.tick)

    def resolve(self, ref: str | None) -> str:
        """A workload id from an id, a name, or (``None``) the current workload."""
        try:
            return resolve_workload(self.session, ref)
        except WorkloadRefError as exc:
            raise CommandError(str(exc)) from None

    def wait_for(
        self, workload: Workload, wanted: WorkloadStatus, action: str, start: Any = None
    ) -> Workload:
        """Run ``start`` (a coroutine, optional), then wait for ``wanted`` with a live line."""
        client = self.client

        async def flow(progress: Progress) -> Workload:
            if start is not None:
                await start
            return await client.workloads.wait_for_status(
                workload.id,
                wanted,
                timeout=self.timeout,
                on_change=lambda w: progress.report(w.status.value),
            )

        return self.watched(workload, action, flow)

    def watched(
        self,
        workload: Workload,
        action: str,
        flow: Callable[[Progress], Coroutine[Any, Any, Workload]],
    ) -> Workload:
        """Run ``flow`` with a live progress line, and end the line with the outcome: the
        status reached, the workload going errored, or Ctrl-C (the workload carries on)."""
        progress = Progress(f"{action} {workload.name}")
        try:
            result: Workload = self.run(flow(progress), progress)
        except WorkloadErroredError:
            progress.fail(f"✗ {workload.name} errored after {seconds(progress.elapsed)}")
            raise
        except KeyboardInterrupt:
            progress.fail(
                f"⏹ stopped waiting after {seconds(progress.elapsed)} "
                f"({workload.name} carries on; see `%workload status`)"
            )
            raise
        progress.finish(
            f"✓ {workload.name} {result.status.value} after {seconds(progress.elapsed)}"
        )
        return result


Command = Callable[[Context, argparse.Namespace], Any]


def notify_panels(ctx: Context, workload_id: str, deployment: Deployment | None = None) -> None:
    """Tell an open panel of the workload that a magic just changed it, or made
    ``deployment`` of it (no-op without one; the panel package is not imported for this)."""
    watchers = sys.modules.get("workloadlab.notebook.panel.watcher")
    if watchers is not None:
        watchers.poke_watcher(ctx.session, workload_id, deployment)


def show_table(html: str, text: str) -> None:
    """Display HTML with a plain-text fallback."""
    display({"text/html": html, "text/plain": text}, raw=True)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Subcommand:
    """A subcommand's parser and function."""

    parser: Parser
    run: Command


def _parser(name: str, description: str) -> Parser:
    return Parser(prog=f"%workload {name}", description=description, add_help=True)


def _with_id(parser: Parser) -> Parser:
    parser.add_argument("id", nargs="?", metavar="ID|NAME", help="default: the current workload")
    return parser


# -- subcommands -------------------------------------------------------------------------------


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


def list_(ctx: Context, args: argparse.Namespace) -> list[Workload]:
    """Every workload, newest first; the current one is marked."""

    async def everything() -> list[Workload]:
        return [w async for w in ctx.client.workloads.list(search=args.search)]

    items: list[Workload] = ctx.run(everything())
    current = ctx.session.current_workload_id
    ctx.show(render.workloads_html(items, current), render.workloads_text(items, current))
    return items


def use(ctx: Context, args: argparse.Namespace) -> Workload:
    """Make a workload current."""
    workload_id = ctx.resolve(args.id)
    workload: Workload = ctx.run(ctx.client.workloads.get(workload_id))
    ctx.session.current_workload_id = workload.id
    return workload


def status(ctx: Context, args: argparse.Namespace) -> Workload:
    """The workload's status, conditions and log tail."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    return workload


def restart(ctx: Context, args: argparse.Namespace) -> Workload:
    """Stop, wait for stopped, start, wait for running: the artifact's current spec goes live."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    timeout = args.timeout if args.timeout is not None else ctx.timeout

    async def flow(progress: Progress) -> Workload:
        return await ctx.client.workloads.restart(
            workload.id,
            wait=not args.no_wait,
            timeout=timeout,
            on_change=lambda w: progress.report(w.status.value),
        )

    return ctx.watched(workload, "restarting", flow)


def stop(ctx: Context, args: argparse.Namespace) -> Workload:
    """Stop the workload and wait until it is stopped."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    started = ctx.client.workloads.stop(workload.id)
    if args.no_wait:
        ctx.run(started)
        return workload
    return ctx.wait_for(workload, WorkloadStatus.STOPPED, "stopping", started)


def start(ctx: Context, args: argparse.Namespace) -> Workload:
    """Start the workload (with its artifact's current spec) and wait until it is running."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    started = ctx.client.workloads.start(workload.id)
    if args.no_wait:
        ctx.run(started)
        return workload
    return ctx.wait_for(workload, WorkloadStatus.RUNNING, "starting", started)


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
        print(_log_line(record))
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
                    print(_log_line(record), flush=True)
                    newest = record.timestamp
            await asyncio.sleep(0.5)

    try:
        ctx.run(follow())
    except KeyboardInterrupt:
        print("(stopped following)")


def _log_line(record: LogRecord) -> str:
    level = "" if record.level == "info" else f"[{record.level}] "
    return f"{record.timestamp:%H:%M:%S} {level}{record.message}"


def events(ctx: Context, args: argparse.Namespace) -> None:
    """The workload's audit trail, newest first."""
    workload_id = ctx.resolve(args.id)

    async def trail() -> list[Any]:
        return [e async for e in ctx.client.workloads.events(workload_id)]

    items = ctx.run(trail())
    ctx.show(render.events_html(items), render.events_text(items))


def spec(ctx: Context, args: argparse.Namespace) -> Artifact:
    """The workload's artifact as YAML (paste it into ``%%artifact`` to edit it)."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    assert workload.artifact_id is not None
    artifact: Artifact = ctx.run(ctx.client.artifacts.get(workload.artifact_id))
    print(to_yaml(artifact), end="")
    return artifact


def lock(ctx: Context, args: argparse.Namespace) -> Artifact:
    """Register the workload's artifact: irreversible, its container spec becomes immutable."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    artifact = _artifact_of(ctx, workload)
    if artifact.is_registered:
        raise CommandError(
            f"artifact {artifact.name!r} is already registered (version {artifact.version})"
        )
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


def _artifact_of(ctx: Context, workload: Workload) -> Artifact:
    assert workload.artifact_id is not None
    artifact: Artifact = ctx.run(ctx.client.artifacts.get(workload.artifact_id))
    return artifact


def deploy(ctx: Context, args: argparse.Namespace) -> Deployment:
    """Create a governed deployment of the workload (registering its draft artifact first)."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
    artifact = _artifact_of(ctx, workload)
    name = args.name or f"{workload.name}-prod"
    question = f"Deploy {workload.name!r} as {name!r} ({args.importance} importance)?"
    if not artifact.is_registered:
        question = (
            f"Artifact {artifact.name!r} is a draft: deploying registers it first, which is "
            f"irreversible (its container spec becomes immutable). {question}"
        )
    if not args.yes and not ctx.confirm(question):
        raise CommandError("not deployed (answer y to confirm, or pass --yes)")

    async def flow() -> Deployment:
        if not artifact.is_registered:
            await ctx.client.artifacts.register(artifact.id)
        return await ctx.client.deployments.create(
            workload_id=workload.id, name=name, importance=Importance(args.importance)
        )

    deployment: Deployment = ctx.run(flow())
    notify_panels(ctx, workload.id, deployment)
    return deployment


def invoke(ctx: Context, args: argparse.Namespace) -> Any:
    """Send a request to the current workload's app and show the answer."""
    workload_id = ctx.resolve(args.id)
    body = None
    if args.data is not None:
        try:
            body = json.loads(args.data)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data is not valid JSON: {exc.msg}") from None
    path = args.path if args.path.startswith("/") else f"/{args.path}"
    response: httpx.Response = ctx.run(
        ctx.client.workloads.invoke(workload_id, path, method=args.method.upper(), json=body)
    )
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    if response.is_error:
        print(f"{response.status_code} {response.reason_phrase}")
    return answer


def delete(ctx: Context, args: argparse.Namespace) -> None:
    """Delete the workload (it is stopped first; its artifact is kept)."""
    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(args.id)))
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


# -- artifact edits (the %%artifact cell magic) ------------------------------------------------


def edit_artifact(ctx: Context, ref: str | None, text: str, *, restart_after: bool) -> Artifact:
    """Apply the cell's artifact (or container spec) to the workload's artifact.

    PUT when the spec changes, PATCH when only the name or description do. Shows the changes
    field by field and whether a restart is needed; ``restart_after`` does it.
    """
    from workloadlab.notebook.specs import parse_text

    workload: Workload = ctx.run(ctx.client.workloads.get(ctx.resolve(ref)))
    current = _artifact_of(ctx, workload)
    wanted = to_input_artifact(parse_text(text), base=current)
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
            restart(ctx, argparse.Namespace(id=workload.id, no_wait=False, timeout=None))
        else:
            print(
                f"Saved. {workload.name} still runs the previous spec: "
                "run `%workload restart` to apply it (or use `%%artifact --restart`)."
            )
    elif changes:
        print("Saved." + (" No restart needed." if not restart_needed else ""))
    return updated


# -- the table of subcommands ------------------------------------------------------------------


def build() -> dict[str, Subcommand]:
    """Every subcommand by name."""
    table: dict[str, Subcommand] = {}

    def add(name: str, run: Command, parser: Parser) -> Parser:
        table[name] = Subcommand(parser, run)
        return parser

    p = add("connect", connect, _parser("connect", "Connect to the local server or DataRobot."))
    p.add_argument("--local", action="store_true", help="the local server (started if needed)")
    p.add_argument("--endpoint", metavar="URL", help="e.g. https://app.datarobot.com/api/v2")
    p.add_argument("--data-dir", help="the local server's data dir")

    p = add("create", create, _parser("create", "Create a workload from a spec and start it."))
    p.add_argument("spec", metavar="SPEC", help="a YAML/JSON file, or $variable (dict or model)")
    p.add_argument("--name", help="the workload's name")
    p.add_argument("--no-wait", action="store_true", help="do not wait for running")

    p = add("list", list_, _parser("list", "List workloads (the current one marked)."))
    p.add_argument("--search", help="only names containing this")

    add("use", use, _parser("use", "Make a workload current."))
    table["use"].parser.add_argument("id", metavar="ID|NAME")

    add("status", status, _with_id(_parser("status", "Show a workload's status.")))
    p = add("restart", restart, _with_id(_parser("restart", "Stop, then start (applies edits).")))
    p.add_argument("--no-wait", action="store_true", help="return once it is starting")
    p.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")
    for name, run, text in (
        ("stop", stop, "Stop a workload and wait until stopped."),
        ("start", start, "Start a workload and wait until running."),
    ):
        p = add(name, run, _with_id(_parser(name, text)))
        p.add_argument("--no-wait", action="store_true", help="do not wait")

    p = add("logs", logs, _with_id(_parser("logs", "Show a workload's last log lines.")))
    p.add_argument("--tail", type=int, default=50, metavar="N", help="how many lines (50)")
    p.add_argument("--follow", action="store_true", help="keep printing (interrupt to stop)")

    add("events", events, _with_id(_parser("events", "Show a workload's audit trail.")))
    add("spec", spec, _with_id(_parser("spec", "Show a workload's artifact as YAML.")))
    p = add("lock", lock, _with_id(_parser("lock", "Register the artifact (irreversible).")))
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add("deploy", deploy, _with_id(_parser("deploy", "Create a governed deployment.")))
    p.add_argument("--name", help="the deployment's name (default: <workload>-prod)")
    p.add_argument(
        "--importance", default="low", choices=[i.value for i in Importance], help="(low)"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add("invoke", invoke, _parser("invoke", "Send a request to the workload's app."))
    p.add_argument("path", metavar="PATH", help="e.g. / or /predict")
    p.add_argument("--method", default="GET", help="(GET)")
    p.add_argument("--data", metavar="JSON", help="a JSON body")
    p.add_argument("--id", metavar="ID|NAME", help="default: the current workload")

    p = add("delete", delete, _with_id(_parser("delete", "Delete a workload.")))
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = add("panel", panel, _with_id(_parser("panel", "Show the live panel.")))
    p.add_argument("--sidebar", action="store_true", help="in JupyterLab's right sidebar")
    return table


def usage(table: Mapping[str, Subcommand]) -> str:
    """The overview ``%workload`` and ``%workload --help`` print."""
    width = max(len(name) for name in table)
    lines = ["Usage: %workload SUBCOMMAND [ARGS]   (each takes --help)", ""]
    for name, sub in table.items():
        lines.append(f"  {name.ljust(width)}  {sub.parser.description or ''}")
    lines += [
        "",
        "Without an ID, a subcommand acts on the current workload (the last one created or used).",
        "%%artifact [ID] [--restart]: apply the cell's YAML/JSON artifact or container spec.",
    ]
    return "\n".join(lines)
