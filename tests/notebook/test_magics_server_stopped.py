"""A kernel whose local server was stopped under it (``workloadlab server stop``, from a shell
or another notebook): its next ``%workload`` says what happened and how to get a server back,
and ``%workload connect --local`` finds the running one or starts one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

import workloadlab.notebook.session as session_module
from workloadlab.notebook.session import get_session

from clitools import run_cli
from harness import kill_marked
from magictools import magic


@pytest.fixture
def local_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """A shell whose first ``%workload`` starts the local server of its own data dir."""
    for name in ("DATAROBOT_ENDPOINT", "DATAROBOT_API_TOKEN", "DATAROBOT_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKLOADLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(session_module, "_session", None)
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("workloadlab")
    yield ip
    get_session().close()
    ip.extension_manager.unload_extension("workloadlab")
    run_cli(tmp_path / "data", "server", "stop")
    kill_marked(tmp_path / "data")


def test_a_stopped_server_says_how_to_get_one_back(
    local_shell: InteractiveShell, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    assert magic(local_shell, "list") == []
    stopped = run_cli(data_dir, "server", "stop")
    assert stopped.code == 0, stopped
    assert stopped.stdout.startswith("Stopped the local server"), stopped
    with pytest.raises(UsageError) as caught:
        magic(local_shell, "list")
    said = str(caught.value)
    assert said.startswith("the local server at http://127.0.0.1:"), said
    assert said.endswith("`%workload connect --local` finds the one running or starts one")
    run_cli(data_dir, "server", "start")  # another server, on another port
    magic(local_shell, "connect --local")
    assert magic(local_shell, "list") == []
