"""``workloadlab workload …`` and ``workloadlab artifact …``: a group of the command layer run
from the shell's arguments, the way the magic runs it from a line (the same parsers, the same
functions, the same messages)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workloadlab.connection import DATA_DIR_ENV
from workloadlab.shell import FAILED, INTERRUPTED, OK, USAGE

if TYPE_CHECKING:  # the command layer (the client, pydantic) loads when a group runs
    from workloadlab.commands import Table

NOTEBOOK_ONLY = ("connect", "use", "sync")
"""Subcommands of the magic that need a notebook's session: a current workload, a prompt for
a token, a live sync that lives as long as the kernel."""
RESULT_PRINTED = ("spec",)
"""Subcommands whose printed text is their result (the artifact's YAML, env values and all):
with ``--output json`` only the JSON (masked) is printed."""
WAIT_SECONDS = 600.0
SHELL_NOTES = (
    "Global options go anywhere: --output text|json, --yes (answer yes to every question).",
    "Exit codes: 0 ok, 1 failed, 2 usage.",
)


@dataclass(frozen=True)
class Options:
    """The shell's options for a group: output mode, yes to every question."""

    output: str
    yes: bool


class OptionError(ValueError):
    """A bad global option after the group's name."""


def split_options(argv: Sequence[str], output: str, yes: bool) -> tuple[list[str], Options]:
    """Take ``--output``/``-o`` and the global ``--yes`` out of a group's arguments (they may
    come anywhere; ``--yes`` answers every question, a subcommand's own ``--yes`` included)."""
    rest: list[str] = []
    items = list(argv)
    while items:
        item = items.pop(0)
        if item in ("--output", "-o") and items:
            output = items.pop(0)
        elif item.startswith("--output="):
            output = item.split("=", 1)[1]
        elif item == "--yes":
            yes = True
        else:
            rest.append(item)
    if output not in ("text", "json"):
        raise OptionError(f"--output must be text or json, not {output!r}")
    return rest, Options(output, yes)


def run_group(table: Table, argv: Sequence[str], options: Options) -> int:
    """Run ``argv`` (``SUBCOMMAND ARGS``) against ``table``; the exit code."""
    from workloadlab.commands import Context, HelpShown, UsageMistake, usage
    from workloadlab.commands.base import user_message
    from workloadlab.shell.output import Output
    from workloadlab.shell.session import ShellSession, TerminalProgress, confirmer

    out = Output(options.output)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(table, SHELL_NOTES), file=sys.stdout if argv else sys.stderr)
        return OK if argv else USAGE
    name, rest = argv[0], list(argv[1:])
    sub = table.get(name)
    if sub is None:
        known = ", ".join(table)
        out.error(f"{table.prog}: unknown subcommand {name!r} (one of: {known})")
        return USAGE
    data_dir = os.environ.get(DATA_DIR_ENV)
    session = ShellSession(Path(data_dir).expanduser() if data_dir else None)
    ctx = Context(
        session=session,
        namespace={},
        timeout=WAIT_SECONDS,
        confirm=confirmer(options.yes),
        show=out.show,
        progress=TerminalProgress,
        emit=out.emit,
    )
    try:
        with out.messages(quiet=out.json and name in RESULT_PRINTED):
            result = sub.run(ctx, sub.parser.parse_args(rest))
    except HelpShown:
        return OK
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            raise
        out.error(message)
        return USAGE if isinstance(exc, UsageMistake) else FAILED
    finally:
        session.close()
    out.result(result, shown=sub.shown, streamed=name == "logs")
    return OK


def _workloads() -> Table:
    from workloadlab import commands

    table = commands.build("workloadlab workload", current=False)
    for name in NOTEBOOK_ONLY:
        table.pop(name, None)
    return table


def _artifacts() -> Table:
    from workloadlab.commands import artifact_group

    return artifact_group.build()


def _runner(build: Callable[[], Table]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            argv, options = split_options(args.rest, args.output, args.yes)
        except OptionError as exc:
            print(exc, file=sys.stderr)
            return USAGE
        return run_group(build(), argv, options)

    return run


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``workloadlab workload`` and ``workloadlab artifact`` (their subcommands are parsed by
    the command layer: ``workloadlab workload --help`` lists them)."""
    for name, build, text in (
        ("workload", _workloads, "create, list, restart, logs, lock, deploy... a workload"),
        ("artifact", _artifacts, "list, get, lock or delete an artifact by id"),
    ):
        parser = commands.add_parser(name, help=text, add_help=False)
        parser.set_defaults(run=_runner(build), rest_of_line=True)
