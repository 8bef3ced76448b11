"""The client's way to the local server: :mod:`workloadlab.launcher` finds it, or starts one
in the background (detached, so it outlives the kernel that started it) under the data dir's
start lock, which the Jupyter extension and the shell CLI take too."""

from __future__ import annotations

from pathlib import Path

from workloadlab import launcher
from workloadlab.connection import ServerConnection


async def ensure_server(
    data_dir: Path,
    *,
    timeout: float = launcher.START_TIMEOUT,  # noqa: ASYNC109
    extra_args: tuple[str, ...] = (),
    by: str = "client",
) -> ServerConnection:
    """A live local server for ``data_dir``: the one running, or a new one started detached."""
    found = await launcher.ensure_server(data_dir, by=by, timeout=timeout, extra_args=extra_args)
    return found.connection
