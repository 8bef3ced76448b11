"""Finding and killing what a workload started, wherever it went, with the runtime in this
process (not a subreaper: escaped processes are found by session, parent chain and marker)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from test_process_runtime import WL, free_port, make_spec

from logsink import Sink
from workloadlab.server.runtimes.process import ProcessRuntime, procinfo
from workloadlab.server.runtimes.process.descendants import Lineage, Orphan, Snapshot, Stray
from workloadlab.server.runtimes.process.instance import ProcessInstance
from workloadlab.server.settings import ServerSettings

from harness import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

APP = str(Path(__file__).parent.parent / "escaping_app.py")


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    runtime = ProcessRuntime(ServerSettings(data_dir=tmp_path / "data"))
    yield runtime
    await runtime.sweep([])
    await runtime.close()


async def _escaper(runtime: ProcessRuntime, tmp_path: Path) -> tuple[ProcessInstance, int, int]:
    """An instance with a double-forked ``setsid`` daemon and a ``setpgid`` child; their pids."""
    pids = tmp_path / "pids"
    pids.mkdir()
    spec = make_spec(
        [sys.executable, APP],
        free_port(),
        ESCAPE="daemon,pgid-child",
        PIDS_DIR=str(pids),
        DAEMON_PORT=str(free_port()),
    )
    sink = Sink()
    instance = await runtime.start(WL, spec, sink)
    await sink.wait_message("hello: serving")
    daemon = int((pids / "daemon").read_text())
    child = int((pids / "pgid-child").read_text())
    return instance, daemon, child


def _running(pid: int) -> bool:
    stat = procinfo.read_stat(pid)
    return stat is not None and not stat.exited


async def test_stop_kills_a_daemon_and_a_setpgid_child_without_a_subreaper(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    instance, daemon, child = await _escaper(runtime, tmp_path)
    daemon_stat = procinfo.read_stat(daemon)
    assert daemon_stat is not None
    assert daemon_stat.sid not in (instance.pid, daemon_stat.ppid), "it left the session"
    child_stat = procinfo.read_stat(child)
    assert child_stat is not None
    assert child_stat.pgid != instance.pgid, "it left the group"

    snapshot = runtime.family.snapshot()
    assert snapshot.owner(daemon) == instance.lineage, "by its marker"
    assert snapshot.owner(child) == instance.lineage, "by its session"

    await instance.stop(5)
    assert not _running(daemon)
    assert not _running(child)


async def test_sweep_keeps_what_a_kept_instance_started_wherever_it_went(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    instance, daemon, child = await _escaper(runtime, tmp_path)
    assert await runtime.sweep([instance]) == []
    assert _running(daemon)
    assert _running(child)

    removed = await runtime.sweep([])  # nothing kept: the instance's processes are strays now
    assert sorted(removed) == sorted(
        f"killed orphan process {pid} of workload {WL}" for pid in (instance.pid, daemon)
    ), "the topmost ones are named"
    assert not _running(daemon)
    assert not _running(child)
    await instance.wait()


def test_a_child_of_a_subreaper_with_no_marker_is_an_orphan_of_whoever_ran_at_its_birth(
    tmp_path: Path,
) -> None:
    # This process stands for the server: a child of it in a session of its own, with no
    # marker, is what a daemon that cleared its environment looks like once reparented to it.
    child = subprocess.Popen(["sleep", "60"], env={}, start_new_session=True)
    try:
        born = procinfo.start_time(child.pid)
        assert born is not None
        earlier = Lineage("a" * 24, 1_000_001, 1_000_001, born - 1)
        later = Lineage("b" * 24, 1_000_002, 1_000_002, born + 1)
        snapshot = Snapshot([earlier, later], "0123456789ab/", orphanage=True)
        owner = snapshot.owner(child.pid)
        assert owner == Orphan(born)
        assert isinstance(owner, Orphan)
        assert owner.could_be_of(earlier)
        assert not owner.could_be_of(later)
        assert Snapshot([], "0123456789ab/", orphanage=False).owner(child.pid) is None
    finally:
        child.kill()
        child.wait()


def test_a_marked_process_of_a_workload_without_instance_is_a_stray(tmp_path: Path) -> None:
    env = {"WORKLOADLAB_INSTANCE": f"0123456789ab/{WL}"}
    child = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    try:
        # Until it has exec'd, the child's environment is still this process's (no marker).
        environ = Path(f"/proc/{child.pid}/environ")
        wait_until(lambda: env["WORKLOADLAB_INSTANCE"].encode() in environ.read_bytes())
        assert Snapshot([], "0123456789ab/", orphanage=False).owner(child.pid) == Stray(WL)
        assert Snapshot([], "ba9876543210/", orphanage=False).owner(child.pid) is None
    finally:
        child.kill()
        child.wait()
