"""Which JupyterLabs use the local server of a data dir: a registry robust to ``kill -9``.

Each JupyterLab whose extension uses the local server holds an exclusive ``flock`` on
``<data-dir>/users/jupyterlab-<pid>.lock`` for as long as it runs. The kernel releases a lock
when its holder dies, however it dies, so a file whose lock can be taken is a dead JupyterLab's
(it is removed then), and one whose lock is held is a live one's; a reused pid cannot fool it.
The extension stops the server only when no other live JupyterLab is registered.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from workloadlab.connection import lock_held, make_private_dir, open_private

USERS_DIR = "users"
PREFIX = "jupyterlab-"


class Registration:
    """This process's entry in the registry, held until :meth:`release`."""

    def __init__(self, data_dir: Path, pid: int | None = None) -> None:
        self.pid = os.getpid() if pid is None else pid
        directory = make_private_dir(data_dir / USERS_DIR)
        self.path = directory / f"{PREFIX}{self.pid}.lock"
        # Locked under another name, then renamed: whoever sees the file sees it locked.
        claiming = directory / f".claiming-{self.pid}.lock"
        self._fd: int | None = open_private(claiming, os.O_RDWR)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(claiming, self.path)

    def release(self) -> None:
        """Leave the registry."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def live_users(data_dir: Path, *, besides: int | None = None) -> list[int]:
    """The pids of the live JupyterLabs registered (not ``besides``); dead ones' files are
    removed on the way."""
    directory = data_dir / USERS_DIR
    found: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for entry in sorted(directory.iterdir()):
            pid_text = entry.name.removeprefix(PREFIX).removesuffix(".lock")
            if not entry.name.startswith(PREFIX) or not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if pid != besides and lock_held(entry, remove_if_free=True):
                found.append(pid)
    return sorted(found)
