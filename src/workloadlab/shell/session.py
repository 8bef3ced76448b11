"""The shell's session and live line: one client on an asyncio loop of the process's own, a
progress line drawn on a terminal, questions asked on a terminal."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from workloadlab.client import AsyncClient
from workloadlab.client.config import datarobot_configured
from workloadlab.client.local import ensure_server
from workloadlab.commands import CommandError
from workloadlab.commands.progress import Progress
from workloadlab.connection import default_data_dir

T = TypeVar("T")
TICK_SECONDS = 0.2


class ShellSession:
    """A client (DataRobot when configured, else the local server, started if needed) and the
    loop it runs on. There is no current workload in a shell: commands name one."""

    current_workload_id: str | None = None

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self._runner = asyncio.Runner()
        self._client: AsyncClient | None = None

    @property
    def client(self) -> AsyncClient:
        """The client, connecting on first use."""
        if self._client is None:
            self._client = self.run(self._connect())
        return self._client

    async def _connect(self) -> AsyncClient:
        if datarobot_configured():
            return AsyncClient()
        connection = await ensure_server(self.data_dir or default_data_dir(), by="cli")
        return AsyncClient(connection.endpoint, connection.token)

    def run(
        self,
        coroutine: Coroutine[Any, Any, T],
        timeout: float | None = None,
        *,
        tick: Callable[[], None] | None = None,
    ) -> T:
        """Run ``coroutine`` to its end (Ctrl-C cancels it and raises KeyboardInterrupt)."""

        async def bounded() -> T:
            task = asyncio.ensure_future(coroutine)
            deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
            while True:
                gap = TICK_SECONDS if tick is not None else None
                if deadline is not None:
                    left = deadline - asyncio.get_running_loop().time()
                    gap = left if gap is None else min(gap, left)
                done, _ = await asyncio.wait([task], timeout=gap)
                if done:
                    return task.result()
                if deadline is not None and asyncio.get_running_loop().time() >= deadline:
                    task.cancel()
                    raise TimeoutError
                if tick is not None:
                    tick()

        return self._runner.run(bounded())

    def connect(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        local: bool = False,
        data_dir: str | None = None,
    ) -> AsyncClient:
        """Not in a shell: the environment or drconfig.yaml says where to connect."""
        raise CommandError("the shell connects as configured: set DATAROBOT_ENDPOINT, or not")

    def close(self) -> None:
        """Close the client and the loop."""
        try:
            if self._client is not None:
                self._runner.run(self._client.aclose())
        finally:
            self._client = None
            self._runner.close()


class TerminalProgress(Progress):
    """The live line on stderr, redrawn in place when stderr is a terminal (else only the
    outcome is printed)."""

    def __init__(self, action: str) -> None:
        super().__init__(action)
        self._live = sys.stderr.isatty()
        self._drawn = False

    def tick(self) -> None:
        """Redraw the line."""
        if self._live:
            sys.stderr.write(f"\r\x1b[K{self.line()}")
            sys.stderr.flush()
            self._drawn = True

    def end(self, text: str) -> None:
        """Clear the live line, then print the outcome."""
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
        print(text, flush=True)


def confirmer(yes: bool) -> Callable[[str], bool]:
    """``--yes``: every question answered yes; else asked on the terminal (no terminal: a
    refusal that says to pass ``--yes``)."""

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise CommandError(f"{question} — no terminal to ask on: pass --yes")
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return confirm
