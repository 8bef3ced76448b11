"""The command layer: the subcommands of ``%workload`` and of the shell's ``workloadlab
workload``, one small argparse parser and one function each. The magics and the shell CLI are
its two front-ends; nothing here imports IPython.

Each function gets a :class:`Context` (the session, the user's namespace, confirmation and
display, all given by the front-end) and the parsed arguments, does its I/O on the session, and
returns what the magic returns (a model, a list, or ``None``). User mistakes and refusals raise
:class:`CommandError`, which the magic turns into a one-line ``UsageError``.

One module per group: :mod:`.lifecycle` (connect, create, restart, stop, start, delete),
:mod:`.observe` (list, status, logs, events, invoke), :mod:`.artifacts` (spec and the
``%%artifact`` edits), :mod:`.governance` (lock and deploy behind the readiness checklist),
:mod:`.deployments` (list and undeploy), :mod:`.versions` (versions, diff, rollback), :mod:`.sync`
(live sync), :mod:`.smoke` (smoke checks, and their hooks in restart, start, lock and deploy);
:mod:`.base` holds what they share. Helpers: :mod:`.refs` (which workload a user means),
:mod:`.specs` (reading specs), :mod:`.describe` (errors in one line), :mod:`.render` (tables),
:mod:`.progress` (the live line's state), :mod:`.restarting` (how a restart applies a spec).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from workloadlab.commands import (
    artifacts,
    deployments,
    governance,
    lifecycle,
    observe,
    smoke,
    sync,
    versions,
)
from workloadlab.commands.artifacts import edit_artifact
from workloadlab.commands.base import (
    CommandError,
    Context,
    HelpShown,
    Parser,
    Subcommand,
    Table,
    UsageMistake,
)

GROUPS = (lifecycle, observe, artifacts, governance, deployments, versions, sync, smoke)


def build(prog: str = "%workload", *, current: bool = True) -> Table:
    """Every subcommand by name, group by group, spelled ``prog SUBCOMMAND`` (``current``:
    the front-end has a current workload; see :class:`Table`)."""
    table = Table(prog, current=current)
    for group in GROUPS:
        group.register(table)
    return table


MAGIC_NOTES = (
    "Without an ID, a subcommand acts on the current workload (the last one created or used).",
    "%%artifact [ID] [--restart] [--force]: apply the cell's YAML/JSON artifact or container spec.",
)


def usage(table: Table, notes: Sequence[str] = MAGIC_NOTES) -> str:
    """The overview ``%workload`` and ``%workload --help`` print (or the shell's group)."""
    width = max(len(name) for name in table)
    lines = [f"Usage: {table.prog} SUBCOMMAND [ARGS]   (each takes --help)", ""]
    for name, sub in table.items():
        described = textwrap.wrap(sub.parser.description or "", 96 - width)
        lines.append(f"  {name.ljust(width)}  {described[0] if described else ''}")
        lines += [" " * (width + 4) + line for line in described[1:]]
    return "\n".join([*lines, "", *notes])


__all__ = [
    "MAGIC_NOTES",
    "CommandError",
    "Context",
    "HelpShown",
    "Parser",
    "Subcommand",
    "Table",
    "UsageMistake",
    "build",
    "edit_artifact",
    "usage",
]
