"""The shell CLI run as users run it: ``workloadlab …`` in a subprocess of its own, on a data
dir, with no DataRobot configuration; its exit code, stdout and stderr (and stdout as JSON)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import kill_marked
from labtools import clean_environ, pid_alive

WORKLOADLAB = Path(sys.executable).parent / "workloadlab"
"""The venv's console script, as ``pip install`` makes it."""


@dataclass
class Ran:
    """What a run of the CLI did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as one JSON document."""
        return json.loads(self.stdout)

    def json_lines(self) -> list[Any]:
        """stdout as JSON Lines."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run on ``data_dir``."""
    return {**clean_environ(), "WORKLOADLAB_DATA_DIR": str(data_dir), **extra}


def run_cli(data_dir: Path, *args: str, timeout: float = 60.0, **env: str) -> Ran:
    """``workloadlab ARGS`` on ``data_dir`` (stdin is not a terminal: nothing can be asked)."""
    done = subprocess.run(
        [str(WORKLOADLAB), *args],
        env=cli_env(data_dir, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def start_cli(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """``workloadlab ARGS`` on ``data_dir`` left running (stdout and stderr piped), for a test
    that interrupts it."""
    return subprocess.Popen(
        [str(WORKLOADLAB), *args],
        env=cli_env(data_dir),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def ok(data_dir: Path, *args: str, timeout: float = 60.0) -> Ran:
    """A run that must succeed."""
    ran = run_cli(data_dir, *args, timeout=timeout)
    assert ran.code == 0, f"workloadlab {' '.join(args)}: {ran.code}\n{ran.stdout}\n{ran.stderr}"
    return ran


def ok_json(data_dir: Path, *args: str, timeout: float = 60.0) -> Any:
    """A run with ``--output json`` that must succeed: its stdout, parsed."""
    return ok(data_dir, *args, "--output", "json", timeout=timeout).json()


def serve_processes(data_dir: Path) -> list[int]:
    """Live ``workloadlab serve`` processes on ``data_dir`` (whoever started them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not pid_alive(int(entry.name)):
            continue
        with contextlib.suppress(OSError):
            words = (entry / "cmdline").read_bytes().split(b"\0")
            if b"serve" in words and str(data_dir).encode() in words:
                found.append(int(entry.name))
    return found


def kill_servers(data_dir: Path) -> None:
    """SIGKILL every server on ``data_dir`` and what its workloads left (a test's cleanup)."""
    for pid in serve_processes(data_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    kill_marked(data_dir)
