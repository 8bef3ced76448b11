"""Helpers of the magics' tests (imported by the test modules)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output

from harness import free_port, hello_spec


def magic(ip: InteractiveShell, line: str) -> Any:
    """Run a line magic; UsageErrors propagate."""
    return ip.run_line_magic("workload", line)


def cell(ip: InteractiveShell, line: str, body: str) -> Any:
    """Run the ``%%artifact`` cell magic."""
    return ip.run_cell_magic("artifact", line, body)


def spec_file(tmp_path: Path, greeting: str = "hello", **container: Any) -> Path:
    """A YAML spec file for the example app on a free port."""
    path = tmp_path / "hello.yaml"
    path.write_text(yaml.safe_dump(hello_spec(free_port(), greeting, **container)))
    return path


def all_text(captured: CapturedIO) -> str:
    """Everything a cell showed: streams and every display's every MIME type."""
    parts = [captured.stdout, captured.stderr]
    for output in captured.outputs:
        parts += [json.dumps(output.data, ensure_ascii=False), json.dumps(output.metadata)]
    return "\n".join(parts)


def refusal(ip: InteractiveShell, line: str) -> tuple[str, str]:
    """Run a magic that must refuse: its one-line message, and what it printed before."""
    with capture_output() as captured, pytest.raises(UsageError) as caught:
        magic(ip, line)
    message = str(caught.value)
    assert "\n" not in message, message
    return message, all_text(captured)
