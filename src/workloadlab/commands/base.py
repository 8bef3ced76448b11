"""What every subcommand shares: the parser that raises, the :class:`Context` (session,
namespace, confirmation, display, waiting with a live line) and the table they are listed in.

Nothing here is the notebook's: the front-end (the magics, the shell CLI) gives the Context its
session (a client and a way to run coroutines), how to show a table, how to ask, how to draw a
live line, and whom to tell of a change (the notebook's open panels).
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from workloadlab.client import AsyncClient, Generation
from workloadlab.commands.progress import Progress, seconds
from workloadlab.commands.refs import Session, WorkloadRefError, resolve_workload
from workloadlab.errors import APIConnectionError, WorkloadErroredError
from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Artifact, Workload


class CommandError(Exception):
    """A user mistake, or a refusal; the message is one line."""


class UsageMistake(CommandError):
    """Arguments the parser refuses (the shell CLI exits with 2 for these, 1 for the rest)."""


def user_message(exc: BaseException) -> str | None:
    """The one line a front-end (the magic, the shell) shows for a user mistake, a refusal or
    an API error; ``None`` for anything else (a bug: let it raise)."""
    from pydantic import ValidationError

    from workloadlab.commands.describe import one_line
    from workloadlab.commands.specs import SpecError
    from workloadlab.errors import WorkloadlabError

    if isinstance(exc, CommandError | SpecError):
        return str(exc)
    if isinstance(exc, WorkloadlabError | ValidationError):
        return one_line(exc)
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    return None


class HelpShown(Exception):
    """``--help`` printed the help; the magic returns nothing."""


class Parser(argparse.ArgumentParser):
    """An argparse parser that raises instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageMistake(f"{self.prog}: {message} (see {self.prog} --help)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            print(message)
        raise HelpShown


def print_text(html: str, text: str) -> None:
    """Show a table as its plain-text twin (a front-end without HTML)."""
    print(text)


def ignore_change(ctx: Context, workload_id: str, deployment: Deployment | None) -> None:
    """Tell no one of a change (a front-end without panels)."""


LOCAL_SOURCE = "local server"
"""How a client's ``config_source`` begins when it talks to the local server of a data dir."""


@dataclass
class Context:
    """What a subcommand may use."""

    session: Session
    namespace: Mapping[str, Any]
    timeout: float
    confirm: Callable[[str], bool]
    show: Callable[[str, str], None] = print_text
    """Shows a table: its HTML and its plain-text twin."""
    progress: Callable[[str], Progress] = Progress
    """A live line for an action (``starting hello``)."""
    changed: Callable[[Context, str, Deployment | None], None] = ignore_change
    """Told that a workload (and maybe a deployment of it) was just changed."""
    emit: Callable[[str, Any], None] = lambda text, item: print(text, flush=True)
    """Shows one item of a stream (a log record) as a line: its text, and the item."""

    @property
    def client(self) -> AsyncClient:
        """The session's client (connecting on first use)."""
        return self.session.client

    def run(self, coroutine: Any, progress: Progress | None = None) -> Any:
        """Run on the portal; redraw ``progress`` while waiting."""
        try:
            self.session.client  # noqa: B018 - connect here: coroutines use the client on the portal
        except BaseException:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never run: no "never awaited" warning under the error
            raise
        try:
            if progress is None:
                return self.session.run(coroutine)
            progress.begin()
            return self.session.run(coroutine, tick=progress.tick)
        except APIConnectionError as exc:
            client = self.session.client
            gone = isinstance(exc.__cause__, httpx.ConnectError)
            if not gone or not client.config_source.startswith(LOCAL_SOURCE):
                raise
            # Stopped under this session (`workloadlab server stop`): it stays stopped until
            # asked for, and a server started since listens on another port.
            raise CommandError(
                f"the local server at {client.endpoint} does not answer (stopped?): "
                "`%workload connect --local` finds the one running or starts one"
            ) from None

    def generation(self) -> Generation:
        """The generation of the Workload API the server speaks (asked once per client)."""
        found: Generation = self.run(self.client.generation())
        return found

    def resolve(self, ref: str | None) -> str:
        """A workload id from an id, a name, or (``None``) the current workload."""
        try:
            return resolve_workload(self.session, ref)
        except WorkloadRefError as exc:
            raise CommandError(str(exc)) from None

    def workload(self, ref: str | None) -> Workload:
        """The workload ``ref`` names (see :meth:`resolve`), as the server has it now."""
        workload: Workload = self.run(self.client.workloads.get(self.resolve(ref)))
        return workload

    def artifact_of(self, workload: Workload) -> Artifact:
        """The workload's artifact, as the server has it now."""
        assert workload.artifact_id is not None
        artifact: Artifact = self.run(self.client.artifacts.get(workload.artifact_id))
        return artifact

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
        progress = self.progress(f"{action} {workload.name}")
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
    """Tell the front-end (an open panel of the workload) that a command just changed it, or
    made ``deployment`` of it."""
    ctx.changed(ctx, workload_id, deployment)


@dataclass(frozen=True)
class Subcommand:
    """A subcommand's parser and function; ``shown``: the function shows its result itself
    (a table), so the magic returns nothing and the shell prints it only as JSON."""

    parser: Parser
    run: Command
    shown: bool = False


class Table(dict[str, Subcommand]):
    """Every subcommand by name, in the order ``%workload --help`` lists them.

    ``prog`` is how the front-end spells the group (``%workload``, ``workloadlab workload``);
    ``current``: whether it has a current workload, so an ``ID|NAME`` may be left out (the
    shell has none: there it is required).
    """

    def __init__(self, prog: str = "%workload", *, current: bool = True) -> None:
        super().__init__()
        self.prog = prog
        self.current = current

    def add(
        self,
        name: str,
        run: Command,
        description: str,
        *,
        with_id: bool = False,
        shown: bool = False,
    ) -> Parser:
        """Register ``run`` as ``%workload NAME``; its parser, for the arguments.
        ``with_id`` adds the ``ID|NAME`` of the workload (default: the current one)."""
        parser = Parser(prog=f"{self.prog} {name}", description=description, add_help=True)
        if with_id:
            if self.current:
                parser.add_argument(
                    "id", nargs="?", metavar="ID|NAME", help="default: the current workload"
                )
            else:
                parser.add_argument("id", metavar="ID|NAME", help="the workload's id or name")
        self[name] = Subcommand(parser, run, shown)
        return parser

    def add_id_option(self, parser: Parser) -> None:
        """``--id ID|NAME`` (optional where there is a current workload)."""
        if self.current:
            parser.add_argument("--id", metavar="ID|NAME", help="default: the current workload")
        else:
            parser.add_argument("--id", metavar="ID|NAME", required=True, help="the workload")


def add_yes(parser: Parser) -> None:
    """``--yes``: do not ask for confirmation."""
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
