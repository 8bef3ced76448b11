"""``WorkloadLab``: the server extension that starts the local server with JupyterLab, and
stops it with the last JupyterLab that uses it.

Starting goes through :mod:`workloadlab.launcher` (the start lock the client and the CLI take
too), so JupyterLab and a kernel starting at once make one server. At shutdown JupyterLab stops
the server only when (1) it was started for a JupyterLab (by one, or by a kernel of one:
``starter.json``), not by hand or by a script, and (2) no other live JupyterLab uses it
(:mod:`workloadlab.labusers`: each holds a lock file in the data dir while it runs). The check
and the stop happen under the start lock, so a JupyterLab arriving meanwhile either is seen or
starts a fresh server once the stop is over.

It reaches the server only as a subprocess (``python -m workloadlab serve``) and reads only the
neutral modules below the client and the server (the connection file, drconfig.yaml, the
launcher): it imports neither layer, so JupyterLab's start loads neither httpx nor FastAPI.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Enum, Float, Unicode

from workloadlab import launcher
from workloadlab.connection import DATA_DIR_ENV, SERVER_LOG, ServerConnection, default_data_dir
from workloadlab.drconfig import default_config_file, read_drconfig
from workloadlab.errors import ConfigError
from workloadlab.labusers import Registration, live_users


def datarobot_configured() -> bool:
    """Whether the user pointed workloadlab at DataRobot (env or drconfig.yaml)."""
    if os.environ.get("DATAROBOT_ENDPOINT"):
        return True
    path = default_config_file()
    if not path.is_file():
        return False
    try:
        return "endpoint" in read_drconfig(path)
    except ConfigError:
        return False


class WorkloadLab(ExtensionApp):
    """Starts the local Workload API server with JupyterLab (or uses the one running), and
    stops it with the last JupyterLab that uses it (see the module's docstring)."""

    name = "workloadlab"
    description = "Starts workloadlab's local Workload API server with Jupyter."

    local_server = Enum(
        ["auto", "always", "never"],
        default_value="auto",
        help="Start the local server: auto (unless DataRobot is configured), always, never.",
    ).tag(config=True)
    data_dir = Unicode(
        "", help="The local server's data dir ($WORKLOADLAB_DATA_DIR, else the user data dir)."
    ).tag(config=True)
    start_timeout = Float(30.0, help="Seconds to wait for the local server to answer.").tag(
        config=True
    )

    _registration: Registration | None = None
    _waiter: asyncio.Task[None] | None = None

    @property
    def resolved_data_dir(self) -> Path:
        """The data dir the local server uses."""
        return Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()

    def initialize_settings(self) -> None:
        """Decide, register as a user, and find or start the local server in the background
        (JupyterLab does not wait for it)."""
        if self.local_server == "never":
            self.log.info("workloadlab: not starting the local server (local_server=never)")
            return
        if self.local_server == "auto" and datarobot_configured():
            self.log.info("workloadlab: DataRobot is configured; not starting the local server")
            return
        data_dir = self.resolved_data_dir
        os.environ[DATA_DIR_ENV] = str(data_dir)  # kernels inherit it and find the server
        os.environ[launcher.JUPYTERLAB_PID_ENV] = str(os.getpid())  # a server they start is ours
        try:
            self._registration = Registration(data_dir)
        except OSError as exc:
            unusable = "workloadlab: cannot use %s as the local server's data dir: %s"
            self.log.error(unusable, data_dir, exc)
            return
        self._waiter = asyncio.ensure_future(self._find_or_start(data_dir))

    async def _find_or_start(self, data_dir: Path) -> None:
        try:
            found = await launcher.ensure_server(
                data_dir, by="jupyterlab", timeout=self.start_timeout
            )
        except ConfigError as exc:
            log = data_dir / SERVER_LOG
            self.log.error("workloadlab: the local server did not start: %s (see %s)", exc, log)
            return
        if found.process is None:
            self.log.info(
                "workloadlab: using the local server already running at %s (pid %d)",
                found.connection.endpoint,
                found.connection.pid,
            )
        else:
            self.log.info("workloadlab: local Workload API server at %s", found.connection.endpoint)

    def _ours_to_stop(self, data_dir: Path, connection: ServerConnection) -> bool:
        starter = launcher.read_starter(data_dir, connection.pid)
        if starter is None or starter.jupyterlab is None:
            who = f"by {starter.describe()}" if starter else "by hand (workloadlab serve)"
            self.log.info("workloadlab: leaving the local server running (started %s)", who)
            return False
        others = live_users(data_dir, besides=os.getpid())
        if others:
            pids = ", ".join(str(pid) for pid in others)
            self.log.info("workloadlab: leaving the local server running for JupyterLab %s", pids)
            return False
        self.log.info("workloadlab: stopping the local server (pid %d)", connection.pid)
        return True

    async def stop_extension(self) -> None:
        """Stop the local server if it is JupyterLab's and no other JupyterLab uses it; its
        workloads stop gracefully and come back the next time a server starts."""
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
        registration, self._registration = self._registration, None
        if registration is None:
            return
        data_dir = self.resolved_data_dir
        try:
            await launcher.stop_server(
                data_dir, only_if=lambda connection: self._ours_to_stop(data_dir, connection)
            )
        finally:
            registration.release()
