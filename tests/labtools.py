"""JupyterLab for the tests, started the way ``make lab`` starts it (the ``workloadlab.jupyter``
server extension enabled in the venv's sys-prefix config), headless, on a free port, with its own
temp dirs (config, runtime, data, settings, workspaces, home) and data dir and no DataRobot
configuration unless a test passes one. The ``start_lab`` fixture (``tests/conftest.py``) makes
them and kills whatever they leave running."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness import free_port, kill_marked, wait_until

JUPYTER = Path(sys.executable).parent / "jupyter"
"""The venv's ``jupyter``, as ``make lab`` runs it (``$(BIN)/jupyter lab``)."""


def clean_environ() -> dict[str, str]:
    """The test process's environment without any DataRobot or workloadlab settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATAROBOT_", "WORKLOADLAB_", "JUPYTER"))
    }


def read_server_json(data_dir: Path) -> dict[str, Any] | None:
    """The local server's connection file, or ``None`` while there is none."""
    try:
        info: dict[str, Any] = json.loads((data_dir / "server.json").read_text())
    except (OSError, ValueError):
        return None
    return info


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def parent_pid(pid: int) -> int | None:
    """The parent of ``pid`` (``None`` when it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def serve_children(pid: int) -> list[int]:
    """Live ``workloadlab serve`` processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or parent_pid(int(entry.name)) != pid:
            continue
        with contextlib.suppress(OSError):
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if b"workloadlab" in cmdline and b"serve" in cmdline and pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return found


@dataclass
class Lab:
    """A running JupyterLab (the main process; the server extension runs inside it)."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: Any = field(repr=False, default=None)

    def api(self) -> httpx.Client:
        """An authenticated client for Jupyter's REST API."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=10
        )

    def log(self) -> str:
        """What JupyterLab wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until ``GET /api/status`` answers 200."""
        with self.api() as api:

            def ready() -> bool:
                if self.process.poll() is not None:
                    raise AssertionError(f"JupyterLab exited:\n{self.log()}")
                with contextlib.suppress(httpx.HTTPError):
                    return api.get("/api/status").status_code == 200
                return False

            wait_until(ready, timeout=timeout, interval=0.1)

    def stop(self, timeout: float = 50.0) -> int:
        """Shut down kernels, then SIGTERM JupyterLab (as a terminal's kill would) and wait
        for it: its extensions' ``stop_extension`` run before it exits."""
        if self.process.poll() is None:
            with contextlib.suppress(httpx.HTTPError), self.api() as api:
                for kernel in api.get("/api/kernels").json():
                    api.delete(f"/api/kernels/{kernel['id']}")
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    def serve_children(self) -> list[int]:
        """The ``workloadlab serve`` processes JupyterLab started (its extension's)."""
        return serve_children(self.process.pid)

    def kill(self) -> None:
        """Last-resort cleanup: SIGKILL JupyterLab's process group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class LabFactory:
    """Starts JupyterLabs for one test, sharing its temp dirs; kills leftovers at the end."""

    tmp_path: Path
    data_dir: Path
    started: list[Lab] = field(default_factory=list)

    @staticmethod
    def alive(pid: int) -> bool:
        """Whether ``pid`` exists and is not a zombie."""
        return pid_alive(pid)

    def server_json(self) -> dict[str, Any] | None:
        """The local server's connection file in the data dir (``None`` while there is none)."""
        return read_server_json(self.data_dir)

    def cleanup(self) -> None:
        """Stop every JupyterLab started here, then kill what they leave running (the local
        server, workloads)."""
        for lab in self.started:
            with contextlib.suppress(Exception):
                lab.stop(timeout=45)
            lab.kill()
        kill_local_servers(self.data_dir)
        kill_marked(self.data_dir)

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        root: Path | None = None,
        open_path: str | None = None,
        wait: bool = True,
    ) -> Lab:
        base = self.tmp_path / "jupyter"
        config = base / "config"
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps(
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
            )
        )
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        if root is None:
            root = base / "root"
            root.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(16)
        port = free_port()
        full_env = {
            **clean_environ(),
            "HOME": str(home),  # no ~/.config/datarobot/drconfig.yaml, no ~/.jupyter
            "JUPYTER_CONFIG_DIR": str(config),  # the sys-prefix config (the extension) still loads
            "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
            "JUPYTER_DATA_DIR": str(base / "data"),
            "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            "WORKLOADLAB_DATA_DIR": str(self.data_dir),
            **(env or {}),
        }
        log_path = self.tmp_path / f"jupyterlab-{len(self.started) + 1}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed by Lab.stop/kill
        process = subprocess.Popen(
            [
                str(JUPYTER),
                "lab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={port}",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                *args,
                *([open_path] if open_path else []),
            ],
            env=full_env,
            cwd=root,  # a notebook to open is relative to it, as with `make lab`
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        lab = Lab(f"http://127.0.0.1:{port}", token, process, log_path, log)
        self.started.append(lab)
        if wait:
            lab.wait_ready()
        return lab


def kill_local_servers(data_dir: Path) -> None:
    """SIGKILL a local server still named in ``data_dir``'s connection file."""
    info = read_server_json(data_dir)
    if info is not None and pid_alive(int(info["pid"])):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(int(info["pid"]), signal.SIGKILL)
