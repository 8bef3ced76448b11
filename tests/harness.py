"""A real local server in a subprocess, and small helpers to drive it over HTTP in tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

FAKE_TOKEN = "wl-test-token-5f3c9a1e7b2d4c6f"
"""A known fake token: tests grep outputs and logs for it."""

FAST_TIMINGS = [
    "--grace-period",
    "3s",
    "--backoff-base",
    "200ms",
    "--backoff-cap",
    "1s",
    "--crash-limit",
    "3",
]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {predicate}")
        time.sleep(interval)


@dataclass
class LocalServer:
    """A ``workloadlab serve`` subprocess on loopback with its own data dir."""

    data_dir: Path
    extra_args: list[str] = field(default_factory=list)
    token: str = FAKE_TOKEN
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    endpoint: str = ""
    pass_fds: tuple[int, ...] = ()
    """File descriptors the server inherits (as from a shell's ``exec 7>file``)."""

    def start(self, timeout: float = 30.0) -> LocalServer:
        """Start the server and wait until its connection file names this process."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "server.json").unlink(missing_ok=True)
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workloadlab",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--token",
                self.token,
                *FAST_TIMINGS,
                *self.extra_args,
            ],
            stdout=log,
            stderr=log,
            start_new_session=True,
            pass_fds=self.pass_fds,
        )
        log.close()
        process = self.process

        def ready() -> dict[str, Any] | None:
            if process.poll() is not None:
                raise AssertionError(f"server exited with {process.returncode}:\n{self.log()}")
            try:
                info: dict[str, Any] = json.loads((self.data_dir / "server.json").read_text())
            except (OSError, ValueError):
                return None
            return info if info.get("pid") == process.pid else None

        info = wait_until(ready, timeout=timeout)
        self.endpoint = info["endpoint"]
        self.port = int(self.endpoint.rsplit(":", 1)[1].split("/")[0])
        return self

    def log(self) -> str:
        """What the server wrote to its log file."""
        with contextlib.suppress(OSError):
            return (self.data_dir / "server.log").read_text(errors="replace")
        return ""

    def client(self, token: str | None = None) -> httpx.Client:
        """A sync HTTP client for the API, authenticated unless told otherwise."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.endpoint, headers=headers, timeout=30.0)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Signal the server and wait for it to exit; return its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """``kill -9`` the server (its workloads keep running)."""
        self.stop(signal.SIGKILL)


@contextlib.contextmanager
def running_server(data_dir: Path, *extra_args: str) -> Iterator[LocalServer]:
    """A started server, stopped (gracefully) afterwards."""
    server = LocalServer(data_dir, list(extra_args)).start()
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()


def hello_spec(
    port: int,
    greeting: str = "hello",
    *,
    env: dict[str, str] | None = None,
    **container: Any,
) -> dict[str, Any]:
    """An inline artifact that runs the example app on ``port`` on the local server."""
    variables = {"GREETING": greeting, **(env or {})}
    primary: dict[str, Any] = {
        "name": "primary",
        "imageUri": "python:3.12-slim",
        "primary": True,
        "port": port,
        "entrypoint": [sys.executable, "-m", "workloadlab.examples.hello"],
        "environmentVars": [{"name": k, "value": v} for k, v in variables.items()],
        "readinessProbe": {"path": "/readyz", "periodSeconds": 1},
    }
    primary.update(container)
    return {
        "name": "hello-artifact",
        "description": "the example app",
        "spec": {"containerGroups": [{"containers": [primary]}]},
    }


def create_workload(client: httpx.Client, name: str, artifact: dict[str, Any]) -> str:
    """Create a workload from an inline artifact (``201`` asserted); its id."""
    answer = client.post("/console/workloads/", json={"name": name, "artifact": artifact})
    assert answer.status_code == 201, answer.text
    workload_id: str = answer.json()["id"]
    return workload_id


def wait_status(
    client: httpx.Client,
    workload_id: str,
    status: str,
    timeout: float = 20.0,
    *,
    collection: str = "/console/workloads",
) -> dict[str, Any]:
    """Poll a workload until it has ``status``; fail if it goes ``errored`` instead.
    ``collection``: where workloads are (``/workloads`` on the current API generation)."""

    def reached() -> dict[str, Any] | None:
        workload: dict[str, Any] = client.get(f"{collection}/{workload_id}/").json()
        if workload["status"] == "errored" and status != "errored":
            raise AssertionError(f"workload errored: {workload['statusDetails']}")
        return workload if workload["status"] == status else None

    result: dict[str, Any] = wait_until(reached, timeout=timeout)
    return result


def processes_marked(data_dir: Path) -> list[int]:
    """Pids of live processes started for workloads of the server using ``data_dir``."""
    from workloadlab.server.runtimes import data_dir_id

    marker = f"WORKLOADLAB_INSTANCE={data_dir_id(data_dir)}/".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(item.startswith(marker) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def kill_marked(data_dir: Path) -> None:
    """Clean up after a test that killed its server: SIGKILL whatever it left."""
    for pid in processes_marked(data_dir):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)  # one that left its group (a daemon)
