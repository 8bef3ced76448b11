"""``WorkloadLab``: the server extension app that owns the local server's process.

It reaches the server only as a subprocess (``python -m workloadlab serve``) and reads only the
neutral modules below the client and the server (the connection file, drconfig.yaml): it imports
neither layer, so JupyterLab's start loads neither httpx nor FastAPI for it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Enum, Float, Unicode

from workloadlab.connection import (
    DATA_DIR_ENV,
    SERVER_LOG,
    ServerConnection,
    default_data_dir,
    make_private_dir,
    open_private,
    read_connection,
)
from workloadlab.drconfig import default_config_file, read_drconfig
from workloadlab.errors import ConfigError

STOP_SECONDS = 40.0
"""How long JupyterLab's shutdown waits for the server to stop its workloads."""


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
    """Starts the local Workload API server with JupyterLab, and stops it with JupyterLab."""

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

    _process: subprocess.Popen[bytes] | None = None
    _waiter: asyncio.Task[None] | None = None

    @property
    def resolved_data_dir(self) -> Path:
        """The data dir the local server uses."""
        return Path(self.data_dir).expanduser() if self.data_dir else default_data_dir()

    def initialize_settings(self) -> None:
        """Decide, and start the local server in the background (JupyterLab does not wait)."""
        if self.local_server == "never":
            self.log.info("workloadlab: not starting the local server (local_server=never)")
            return
        if self.local_server == "auto" and datarobot_configured():
            self.log.info("workloadlab: DataRobot is configured; not starting the local server")
            return
        data_dir = self.resolved_data_dir
        os.environ[DATA_DIR_ENV] = str(data_dir)  # kernels inherit it and find the server
        running = read_connection(data_dir)
        if running is not None and running.pid_alive():
            self.log.info(
                "workloadlab: using the local server already running at %s (pid %d)",
                running.endpoint,
                running.pid,
            )
            return
        make_private_dir(data_dir)
        log = os.fdopen(open_private(data_dir / SERVER_LOG), "ab")  # the child owns it
        self._process = subprocess.Popen(
            [sys.executable, "-m", "workloadlab", "serve", "--port", "0", "--data-dir", data_dir],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C in the terminal goes to JupyterLab, which stops it
        )
        log.close()
        self._waiter = asyncio.ensure_future(self._announce(data_dir, self._process))

    async def _announce(self, data_dir: Path, process: subprocess.Popen[bytes]) -> None:
        deadline = asyncio.get_running_loop().time() + self.start_timeout
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                self.log.error(
                    "workloadlab: the local server exited (%s); see %s",
                    process.returncode,
                    data_dir / SERVER_LOG,
                )
                return
            found: ServerConnection | None = read_connection(data_dir)
            if found is not None and found.pid == process.pid:
                self.log.info("workloadlab: local Workload API server at %s", found.endpoint)
                return
            await asyncio.sleep(0.05)
        self.log.warning(
            "workloadlab: the local server did not answer within %.0f s", self.start_timeout
        )

    async def stop_extension(self) -> None:
        """Stop the server this extension started; its workloads stop gracefully and come
        back the next time it starts."""
        if self._waiter is not None:
            self._waiter.cancel()
        process = self._process
        if process is None or process.poll() is not None:
            return
        self.log.info("workloadlab: stopping the local server (pid %d)", process.pid)
        process.send_signal(signal.SIGTERM)
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, process.wait), STOP_SECONDS)
        except TimeoutError:
            process.kill()
            process.wait()
        self._process = None
