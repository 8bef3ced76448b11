"""ProcessRuntime with real processes: start, logs, stop, exits, adoption and sweeps."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from logsink import Sink
from workloadlab.models import ArtifactSpec
from workloadlab.server.runtimes import Exit, StartFailed, data_dir_id
from workloadlab.server.runtimes.base import describe_exit
from workloadlab.server.runtimes.levels import line_level
from workloadlab.server.runtimes.process import MARKER_ENV, ProcessRuntime, procinfo
from workloadlab.server.runtimes.process.instance import ProcessInstance
from workloadlab.server.settings import ServerSettings

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

HELLO = ["python", "-m", "workloadlab.examples.hello"]
WL = "0123456789abcdef01234567"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_spec(
    entrypoint: list[str] | None, port: int, name: str = "primary", **env: str
) -> ArtifactSpec:
    container: dict[str, Any] = {
        "name": name,
        "imageUri": "example.com/hello:1",
        "primary": True,
        "port": port,
        "environmentVars": [{"name": k, "value": v} for k, v in env.items()],
    }
    if entrypoint is not None:
        container["entrypoint"] = entrypoint
    return ArtifactSpec.model_validate({"containerGroups": [{"containers": [container]}]})


async def get(url: str, within: float = 10.0) -> httpx.Response:
    """GET ``url``, retrying connection errors until the app listens."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        while True:
            try:
                return await client.get(url)
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)


# -- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (0, "exited (status 0)"),
        (3, "exited with status 3"),
        (-9, "killed by signal 9 (SIGKILL)"),
        (-15, "killed by signal 15 (SIGTERM)"),
        (None, "exited (status unknown: adopted after a server restart)"),
    ],
)
def test_describe_exit(code: int | None, message: str) -> None:
    assert describe_exit(code) == message


@pytest.mark.parametrize(
    ("line", "default", "level"),
    [
        ("plain output", "info", "info"),
        ("plain error output", "error", "error"),
        ("WARNING:root:disk almost full", "error", "warning"),
        ("2026-01-01 10:00:00,123 - app - DEBUG - details", "info", "debug"),
        ("INFO:     Uvicorn running on http://127.0.0.1:8080", "error", "info"),
        ("ERROR: it broke", "info", "error"),
        ("error: it broke", "info", "error"),
        ("[warn] careful", "info", "warning"),
        ('{"level": "critical", "msg": "down"}', "info", "critical"),
        ("ts=1 level=debug msg=x", "error", "debug"),
        ("app.py:3: DeprecationWarning: old", "error", "warning"),
        ("Traceback (most recent call last):", "error", "error"),
        ("information is not a level", "error", "error"),
    ],
)
def test_line_level(line: str, default: str, level: str) -> None:
    assert line_level(line, default) == level


def test_data_dir_id_is_stable_and_resolves(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert data_dir_id(tmp_path / "a") == data_dir_id(tmp_path / "a" / ".." / "a")
    assert data_dir_id(tmp_path / "a") != data_dir_id(tmp_path / "b")
    assert len(data_dir_id(tmp_path)) == 12


# -- start, target, environment ---------------------------------------------------------------


async def test_start_serves_on_target_and_stops_cleanly(runtime: ProcessRuntime) -> None:
    port = free_port()
    sink = Sink()
    instance = await runtime.start(WL, make_spec(HELLO, port, GREETING="howdy"), sink)

    assert instance.target == f"http://127.0.0.1:{port}"
    assert instance.port_for(9000) == 9000
    state = instance.state
    assert state["pid"] == state["pgid"] > 0
    assert state["startTime"] == procinfo.start_time(state["pid"])
    assert (state["port"], state["runtime"]) == (port, "process")
    assert set(state["offsets"]) == {"stdout", "stderr"}

    response = await get(instance.target + "/")
    assert response.json() == {"greeting": "howdy", "workloadId": WL, "path": "/"}
    line = await sink.wait_message("hello: serving on")
    assert line == f"hello: serving on 127.0.0.1:{port}"

    started = time.monotonic()
    exit = await instance.stop(grace := 5)
    assert exit == Exit(0, "exited (status 0)")
    assert time.monotonic() - started < grace, "it exited on SIGTERM, before any SIGKILL"
    assert "hello: stopping (SIGTERM)" in sink.messages  # drained before stop returned
    assert await instance.wait() == exit
    assert await instance.stop(5) == exit  # safe to call again


async def test_environment_of_the_process(runtime: ProcessRuntime, tmp_path: Path) -> None:
    script = tmp_path / "env.py"
    script.write_text(
        "import os, sys\n"
        "for name in ('PORT', 'WORKLOAD_ID', 'WORKLOADLAB_INSTANCE', 'PYTHONUNBUFFERED',"
        " 'FROM_SPEC'):\n"
        "    print(f'{name}={os.environ.get(name)}')\n"
        "print(f'executable={os.path.dirname(sys.executable)}')\n"
        "print(f'cwd={os.getcwd()}')\n"
    )
    port = free_port()
    sink = Sink()
    instance = await runtime.start(
        WL, make_spec(["python", str(script)], port, FROM_SPEC="x"), sink
    )
    assert (await instance.wait()).exit_code == 0
    assert sink.messages == [
        f"PORT={port}",
        f"WORKLOAD_ID={WL}",
        f"WORKLOADLAB_INSTANCE={data_dir_id(runtime.settings.data_dir)}/{WL}",
        "PYTHONUNBUFFERED=1",
        "FROM_SPEC=x",
        f"executable={os.path.dirname(sys.executable)}",
        f"cwd={os.getcwd()}",
    ]


async def test_spec_overrides_pythonunbuffered_but_not_port(runtime: ProcessRuntime) -> None:
    port = free_port()
    sink = Sink()
    code = "import os; print(os.environ['PYTHONUNBUFFERED'], os.environ['PORT'])"
    spec = make_spec(["python", "-c", code], port, PYTHONUNBUFFERED="0", PORT="1")
    instance = await runtime.start(WL, spec, sink)
    await instance.wait()
    assert sink.messages == [f"0 {port}"]


# -- logs -------------------------------------------------------------------------------------


async def test_logs_arrive_with_levels_streams_and_offsets(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    code = (
        "import sys\n"
        "print('plain out')\n"
        "print('WARNING: careful')\n"
        "print('DEBUG details', file=sys.stderr)\n"
        "print('plain err', file=sys.stderr)\n"
        'print(\'{"level": "error", "msg": "x"}\')\n'
        "print('caf\\u00e9')\n"
        "sys.stdout.buffer.write(b'bad \\xff byte\\n' + b'x' * 20000 + b'\\n')\n"
        "sys.stdout.write('no newline at the end')\n"
    )
    sink = Sink()
    instance = await runtime.start(WL, make_spec(["python", "-c", code], free_port(), "app"), sink)
    assert await instance.wait() == Exit(0, "exited (status 0)")

    seen = [(line.stream, line.level, line.message[:30]) for line in sink.lines]
    assert sorted(seen) == sorted(
        [
            ("stdout", "info", "plain out"),
            ("stdout", "warning", "WARNING: careful"),
            ("stderr", "debug", "DEBUG details"),
            ("stderr", "error", "plain err"),
            ("stdout", "error", '{"level": "error", "msg": "x"}'),
            ("stdout", "info", "café"),
            ("stdout", "info", "bad \ufffd byte"),
            ("stdout", "info", "x" * 30),
            ("stdout", "info", "no newline at the end"),
        ]
    )
    long_line = next(m for m in sink.messages if m.startswith("xxx"))
    assert len(long_line) < 17 * 1024
    assert long_line.endswith("[line truncated]")
    assert all(line.container_name == "app" for line in sink.lines)
    assert all(line.timestamp.endswith("Z") and "T" in line.timestamp for line in sink.lines)

    logs = settings.logs_dir
    sizes = {s: (logs / f"{WL}.{s}").stat().st_size for s in ("stdout", "stderr")}
    assert sink.states[-1]["offsets"] == sizes
    assert instance.state["offsets"] == sizes
    # Each delivery's state covers exactly the lines delivered so far.
    assert all(state["pid"] == instance.state["pid"] for state in sink.states)


async def test_an_endless_line_is_cut_while_it_is_still_being_written(
    runtime: ProcessRuntime,
) -> None:
    code = (
        "import sys, time\n"
        "sys.stdout.write('y' * 40000); sys.stdout.flush()\n"
        "time.sleep(0.3)\n"
        "print('y' * 100)\n"
        "print('after')\n"
    )
    sink = Sink()
    instance = await runtime.start(WL, make_spec(["python", "-c", code], free_port()), sink)
    await sink.wait_message("yyy")  # delivered before the line has ended
    assert instance.state["offsets"]["stdout"] == 40000
    await instance.wait()
    first, *rest = sink.messages
    assert first == "y" * 16 * 1024 + " [line truncated]"
    assert rest == ["after"]  # the end of the long line was dropped


async def test_fresh_start_truncates_the_log_files(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    for word in ("first", "second"):
        sink = Sink()
        spec = make_spec(["python", "-c", f"print('{word}')"], free_port())
        instance = await runtime.start(WL, spec, sink)
        await instance.wait()
        assert sink.messages == [word]
    assert (settings.logs_dir / f"{WL}.stdout").read_text() == "second\n"


async def test_a_crash_delivers_its_traceback_before_wait_returns(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import sys, traceback\n"
        "print('starting')\n"
        "try:\n"
        "    raise RuntimeError('boom')\n"
        "except RuntimeError:\n"
        "    traceback.print_exc()\n"
        "    sys.exit(3)\n"
    )
    sink = Sink()
    instance = await runtime.start(WL, make_spec(["python", str(script)], free_port()), sink)
    assert await instance.wait() == Exit(3, "exited with status 3")
    stderr = [line for line in sink.lines if line.stream == "stderr"]
    assert stderr[0].message == "Traceback (most recent call last):"
    assert stderr[-1].message == "RuntimeError: boom"
    assert {line.level for line in stderr} == {"error"}


async def test_killed_by_a_signal(runtime: ProcessRuntime) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    instance = await runtime.start(WL, make_spec(["python", "-c", code], free_port()), Sink())
    assert await instance.wait() == Exit(-9, "killed by signal 9 (SIGKILL)")


# -- stopping and process groups --------------------------------------------------------------


async def test_stop_sigkills_a_group_that_ignores_sigterm_after_the_grace_period(
    runtime: ProcessRuntime,
) -> None:
    # The shell ignores TERM, and so does its child (ignored signals stay ignored across exec).
    script = 'trap "" TERM; sleep 60 & echo "child=$!"; wait; wait'
    sink = Sink()
    instance = await runtime.start(WL, make_spec(["sh", "-c", script], free_port()), sink)
    child = int((await sink.wait_message("child=")).split("=")[1])
    child_started = procinfo.start_time(child)
    assert child_started is not None
    child_stat = procinfo.read_stat(child)
    assert child_stat is not None
    assert child_stat.pgid == instance.pid

    grace = 0.5
    started = time.monotonic()
    exit = await instance.stop(grace)
    elapsed = time.monotonic() - started
    assert exit == Exit(-9, "killed by signal 9 (SIGKILL)")
    assert grace <= elapsed < grace + 2
    assert not procinfo.is_running(child, child_started)
    assert not procinfo.is_running(instance.pid, instance.start_time)


async def test_terminate_signals_once_and_stop_counts_the_grace_from_it(
    runtime: ProcessRuntime,
) -> None:
    # Says so on each TERM and carries on: only the SIGKILL at the end of the grace stops it.
    script = 'trap "echo TERM" TERM; echo up; while true; do sleep 0.02; done'
    sink = Sink()
    instance = await runtime.start(WL, make_spec(["sh", "-c", script], free_port()), sink)
    await sink.wait_message("up")
    started = time.monotonic()
    instance.terminate()
    instance.terminate()  # once is enough
    await sink.wait_message("TERM")
    grace = pause = 1.0
    await asyncio.sleep(pause)  # time passing between the two is the point: no event to await
    exit = await instance.stop(grace)
    elapsed = time.monotonic() - started
    assert exit == Exit(-9, "killed by signal 9 (SIGKILL)")
    # Counted from stop(), the grace would end at pause + grace at the earliest.
    assert grace <= elapsed < pause + grace, "the grace counts from terminate()"
    assert sink.messages.count("TERM") == 1


async def test_stop_leaves_no_orphan_of_a_shell_with_a_child(runtime: ProcessRuntime) -> None:
    sink = Sink()
    spec = make_spec(["sh", "-c", 'sleep 60 & echo "child=$!"; wait'], free_port())
    instance = await runtime.start(WL, spec, sink)
    child = int((await sink.wait_message("child=")).split("=")[1])
    child_started = procinfo.start_time(child)
    assert child_started is not None

    started = time.monotonic()
    exit = await instance.stop(grace := 5)
    assert time.monotonic() - started < grace, "the group ended on SIGTERM, before any SIGKILL"
    assert exit.exit_code is not None
    assert exit.exit_code != 0
    assert not procinfo.is_running(child, child_started)
    assert procinfo.group_members(instance.pgid) == []


async def test_when_the_leader_exits_the_rest_of_its_group_is_killed(
    runtime: ProcessRuntime,
) -> None:
    sink = Sink()
    spec = make_spec(["sh", "-c", 'sleep 60 & echo "child=$!"; exit 3'], free_port())
    instance = await runtime.start(WL, spec, sink)
    assert await instance.wait() == Exit(3, "exited with status 3")
    child = int(next(m for m in sink.messages if m.startswith("child=")).split("=")[1])
    assert procinfo.group_members(instance.pgid) == []
    stat = procinfo.read_stat(child)
    assert stat is None or stat.exited


async def test_without_pidfds_exits_are_found_by_polling(
    runtime: ProcessRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "pidfd_open")  # as on kernels before 5.3
    sink = Sink()
    spec = make_spec(["sh", "-c", "echo last words >&2; exit 4"], free_port())
    instance = await runtime.start(WL, spec, sink)
    assert await instance.wait() == Exit(4, "exited with status 4")
    assert sink.messages == ["last words"]

    spec = make_spec(["sh", "-c", 'sleep 60 & echo "child=$!"; wait'], free_port())
    instance = await runtime.start(WL, spec, sink)
    child = int((await sink.wait_message("child=")).split("=")[1])
    child_started = procinfo.start_time(child)
    assert child_started is not None
    assert await instance.stop(5) == Exit(-15, "killed by signal 15 (SIGTERM)")
    assert not procinfo.is_running(child, child_started)


# -- start failures ---------------------------------------------------------------------------


async def test_no_entrypoint_is_a_start_failure(runtime: ProcessRuntime) -> None:
    with pytest.raises(StartFailed, match=r"entrypoint.*imageUri is not run locally"):
        await runtime.start(WL, make_spec(None, free_port()), Sink())


async def test_missing_executable_is_a_start_failure(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    with pytest.raises(StartFailed, match=r"'no-such-program-xyz' was not found on PATH"):
        await runtime.start(WL, make_spec(["no-such-program-xyz", "--serve"], free_port()), Sink())
    missing = str(tmp_path / "bin" / "app")
    with pytest.raises(StartFailed, match=r"'.*/bin/app' does not exist"):
        await runtime.start(WL, make_spec([missing], free_port()), Sink())
    plain = tmp_path / "plain.txt"
    plain.write_text("not a program")
    with pytest.raises(StartFailed, match=r"'.*plain.txt' is not executable"):
        await runtime.start(WL, make_spec([str(plain)], free_port()), Sink())


async def test_an_unrunnable_executable_is_a_start_failure(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x7fELF\x00\x00not really")
    garbage.chmod(0o755)
    with pytest.raises(StartFailed, match=r"cannot run entrypoint executable '.*garbage': "):
        await runtime.start(WL, make_spec([str(garbage)], free_port()), Sink())


async def test_a_port_with_a_listener_is_a_start_failure(runtime: ProcessRuntime) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        message = f"port {port} is already in use (another workload or program is listening on it)"
        with pytest.raises(StartFailed) as failure:
            await runtime.start(WL, make_spec(HELLO, port), Sink())
        assert str(failure.value) == message


async def test_another_workload_of_this_server_on_the_spec_s_port_gets_a_free_one(
    runtime: ProcessRuntime,
) -> None:
    """Two workloads of one spec (a draft's workload and the production workload of the locked
    artifact): the second runs on a free port in ``$PORT`` instead of clashing with the first."""
    port = free_port()
    first = await runtime.start(WL, make_spec(HELLO, port), Sink())
    try:
        assert first.port == port
        assert (await get(f"http://127.0.0.1:{port}/")).status_code == 200
        other = await runtime.start("fedcba9876543210fedcba98", make_spec(HELLO, port), Sink())
        try:
            assert other.port != port
            assert (await get(f"http://127.0.0.1:{other.port}/")).status_code == 200
        finally:
            await other.stop(5)
    finally:
        await first.stop(5)


async def test_a_port_in_time_wait_counts_as_free(runtime: ProcessRuntime) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server side closes first: its port goes to TIME_WAIT
        await asyncio.sleep(0.05)
        client.close()
    instance = await runtime.start(WL, make_spec(HELLO, port), Sink())
    assert (await get(instance.target + "/")).status_code == 200
    await instance.stop(5)


# -- adoption ---------------------------------------------------------------------------------


async def test_a_new_runtime_adopts_a_running_process_and_resumes_its_logs(
    settings: ServerSettings,
) -> None:
    first = ProcessRuntime(settings)
    sink1 = Sink()
    instance = await first.start(WL, make_spec(HELLO, free_port(), "web"), sink1)
    await get(instance.target + "/before")
    await sink1.wait_message('hello: 127.0.0.1 "GET /before')
    state = sink1.states[-1]  # what a supervisor would have stored with the last lines
    await first.close()  # the server is lost; the process keeps running and logging

    await get(instance.target + "/while-nobody-watches")
    second = ProcessRuntime(settings)
    sink2 = Sink()
    try:
        adopted = await second.adopt(WL, state, sink2)
        assert isinstance(adopted, ProcessInstance)
        assert adopted.target == instance.target
        assert (adopted.state["pid"], adopted.state["startTime"]) == (
            state["pid"],
            state["startTime"],
        )
        await sink2.wait_message('hello: 127.0.0.1 "GET /while-nobody-watches')
        await get(adopted.target + "/after")
        await sink2.wait_message('hello: 127.0.0.1 "GET /after')

        assert all(line.container_name == "web" for line in sink2.lines)
        # Resumed at the stored offsets: nothing repeated, nothing lost.
        stdout = (settings.logs_dir / f"{WL}.stdout").read_text().splitlines()
        assert sink1.messages + sink2.messages == stdout

        exit = await adopted.stop(5)
        # The process happens to be this test's child, so its status can be known here; after
        # a real server restart it would not be.
        assert exit.exit_code in (0, None)
        assert sink2.messages[-1] == "hello: stopping (SIGTERM)"
        assert not procinfo.is_running(state["pid"], state["startTime"])
    finally:
        await second.sweep([])
        await second.close()


async def test_adopting_a_process_that_is_not_a_child_learns_of_its_exit(
    runtime: ProcessRuntime, settings: ServerSettings
) -> None:
    # A process started by someone else (as after a server restart): exit status unknown.
    port = free_port()
    env = {**os.environ, "PORT": str(port), MARKER_ENV: runtime.marker(WL)}
    launcher = subprocess.run(  # noqa: ASYNC221 (a short setup step)
        ["sh", "-c", f'{sys.executable} -m workloadlab.examples.hello >/dev/null 2>&1 & echo "$!"'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    )
    pid = int(launcher.stdout)
    started = procinfo.start_time(pid)
    stat = procinfo.read_stat(pid)
    assert stat is not None
    state: dict[str, Any] = {
        "pid": pid,
        "pgid": stat.pgid,
        "startTime": started,
        "port": port,
        "offsets": {},
    }
    adopted = await runtime.adopt(WL, state, Sink())
    assert adopted is not None
    await get(adopted.target + "/")
    assert await adopted.stop(5) == Exit(
        None, "exited (status unknown: adopted after a server restart)"
    )


async def test_adopt_refuses_a_different_start_time_or_a_dead_process(
    runtime: ProcessRuntime,
) -> None:
    instance = await runtime.start(WL, make_spec(["sleep", "60"], free_port()), Sink())
    wrong = {**instance.state, "startTime": instance.state["startTime"] + 1}
    assert await runtime.adopt(WL, wrong, Sink()) is None
    assert await runtime.adopt(WL, {"pid": "garbage"}, Sink()) is None
    await instance.stop(1)
    assert await runtime.adopt(WL, instance.state, Sink()) is None


# -- sweeping ---------------------------------------------------------------------------------


async def test_sweep_kills_marked_orphans_only(runtime: ProcessRuntime, tmp_path: Path) -> None:
    sink = Sink()
    spec = make_spec(["sh", "-c", 'sleep 60 & echo "child=$!"; wait'], free_port())
    kept = await runtime.start(WL, spec, sink)
    kept_child = int((await sink.wait_message("child=")).split("=")[1])

    def spawn(marker: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, MARKER_ENV: marker}
        return subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)

    orphan = spawn(runtime.marker("fedcba9876543210fedcba98"))
    other_server = spawn(f"{data_dir_id(tmp_path / 'elsewhere')}/fedcba9876543210fedcba98")
    try:
        removed = await runtime.sweep([kept])
        assert removed == [
            f"killed orphan process {orphan.pid} of workload fedcba9876543210fedcba98"
        ]
        assert orphan.wait(timeout=2) == -signal.SIGKILL
        assert other_server.poll() is None
        assert procinfo.is_running(kept.pid, kept.start_time)
        child_stat = procinfo.read_stat(kept_child)
        assert child_stat is not None
        assert not child_stat.exited
        assert await runtime.sweep([kept]) == []
    finally:
        other_server.kill()
        other_server.wait()
    await kept.stop(5)


async def test_close_leaves_processes_running(settings: ServerSettings) -> None:
    runtime = ProcessRuntime(settings)
    instance = await runtime.start(WL, make_spec(["sleep", "60"], free_port()), Sink())
    await runtime.close()
    assert procinfo.is_running(instance.pid, instance.start_time)
    os.killpg(instance.pgid, signal.SIGKILL)
    os.waitpid(instance.pid, 0)  # noqa: ASYNC222 (it is dead already)
