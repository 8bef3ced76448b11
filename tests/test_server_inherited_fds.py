"""A workload gets stdin, stdout and stderr, and none of the file descriptors the server itself
inherited (from a shell's ``exec 7>file``, or from Jupyter)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness import LocalServer, create_workload, free_port, hello_spec, wait_status, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


def _open_fds(pid: int) -> dict[int, str]:
    found = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue  # closed meanwhile
    return found


def test_a_workload_inherits_no_descriptor_of_the_server(data_dir: Path, tmp_path: Path) -> None:
    inherited = tmp_path / "inherited-by-the-server"
    fd = os.open(inherited, os.O_WRONLY | os.O_CREAT, 0o600)
    os.set_inheritable(fd, True)
    pid_file = tmp_path / "workload.pid"
    script = f"echo $$ > {pid_file}; exec sleep 300"
    spec = hello_spec(free_port(), entrypoint=["sh", "-c", script], readinessProbe=None)
    server = LocalServer(data_dir, pass_fds=(fd,)).start()
    try:
        os.close(fd)
        assert server.process is not None
        assert str(inherited) in _open_fds(server.process.pid).values(), "the server has it"
        with server.client() as api:
            workload_id = create_workload(api, "fds", spec)
            wait_status(api, workload_id, "running")
            pid = int(wait_until(lambda: pid_file.exists() and pid_file.read_text().strip()))
            fds = _open_fds(pid)
            assert sorted(fds) == [0, 1, 2], fds
            assert fds[0] == os.devnull
            api.post(f"/console/workloads/{workload_id}/stop")
            wait_status(api, workload_id, "stopped")
    finally:
        server.stop()
