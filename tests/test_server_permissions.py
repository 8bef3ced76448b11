"""The data dir holds the API token and the workloads' secrets: other local users read nothing.

The data dir and ``logs/`` are ``0700`` and every file the server keeps there ``0600``
(database, WAL, SHM, lock, token, connection file, logs), whatever the umask, and a data dir
left readable by an older version is made private when the server starts.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from harness import create_workload, free_port, hello_spec, running_server, wait_status


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _modes(data_dir: Path) -> dict[str, int]:
    """``relative path: permission bits`` of the data dir, everything in it, and itself."""
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        found[str(path.relative_to(data_dir))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _assert_private(data_dir: Path) -> None:
    modes = _modes(data_dir)
    expected_files = {
        "workloadlab.sqlite3",
        "workloadlab.sqlite3-wal",
        "workloadlab.sqlite3-shm",
        "server.lock",
        "server.json",
        "server.log",
        "logs",
    }
    assert expected_files <= set(modes), sorted(modes)
    assert any(name.startswith("logs/") for name in modes), "no workload log files to check"
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (data_dir / name).is_dir() else 0o600)
    }
    assert wrong == {}


def _run_a_workload(data_dir: Path) -> None:
    with running_server(data_dir) as server, server.client() as api:
        workload_id = create_workload(api, "private", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        api.get(f"/endpoints/workloads/{workload_id}/hello")  # a log line
        _assert_private(data_dir)
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202


def test_a_new_data_dir_is_private_even_with_an_open_umask(data_dir: Path) -> None:
    with _umask(0):
        _run_a_workload(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_data_dir_an_older_version_left_readable_is_made_private_at_start(
    data_dir: Path,
) -> None:
    _run_a_workload(data_dir)
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (data_dir / "token").write_text("an older server's token\n")
    (data_dir / "token").chmod(0o644)
    with running_server(data_dir) as server, server.client() as api:
        modes = _modes(data_dir)
        assert modes["."] == 0o700
        assert modes["logs"] == 0o700
        assert {name: oct(mode) for name, mode in modes.items() if mode & 0o077} == {}
        assert api.get("/console/workloads/").status_code == 200


def test_a_restart_makes_a_workloads_log_files_private_again(data_dir: Path) -> None:
    """Log files reopened by a start (emptied) are ``0600`` even if something widened them."""
    with running_server(data_dir) as server, server.client() as api:
        workload_id = create_workload(api, "reopened", hello_spec(free_port()))
        wait_status(api, workload_id, "running")
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
        wait_status(api, workload_id, "stopped")
        logs = sorted((data_dir / "logs").glob(f"{workload_id}.*"))
        assert logs, "the workload wrote no log files"
        for path in logs:
            path.chmod(0o644)
        assert api.post(f"/console/workloads/{workload_id}/start").status_code == 202
        wait_status(api, workload_id, "running")
        assert {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in logs} == {
            path.name: "0o600" for path in logs
        }
        assert api.post(f"/console/workloads/{workload_id}/stop").status_code == 202
