"""A notebook's current workload survives a kernel restart (``workloadlab.notebook.remembered``):
a new session of the same notebook (``JPY_SESSION_NAME``, which Jupyter keeps across restarts)
finds it again; another notebook, or another endpoint, does not."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

import workloadlab.notebook.session as session_module
from workloadlab.commands.refs import WorkloadRefError, resolve_workload
from workloadlab.notebook import remembered
from workloadlab.notebook.session import get_session

from harness import LocalServer, create_workload, free_port, hello_spec
from magictools import magic


def restart_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a kernel restart leaves: a fresh session (the old one's client closed)."""
    get_session().close()
    monkeypatch.setattr(session_module, "_session", None)


def test_a_restarted_kernel_finds_the_notebooks_current_workload(
    shell: InteractiveShell,
    api: httpx.Client,
    server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKLOADLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/user/one.ipynb")
    workload_id = create_workload(api, "remembered", hello_spec(free_port()))
    try:
        magic(shell, f"use {workload_id}")
        restart_kernel(monkeypatch)
        assert resolve_workload(get_session(), None) == workload_id  # was "no current workload"

        monkeypatch.setenv("JPY_SESSION_NAME", "/home/user/two.ipynb")
        restart_kernel(monkeypatch)
        with pytest.raises(WorkloadRefError, match="no current workload"):
            resolve_workload(get_session(), None)

        saved = json.loads((tmp_path / remembered.FILE_NAME).read_text())
        assert list(saved) == [f"{server.endpoint} /home/user/one.ipynb"]
        assert saved[f"{server.endpoint} /home/user/one.ipynb"]["workload_id"] == workload_id
    finally:
        api.delete(f"/console/workloads/{workload_id}/")


def test_forgetting_and_the_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remembered.remember("/a.ipynb", "http://one/api/v2", "w1", tmp_path)
    remembered.remember("/a.ipynb", "http://two/api/v2", "w2", tmp_path)
    assert remembered.recall("/a.ipynb", "http://one/api/v2", tmp_path) == "w1"
    assert remembered.recall("/a.ipynb", "http://two/api/v2", tmp_path) == "w2"  # per endpoint
    remembered.remember("/a.ipynb", "http://one/api/v2", None, tmp_path)
    assert remembered.recall("/a.ipynb", "http://one/api/v2", tmp_path) is None
    monkeypatch.setattr(remembered, "KEEP", 3)
    for n in range(5):
        remembered.remember(f"/n{n}.ipynb", "http://one/api/v2", f"w{n}", tmp_path)
    kept = json.loads((tmp_path / remembered.FILE_NAME).read_text())
    assert len(kept) == 3
    assert remembered.recall("/n4.ipynb", "http://one/api/v2", tmp_path) == "w4"
    assert remembered.recall("/n0.ipynb", "http://one/api/v2", tmp_path) is None  # oldest out
    (tmp_path / remembered.FILE_NAME).write_text("not json")
    assert remembered.recall("/n4.ipynb", "http://one/api/v2", tmp_path) is None  # no crash


def test_outside_jupyter_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("WORKLOADLAB_DATA_DIR", str(tmp_path))
    session = session_module.Session.__new__(session_module.Session)
    session._client = None
    session._current, session._recalled = None, False
    session.current_workload_id = "w1"
    assert session.current_workload_id == "w1"
    assert not (tmp_path / remembered.FILE_NAME).exists()


def test_a_damaged_file_is_forgotten_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edited by hand, cut short, or nested deeper than a parser goes: what cannot be read is
    not remembered, and the next write replaces it."""
    monkeypatch.setattr(remembered, "KEEP", 3)
    path = tmp_path / remembered.FILE_NAME
    damaged = {
        "http://one/api/v2 /a.ipynb": [1],
        "http://one/api/v2 /b.ipynb": {"workload_id": "w", "at": "yesterday"},
        "http://one/api/v2 /c.ipynb": {"workload_id": 7, "at": None},
        "http://one/api/v2 /d.ipynb": {"workload_id": "wd", "at": 1e400},
    }
    path.write_text(json.dumps(damaged))
    assert remembered.recall("/a.ipynb", "http://one/api/v2", tmp_path) is None
    remembered.remember("/new.ipynb", "http://one/api/v2", "w1", tmp_path)
    assert remembered.recall("/new.ipynb", "http://one/api/v2", tmp_path) == "w1"
    assert list(json.loads(path.read_text())) == ["http://one/api/v2 /new.ipynb"]
    path.write_text("[" * 100_000)
    assert remembered.recall("/new.ipynb", "http://one/api/v2", tmp_path) is None
    remembered.remember("/new.ipynb", "http://one/api/v2", "w2", tmp_path)
    assert remembered.recall("/new.ipynb", "http://one/api/v2", tmp_path) == "w2"


def test_a_data_dir_that_cannot_be_written_loses_only_the_memory(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    remembered.remember("/a.ipynb", "http://one/api/v2", "w1", not_a_dir)
    assert remembered.recall("/a.ipynb", "http://one/api/v2", not_a_dir) is None


def _remember_many(data_dir: str, kernel: int) -> None:
    for n in range(40):
        remembered.remember(f"/k{kernel}-{n}.ipynb", "http://one/api/v2", f"w{n}", Path(data_dir))


def test_two_kernels_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    kernels = [context.Process(target=_remember_many, args=(str(tmp_path), k)) for k in range(2)]
    for kernel in kernels:
        kernel.start()
    for kernel in kernels:
        kernel.join(60)
        assert kernel.exitcode == 0
    kept = json.loads((tmp_path / remembered.FILE_NAME).read_text())
    assert len(kept) == 80
    assert remembered.recall("/k1-39.ipynb", "http://one/api/v2", tmp_path) == "w39"
