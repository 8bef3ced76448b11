"""The streaming example app ``python -m workloadlab.examples.stream`` on its own, as a real
subprocess: what it refuses to start with, and that it stops cleanly. (Its routes are tested
through the invoke proxy: ``test_server_invoke_stream.py``.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from harness import free_port, wait_until

STREAM_APP = [sys.executable, "-m", "workloadlab.examples.stream"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "$PORT must be a port number"),
        ({"PORT": "70000"}, "$PORT must be a port number"),
        ({"PORT": "8080", "TOKEN_SECONDS": "soon"}, "$TOKEN_SECONDS must be a number"),
    ],
    ids=["no-port", "port-too-large", "bad-pace"],
)
def test_bad_settings_exit_2_saying_why(env: dict[str, str], says: str) -> None:
    base = {k: v for k, v in os.environ.items() if k not in ("PORT", "TOKEN_SECONDS")}
    done = subprocess.run(
        STREAM_APP, env={**base, **env}, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2
    assert says in done.stderr


def test_sigterm_stops_it_with_status_0() -> None:
    port = free_port()
    process = subprocess.Popen(
        STREAM_APP, env={**os.environ, "PORT": str(port)}, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == f"stream: serving on 127.0.0.1:{port}\n"
        process.send_signal(signal.SIGTERM)
        assert wait_until(lambda: process.poll() is not None, timeout=10)
        assert process.returncode == 0
    finally:
        process.kill()
        process.wait()
