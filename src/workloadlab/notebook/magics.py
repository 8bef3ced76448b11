"""``%workload`` and ``%%artifact``: the iterate-then-deploy workflow from notebook cells.

The magic only parses arguments and translates errors: every user mistake or API error becomes a
one-line ``UsageError`` (no traceback), and the subcommands in :mod:`.commands` do the work on
the portal. Configure with ``%config WorkloadMagics.poll_interval = 0.1`` and
``%config WorkloadMagics.timeout = 120``.

This module imports only IPython and traitlets: the client (httpx, pydantic, the models) loads
on the first ``%workload``, which keeps ``%load_ext workloadlab`` fast.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from traitlets import Float

if TYPE_CHECKING:
    from workloadlab.commands import Context, Table
    from workloadlab.notebook.session import Session


@magics_class
class WorkloadMagics(Magics):
    """``%workload SUBCOMMAND`` and ``%%artifact`` (see ``%workload --help``)."""

    poll_interval = Float(
        0.05,
        help="First gap (seconds) between status polls while waiting, on a server that cannot"
        " wait for a change itself (the local server can); it grows 10x.",
    ).tag(config=True)
    timeout = Float(600.0, help="How long (seconds) a magic waits for a status.").tag(config=True)

    def __init__(self, shell: Any = None, session: Session | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._session = session
        self._commands: Table | None = None

    @property
    def session(self) -> Session:
        """The session given at construction, else the kernel's."""
        if self._session is not None:
            return self._session
        from workloadlab.notebook.session import get_session

        return get_session()

    @property
    def subcommands(self) -> Table:
        """Every subcommand by name (built on first use)."""
        if self._commands is None:
            from workloadlab import commands
            from workloadlab.notebook import front

            table = commands.build()
            front.register(table)
            self._commands = table
        return self._commands

    def _context(self) -> Context:
        from workloadlab.client import Polling
        from workloadlab.notebook.front import notebook_context

        session = self.session
        fast = max(0.01, float(self.poll_interval))
        if session.polling.fast != fast:
            session.set_polling(Polling(fast=fast, fast_max=fast * 10))
        return notebook_context(
            session,
            self.shell.user_ns if self.shell is not None else {},
            float(self.timeout),
            _confirm,
        )

    @line_magic
    @no_var_expand  # `$spec` names a variable holding the spec; IPython must not expand it
    def workload(self, line: str) -> Any:
        """Drive workloads: ``%workload create spec.yaml``, ``%workload restart``, ...

        Run ``%workload`` alone for the list of subcommands, ``%workload SUB --help`` for one.
        """
        try:
            argv = shlex.split(line)
        except ValueError as exc:
            raise UsageError(f"%workload: cannot parse the arguments: {exc}") from None
        if not argv or argv[0] in ("-h", "--help", "help"):
            from workloadlab.commands import usage

            print(usage(self.subcommands))
            return None
        name, rest = argv[0], argv[1:]
        sub = self.subcommands.get(name)
        if sub is None:
            known = ", ".join(self.subcommands)
            raise UsageError(f"%workload: unknown subcommand {name!r} (one of: {known})")
        result = _guarded(lambda: sub.run(self._context(), sub.parser.parse_args(rest)))
        return None if sub.shown else result

    @cell_magic
    def artifact(self, line: str, cell: str) -> Any:
        """Apply the cell (YAML or JSON: the whole artifact, or its container spec) to the
        current workload's artifact: ``%%artifact [ID] [--restart]``."""
        from workloadlab import commands

        parser = commands.Parser(
            prog="%%artifact",
            description="Replace the workload's artifact with the cell's YAML/JSON; show what "
            "changed and whether a restart is needed.",
        )
        parser.add_argument("id", nargs="?", metavar="ID|NAME")
        parser.add_argument("--restart", action="store_true", help="restart to apply it")
        commands.preflight.add_force(parser)

        def run() -> Any:
            args = parser.parse_args(shlex.split(line))
            if not cell.strip():
                raise commands.CommandError("%%artifact: the cell is empty")
            return commands.edit_artifact(
                self._context(), args.id, cell, restart_after=args.restart, force=args.force
            )

        return _guarded(run)


def _guarded(action: Callable[[], Any]) -> Any:
    """Run a subcommand; turn user mistakes and API errors into one-line UsageErrors."""
    from workloadlab.commands import HelpShown
    from workloadlab.commands.base import user_message

    try:
        return action()
    except HelpShown:
        return None
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            raise
        raise UsageError(message) from None


def _confirm(question: str) -> bool:
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


__all__ = ["WorkloadMagics"]
