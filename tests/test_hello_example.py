"""The example app ``python -m workloadlab.examples.hello``, run as a real subprocess."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HELLO_VARIABLES = ("HOST", "GREETING", "WORKLOAD_ID", "STARTUP_DELAY", "FAIL_HEALTH_AFTER")
Started = Callable[..., tuple[subprocess.Popen[str], int]]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int, path: str, method: str = "GET", body: bytes | None = None, **headers: str
) -> tuple[int, str, bytes]:
    """One HTTP request; returns status, content type and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def wait_listening(process: subprocess.Popen[str], port: int, timeout: float = 10.0) -> None:
    """Poll until ``port`` accepts connections (fail if the process ends first)."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"hello exited with {process.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.fixture
def start_hello(tmp_path: Path) -> Iterator[Started]:
    """Start the example with extra environment variables; kill leftovers at the end."""
    processes: list[subprocess.Popen[str]] = []

    def start(**env: str) -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        base = {k: v for k, v in os.environ.items() if k not in HELLO_VARIABLES}
        full_env = {**base, "PORT": str(port), **env}
        process = subprocess.Popen(
            [sys.executable, "-m", "workloadlab.examples.hello"],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            start_new_session=True,
        )
        processes.append(process)
        wait_listening(process, port)
        return process, port

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=5)


def test_serves_greeting_workload_id_and_path(start_hello: Started) -> None:
    _, port = start_hello(GREETING="howdy", WORKLOAD_ID="0123456789abcdef01234567")

    status, content_type, body = request(port, "/")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {
        "greeting": "howdy",
        "workloadId": "0123456789abcdef01234567",
        "path": "/",
    }
    status, _, body = request(port, "/v1/predict?x=1")
    assert status == 200
    assert json.loads(body)["path"] == "/v1/predict?x=1"
    assert request(port, "/healthz")[::2] == (200, b"ok")


def test_defaults_without_greeting_or_workload_id(start_hello: Started) -> None:
    _, port = start_hello()
    assert json.loads(request(port, "/")[2]) == {
        "greeting": "hello",
        "workloadId": None,
        "path": "/",
    }


def test_echo_returns_body_and_content_type(start_hello: Started) -> None:
    _, port = start_hello()
    status, content_type, body = request(
        port, "/echo", "POST", b'{"a": 1}', **{"Content-Type": "application/x-test"}
    )
    assert (status, content_type, body) == (200, "application/x-test", b'{"a": 1}')


def test_echo_accepts_a_chunked_body(start_hello: Started) -> None:
    _, port = start_hello()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "POST",
            "/echo",
            body=iter([b"hello ", b"chunks"]),
            headers={"Content-Type": "text/plain"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"hello chunks")
    finally:
        connection.close()


def test_readyz_answers_503_until_the_startup_delay_has_passed(start_hello: Started) -> None:
    started = time.monotonic()
    _, port = start_hello(STARTUP_DELAY="0.8")
    assert request(port, "/readyz")[0] == 503
    assert request(port, "/healthz")[0] == 200  # alive while not ready
    while request(port, "/readyz")[0] != 200:
        assert time.monotonic() - started < 10
        time.sleep(0.02)
    assert time.monotonic() - started >= 0.8


def test_healthz_fails_after_fail_health_after(start_hello: Started) -> None:
    _, port = start_hello(FAIL_HEALTH_AFTER="0.3")
    deadline = time.monotonic() + 10
    while request(port, "/healthz")[0] != 500:
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_exits_0_promptly_on_sigterm_and_sigint(start_hello: Started, sig: signal.Signals) -> None:
    process, port = start_hello()
    request(port, "/some/path")
    # A kept-alive idle connection must not hold the shutdown up.
    idle = socket.create_connection(("127.0.0.1", port))
    started = time.monotonic()
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=5)
    idle.close()
    assert process.returncode == 0, stderr
    assert time.monotonic() - started < 2
    lines = stdout.splitlines()
    assert lines[0] == f"hello: serving on 127.0.0.1:{port}"
    assert any('"GET /some/path HTTP/1.1" 200' in line for line in lines)
    assert lines[-1] == f"hello: stopping ({sig.name})"


def test_port_is_required() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    result = subprocess.run(
        [sys.executable, "-m", "workloadlab.examples.hello"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 2
    assert "$PORT is required" in result.stderr


def test_stays_light_no_pydantic_no_http_client() -> None:
    code = (
        "import sys, workloadlab.examples.hello; "
        "print(sorted(m for m in ('pydantic', 'workloadlab.models', 'http.client', 'ssl')"
        " if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=10, check=True
    )
    assert result.stdout.strip() == "[]"
