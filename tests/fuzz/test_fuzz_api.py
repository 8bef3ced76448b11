"""Schemathesis against a real local server, from the OpenAPI document it serves.

Every check (server errors, status codes, content types, response schemas and headers,
positive and negative data, method handling, auth, stateful sequences through the document's
links) on every operation but the invoke proxy's (it forwards to the workloads' own apps), but
for the false positives ``schemathesis.toml`` lists.
Run it alone with ``pytest -m fuzz``.

Workloads the fuzzer creates would run their fuzzed entrypoints: the server gets a ``PATH``
with nothing on it, so a made-up program name fails to start at once (``errored``), and no
fuzzed workload runs anything but, at worst, a program of the server's own virtualenv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import running_server

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(600)]

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 20
"""Examples per operation and phase: about a minute on a 2-core machine."""
SEED = 20261205
"""A fixed seed: the same run every time (change it to explore further)."""


def test_schemathesis_finds_no_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    with monkeypatch.context() as patched:
        patched.setenv("PATH", str(empty))  # only for the server and what it starts
        server = running_server(tmp_path / "data")
        started = server.__enter__()
    try:
        report = tmp_path / "report.json"
        command = [
            str(Path(sys.executable).with_name("st")),
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{started.endpoint}/openapi.json",
            "--header",
            f"Authorization: Bearer {started.token}",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        began = time.monotonic()
        run = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=os.environ)
        elapsed = time.monotonic() - began
        print(run.stdout[-20000:])
        summary = json.loads(report.read_text()) if report.exists() else {}
        counts = {key: summary.get(key) for key in ("operations", "test_cases", "failures")}
        print(f"schemathesis: {elapsed:.0f} s, exit {run.returncode}, {counts}")
        server_log = started.log()
    finally:
        server.__exit__(None, None, None)
    assert "Traceback" not in server_log, server_log[-5000:]
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
