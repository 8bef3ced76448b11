"""Descendants of a workload that leave its process group (a ``setsid`` double-fork daemon, a
``setpgid`` child) die with it: on stop, on delete, on the server's graceful shutdown, and when
a workload adopted after a ``kill -9`` of the server stops. None of them outlives its workload,
none is left to init, and no zombie piles up in the server."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from workloadlab.server.runtimes.process import procinfo

from harness import (
    LocalServer,
    create_workload,
    free_port,
    hello_spec,
    processes_marked,
    running_server,
    wait_status,
    wait_until,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

APP = str(Path(__file__).with_name("escaping_app.py"))


@dataclass(frozen=True)
class Proc:
    """A process by pid and start time (a pid alone may be reused)."""

    pid: int
    start_time: int

    @property
    def alive(self) -> bool:
        return procinfo.is_running(self.pid, self.start_time)

    @property
    def parent(self) -> int | None:
        stat = procinfo.read_stat(self.pid)
        return stat.ppid if stat is not None and stat.start_time == self.start_time else None


@dataclass
class Escaper:
    """A workload of ``escaping_app.py`` and the ports and pid files of its escapes."""

    pids_dir: Path
    daemon_port: int = field(default_factory=free_port)
    bare_daemon_port: int = field(default_factory=free_port)
    seen: list[Proc] = field(default_factory=list)

    def spec(self, escape: str, *, ignore_term: bool = False) -> dict[str, object]:
        env = {
            "ESCAPE": escape,
            "PIDS_DIR": str(self.pids_dir),
            "DAEMON_PORT": str(self.daemon_port),
            "BARE_DAEMON_PORT": str(self.bare_daemon_port),
        }
        if ignore_term:
            env["IGNORE_TERM"] = "1"
        return hello_spec(free_port(), env=env, entrypoint=[sys.executable, APP])

    def process(self, name: str) -> Proc:
        """The process that wrote ``name`` (waiting for it to do so), while it runs."""
        path = self.pids_dir / name
        pid = int(wait_until(lambda: path.exists() and path.read_text()))
        started = procinfo.start_time(pid)
        assert started is not None, f"{name} ({pid}) is not running"
        self.seen.append(Proc(pid, started))
        return self.seen[-1]

    def processes(self, *names: str) -> dict[str, Proc]:
        found = {name: self.process(name) for name in names}
        for name in names:
            (self.pids_dir / name).unlink()  # the next start writes them again
        return found


@pytest.fixture
def escaper(tmp_path: Path) -> Iterator[Escaper]:
    """An escaping workload's files; whatever of it a failed test leaves running is killed."""
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    made = Escaper(pids_dir)
    yield made
    for process in made.seen:
        if process.alive:
            os.kill(process.pid, signal.SIGKILL)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _zombie_children(pid: int) -> list[int]:
    found = []
    for candidate in procinfo.pids():
        stat = procinfo.read_stat(candidate)
        if stat is not None and stat.ppid == pid and stat.exited:
            found.append(candidate)
    return found


def _assert_all_gone(
    processes: dict[str, Proc], data_dir: Path, escaper: Escaper, server: LocalServer | None
) -> None:
    survivors = {name: p.pid for name, p in processes.items() if p.alive}
    assert survivors == {}, "every descendant dies with its workload"
    assert processes_marked(data_dir) == []
    assert _port_free(escaper.daemon_port)
    assert _port_free(escaper.bare_daemon_port)
    if server is not None:
        assert server.process is not None
        pid = server.process.pid
        wait_until(lambda: _zombie_children(pid) == [], timeout=5)


def _stop(api: httpx.Client, workload_id: str, timeout: float = 20.0) -> None:
    api.post(f"/console/workloads/{workload_id}/stop")
    wait_status(api, workload_id, "stopped", timeout=timeout)


ALL = ("leader", "daemon", "bare-daemon", "pgid-child")


def test_escaped_descendants_belong_to_the_server_not_to_init(
    data_dir: Path, escaper: Escaper
) -> None:
    with running_server(data_dir) as server, server.client() as api:
        workload_id = create_workload(api, "escaper", escaper.spec("daemon,bare-daemon"))
        wait_status(api, workload_id, "running")
        daemons = escaper.processes("daemon", "bare-daemon")
        assert server.process is not None
        assert {name: p.parent for name, p in daemons.items()} == {
            "daemon": server.process.pid,
            "bare-daemon": server.process.pid,
        }, "orphans are reparented to the server (a child subreaper), not to init"
        _stop(api, workload_id)


def test_stop_kills_every_escaped_descendant(data_dir: Path, escaper: Escaper) -> None:
    with running_server(data_dir) as server, server.client() as api:
        workload_id = create_workload(api, "escaper", escaper.spec("daemon,bare-daemon,pgid-child"))
        wait_status(api, workload_id, "running")
        processes = escaper.processes(*ALL)
        assert all(p.alive for p in processes.values())
        assert not _port_free(escaper.daemon_port)

        _stop(api, workload_id)
        _assert_all_gone(processes, data_dir, escaper, server)

        # And the next start is not in the way of the daemon it starts again.
        api.post(f"/console/workloads/{workload_id}/start")
        wait_status(api, workload_id, "running")
        again = escaper.processes(*ALL)
        _stop(api, workload_id)
        _assert_all_gone(again, data_dir, escaper, server)


def test_stop_of_an_app_that_ignores_sigterm_kills_its_setpgid_child(
    data_dir: Path, escaper: Escaper
) -> None:
    with running_server(data_dir) as server, server.client() as api:
        spec = escaper.spec("pgid-child,daemon", ignore_term=True)
        workload_id = create_workload(api, "stubborn", spec)
        wait_status(api, workload_id, "running")
        processes = escaper.processes("leader", "pgid-child", "daemon")

        _stop(api, workload_id, timeout=30)  # after the 3 s grace period
        _assert_all_gone(processes, data_dir, escaper, server)


def test_delete_kills_every_escaped_descendant(data_dir: Path, escaper: Escaper) -> None:
    with running_server(data_dir) as server, server.client() as api:
        workload_id = create_workload(api, "escaper", escaper.spec("daemon,bare-daemon,pgid-child"))
        wait_status(api, workload_id, "running")
        processes = escaper.processes(*ALL)

        assert api.delete(f"/console/workloads/{workload_id}/").status_code == 204
        wait_until(lambda: not any(p.alive for p in processes.values()), timeout=10)
        _assert_all_gone(processes, data_dir, escaper, server)


def test_graceful_shutdown_kills_every_escaped_descendant(data_dir: Path, escaper: Escaper) -> None:
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            spec = escaper.spec("daemon,bare-daemon,pgid-child")
            workload_id = create_workload(api, "escaper", spec)
            wait_status(api, workload_id, "running")
            processes = escaper.processes(*ALL)
    finally:
        assert server.stop(signal.SIGTERM) == 0
    _assert_all_gone(processes, data_dir, escaper, None)

    # The desired state is kept: the next server starts it again, and its shutdown cleans up
    # as well (nothing piles up across restarts).
    with running_server(data_dir) as server, server.client() as api:
        wait_status(api, workload_id, "running")
        again = escaper.processes(*ALL)
    _assert_all_gone(again, data_dir, escaper, None)


def _left_running_by_a_crash(data_dir: Path, escaper: Escaper) -> tuple[str, dict[str, Proc]]:
    """An escaping workload whose server was killed with ``kill -9``; its id and processes."""
    server = LocalServer(data_dir).start()
    with server.client() as api:
        workload_id = create_workload(api, "escaper", escaper.spec("daemon,pgid-child"))
        wait_status(api, workload_id, "running")
        processes = escaper.processes("leader", "daemon", "pgid-child")
    server.kill()
    return workload_id, processes


def test_escaped_descendants_of_an_adopted_workload_die_when_it_stops(
    data_dir: Path, escaper: Escaper
) -> None:
    workload_id, processes = _left_running_by_a_crash(data_dir, escaper)
    assert all(p.alive for p in processes.values()), "a crash of the server stops nothing"

    with running_server(data_dir) as server, server.client() as api:
        wait_status(api, workload_id, "running")
        assert all(p.alive for p in processes.values()), "adopted with its workload"
        _stop(api, workload_id)
        _assert_all_gone(processes, data_dir, escaper, server)


def test_escaped_descendants_of_a_workload_nobody_adopts_are_swept(
    data_dir: Path, escaper: Escaper
) -> None:
    workload_id, processes = _left_running_by_a_crash(data_dir, escaper)
    os.kill(processes["leader"].pid, signal.SIGKILL)  # dies while no server watches
    wait_until(lambda: not processes["leader"].alive)
    assert processes["daemon"].alive
    assert processes["pgid-child"].alive

    with running_server(data_dir) as server, server.client() as api:
        wait_status(api, workload_id, "running")  # started again, with new escapes
        assert not processes["daemon"].alive
        assert not processes["pgid-child"].alive
        escaper.processes(*processes)  # the new ones
        _stop(api, workload_id)
        assert processes_marked(data_dir) == []


def test_the_zombies_of_escaped_descendants_are_reaped(data_dir: Path, escaper: Escaper) -> None:
    with running_server(data_dir) as server, server.client() as api:
        spec = escaper.spec("brief-daemon,brief-daemon,brief-daemon,daemon")
        workload_id = create_workload(api, "brief", spec)
        wait_status(api, workload_id, "running")
        escaper.process("leader")
        assert server.process is not None
        pid = server.process.pid
        wait_until(lambda: _zombie_children(pid) == [], timeout=5)
        _stop(api, workload_id)
        wait_until(lambda: _zombie_children(pid) == [], timeout=5)


def test_a_daemon_without_marker_dies_with_the_only_workload_that_can_own_it(
    data_dir: Path, escaper: Escaper
) -> None:
    """A daemon that cleared its environment is known only as an orphan of the server, born
    while some workloads ran: it dies with the last of those to stop (a workload started after
    its birth cannot own it)."""
    with running_server(data_dir) as server, server.client() as api:
        earlier = create_workload(api, "earlier", hello_spec(free_port()))
        wait_status(api, earlier, "running")
        escaping = create_workload(api, "escaper", escaper.spec("bare-daemon"))
        wait_status(api, escaping, "running")
        bare = escaper.processes("bare-daemon")["bare-daemon"]
        later = create_workload(api, "later", hello_spec(free_port()))
        wait_status(api, later, "running")

        _stop(api, escaping)
        assert bare.alive, "it might be the earlier workload's: the documented limit"
        _stop(api, earlier)
        assert not bare.alive, "the later workload cannot own it"
        assert _port_free(escaper.bare_daemon_port)
        assert api.get(f"/console/workloads/{later}/").json()["status"] == "running"


def test_graceful_shutdown_kills_the_unmarked_daemons_of_workloads_stopping_together(
    data_dir: Path, escaper: Escaper, tmp_path: Path
) -> None:
    (tmp_path / "second").mkdir()
    second = Escaper(tmp_path / "second")
    server = LocalServer(data_dir).start()
    try:
        with server.client() as api:
            first_id = create_workload(api, "first", escaper.spec("bare-daemon"))
            wait_status(api, first_id, "running")
            daemons = [escaper.process("bare-daemon")]
            second_id = create_workload(api, "second", second.spec("bare-daemon"))
            wait_status(api, second_id, "running")
            daemons.append(second.process("bare-daemon"))
    finally:
        escaper.seen.extend(second.seen)
        assert server.stop(signal.SIGTERM) == 0
    assert [d.pid for d in daemons if d.alive] == []
    assert processes_marked(data_dir) == []


def test_reaping_orphans_leaves_the_exit_status_of_the_workload_to_it(api: httpx.Client) -> None:
    # Orphans die (the server reaps them on SIGCHLD) while the workload is up; then it exits.
    script = "for i in 1 2 3; do (sleep 0.1 &); done; sleep 0.5; exit 7"
    spec = hello_spec(free_port(), entrypoint=["sh", "-c", script])
    workload_id = create_workload(api, "exits-7", spec)
    errored = wait_status(api, workload_id, "errored")
    assert errored["statusDetails"]["exitCode"] == 7
