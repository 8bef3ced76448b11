"""Both readers of process facts (``/proc`` on Linux, psutil elsewhere) tell the same story
about real processes: the identity (pid + start time) survives re-reads and ends with the
process, the group and the environment are the ones it was started with."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from workloadlab.server.runtimes.process import procinfo

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture(params=["proc", "psutil"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which reader the test runs on (both are available on Linux)."""
    monkeypatch.setattr(procinfo, "USE_PROC", request.param == "proc")
    return str(request.param)


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    """A sleeping child in a process group of its own, with a known environment variable."""
    env = {**os.environ, "WORKLOADLAB_PROCINFO_MARK": "marked-42"}
    process = subprocess.Popen(SLEEPER, env=env, process_group=0)
    yield process
    process.kill()
    process.wait()


def test_a_running_process_has_a_stable_identity(
    reader: str, child: subprocess.Popen[bytes]
) -> None:
    stat = procinfo.read_stat(child.pid)
    assert stat is not None
    assert stat.ppid == os.getpid()
    assert stat.pgid == child.pid  # its own group
    assert stat.sid == os.getsid(0)
    assert not stat.exited
    assert procinfo.start_time(child.pid) == stat.start_time
    assert procinfo.is_running(child.pid, stat.start_time)
    assert not procinfo.is_running(child.pid, stat.start_time + 1)  # another process's identity
    assert child.pid in set(procinfo.pids())


def test_an_exited_process_is_not_running_even_before_it_is_reaped(
    reader: str, child: subprocess.Popen[bytes]
) -> None:
    started = procinfo.start_time(child.pid)
    assert started is not None
    child.kill()
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # a zombie until wait() below
    stat = procinfo.read_stat(child.pid)
    assert stat is not None
    assert stat.exited
    assert not procinfo.is_running(child.pid, started)
    child.wait()
    assert procinfo.read_stat(child.pid) is None
    assert procinfo.start_time(child.pid) is None


def test_environment_and_group_members(reader: str, child: subprocess.Popen[bytes]) -> None:
    assert procinfo.environ_value(child.pid, "WORKLOADLAB_PROCINFO_MARK") == "marked-42"
    assert procinfo.environ_value(child.pid, "WORKLOADLAB_NOT_SET_ANYWHERE") is None
    assert procinfo.group_members(child.pid) == [child.pid]
    child.kill()
    child.wait()
    assert procinfo.group_members(child.pid) == []
    assert procinfo.environ_value(child.pid, "WORKLOADLAB_PROCINFO_MARK") is None


def test_both_readers_agree_on_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = []
    for use_proc in (True, False):
        monkeypatch.setattr(procinfo, "USE_PROC", use_proc)
        stats.append(procinfo.read_stat(os.getpid()))
    by_proc, by_psutil = stats
    assert by_proc is not None
    assert by_psutil is not None
    assert (by_proc.ppid, by_proc.pgid, by_proc.sid) == (
        by_psutil.ppid,
        by_psutil.pgid,
        by_psutil.sid,
    )
    assert procinfo.available()
