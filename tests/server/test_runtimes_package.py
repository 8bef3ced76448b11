"""The runtimes package's shape: the docker SDK stays optional, the runtimes stay apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _modules_after(code: str) -> set[str]:
    """The ``workloadlab``/``docker`` modules a fresh interpreter has loaded after ``code``."""
    script = (
        f"{code}\n"
        "import sys\n"
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('workloadlab', 'docker')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return set(result.stdout.split())


def test_server_app_and_the_process_runtime_work_without_the_docker_sdk(tmp_path: Path) -> None:
    modules = _modules_after(
        "import sys\n"
        "sys.modules['docker'] = None  # as if it were not installed\n"
        "import pathlib, workloadlab.server.app\n"
        "from workloadlab.server.runtimes import make_runtime\n"
        "from workloadlab.server.settings import ServerSettings\n"
        f"settings = ServerSettings(data_dir=pathlib.Path({str(tmp_path)!r}), runtime='auto')\n"
        "assert make_runtime(settings).name == 'process'\n"
    )
    assert "workloadlab.server.runtimes.process" in modules
    assert "workloadlab.server.runtimes.container.runtime" not in modules


@pytest.mark.parametrize(("one", "other"), [("process", "container"), ("container", "process")])
def test_a_runtime_never_imports_the_other(one: str, other: str) -> None:
    modules = _modules_after(f"import workloadlab.server.runtimes.{one}")
    assert f"workloadlab.server.runtimes.{one}" in modules
    assert not any(m.startswith(f"workloadlab.server.runtimes.{other}") for m in modules)
