"""The shell CLI given odd input, as a hostile user gives it: spec files that are binary or a
directory, and the global ``--output json`` where ``lint`` is concerned. Each mistake is one
line on stderr and an exit code, never a traceback; stdout stays empty or valid JSON."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
from pathlib import Path

import yaml

from clitools import WORKLOADLAB, cli_env, kill_servers, run_cli, serve_processes, start_cli
from harness import LocalServer, free_port, hello_spec, wait_until


def test_a_binary_or_directory_spec_file_is_a_one_line_mistake(
    server: LocalServer, tmp_path: Path
) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 8)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    for path, says in (
        (binary, f"cannot read {binary}: not UTF-8 text"),
        (folder, f"spec file is a directory: {folder}"),
    ):
        for output in ("text", "json"):
            ran = run_cli(
                server.data_dir, "workload", "create", "--spec-file", str(path), "-o", output
            )
            assert ran.code == 1, ran
            assert ran.stderr.strip() == says, ran.stderr
            assert ran.stdout == ""
    ran = run_cli(server.data_dir, "lint", str(binary))
    said = f"workloadlab lint: cannot read {binary}: not UTF-8 text"
    assert (ran.code, ran.stderr.strip()) == (2, said)


def test_lint_takes_the_global_output_option_anywhere(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port())))
    for args in (
        ("--output", "json", "lint", str(spec)),
        ("-o", "json", "lint", str(spec)),
        ("lint", str(spec), "-o", "json"),
        ("lint", "-o", "json", str(spec)),
        ("lint", str(spec), "--output=json"),
    ):
        ran = run_cli(tmp_path / "data", *args)
        assert ran.code == 0, (args, ran)
        assert json.loads(ran.stdout)["ok"] is True, args
    text = run_cli(tmp_path / "data", "-o", "json", "lint", str(spec), "--output", "text")
    assert text.stdout.startswith(f"{spec}: "), text


def test_a_data_dir_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    unusable = blocker / "data"
    stop = run_cli(unusable, "server", "stop")  # no server can run there: nothing to stop
    assert (stop.code, stop.stderr) == (0, ""), stop
    assert stop.stdout.strip() == f"No local server is running (data dir {unusable})."
    for args in (
        ("server", "start"),
        ("workload", "list"),
        ("workload", "list", "-o", "json"),
    ):
        ran = run_cli(unusable, *args)
        assert ran.code == 1, (args, ran)
        assert ran.stdout == "", (args, ran)
        lines = ran.stderr.strip().splitlines()
        assert len(lines) == 1, (args, ran.stderr)
        assert f"cannot use {unusable} as the local server's data dir" in lines[0], args


def test_status_and_stop_leave_a_missing_data_dir_missing(tmp_path: Path) -> None:
    missing = tmp_path / "never-made"
    status = run_cli(missing, "server", "status")
    assert status.code == 1
    assert status.stderr.strip() == f"No local server is running (data dir {missing})."
    stop = run_cli(missing, "server", "stop", "-o", "json")
    assert stop.code == 0, stop
    assert json.loads(stop.stdout) == {"stopped": None, "dataDir": str(missing)}
    assert not missing.exists()


def test_smoke_without_a_workload_is_a_usage_mistake_in_the_shell(tmp_path: Path) -> None:
    ran = run_cli(tmp_path / "data", "workload", "smoke", "run")
    kill_servers(tmp_path / "data")  # had it started a server
    assert ran.code == 2, ran
    assert "the following arguments are required: --id" in ran.stderr
    assert "workload use" not in ran.stderr  # the shell has no `use`
    assert not (tmp_path / "data").exists()  # a usage mistake starts no server


def test_ctrl_c_while_server_stop_waits_is_one_line_and_exit_130(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    lock = data_dir / ".start.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # someone else is starting a server: stop waits
        stop = start_cli(data_dir, "server", "stop")
        try:
            wait_until(lambda: _has_open(stop.pid, lock), timeout=30)
            stop.send_signal(signal.SIGINT)
            out, err = stop.communicate(timeout=30)
        finally:
            stop.kill()
    assert stop.returncode == 130, (out, err)
    assert out == ""
    assert err.strip() == "workloadlab server stop: interrupted", err


def _has_open(pid: int, path: Path) -> bool:
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if Path(os.readlink(fd)) == path:
                    return True
    return False


def test_a_hung_server_is_named_not_replaced(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    started = run_cli(data_dir, "server", "start", "-o", "json")
    assert started.code == 0, started
    pid = started.json()["pid"]
    os.kill(pid, signal.SIGSTOP)  # alive, holding the data dir, answering nothing
    try:
        hung = f"the local server (pid {pid}) holds {data_dir} but does not answer"
        status = run_cli(data_dir, "server", "status")
        assert status.code == 1, status
        assert status.stderr.startswith("T" + hung[1:]), status
        for args in (("server", "start"), ("workload", "list")):
            ran = run_cli(data_dir, *args)
            assert ran.code == 1, (args, ran)
            assert hung in ran.stderr, (args, ran.stderr)
            assert "`workloadlab server stop` stops it" in ran.stderr
            assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
            assert serve_processes(data_dir) == [pid]  # no second server was tried
    finally:
        os.kill(pid, signal.SIGCONT)
        stopped = run_cli(data_dir, "server", "stop")
        kill_servers(data_dir)
    assert stopped.code == 0, stopped


def test_invoke_takes_a_body_from_a_file_or_stdin(server: LocalServer, tmp_path: Path) -> None:
    spec = tmp_path / "echo.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port())))
    created = run_cli(server.data_dir, "workload", "create", "--spec-file", str(spec), "-o", "json")
    assert created.code == 0, created
    workload_id = created.json()["id"]
    body = {"rows": ["x" * 100] * 3000}  # ~300 KB: more than one argument of a command may hold
    (tmp_path / "body.json").write_text(json.dumps(body))
    invoke = ("workload", "invoke", "/echo", "--method", "POST", "--id", workload_id, "-o", "json")
    from_file = run_cli(server.data_dir, *invoke, "--data", f"@{tmp_path / 'body.json'}")
    assert from_file.code == 0, from_file.stderr
    assert from_file.json() == body
    done = subprocess.run(
        [str(WORKLOADLAB), *invoke, "--data", "@-"],
        input=json.dumps(body),
        env=cli_env(server.data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == body
    missing = run_cli(server.data_dir, *invoke, "--data", "@/no/such/body.json")
    assert missing.code == 1
    assert missing.stderr.strip() == "--data: cannot read /no/such/body.json: no such file"


def test_invoke_fail_makes_an_error_answer_an_exit_code(
    server: LocalServer, tmp_path: Path
) -> None:
    """An app's 4xx/5xx is shown and exits 0, as curl does; with ``--fail`` it is exit 1 with
    one line and nothing on stdout, so a script can tell a 404 from a 200."""
    spec = tmp_path / "hello.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port())))
    created = run_cli(server.data_dir, "workload", "create", "--spec-file", str(spec), "-o", "json")
    assert created.code == 0, created
    post_root = ("workload", "invoke", "/", "--method", "POST", "--id", created.json()["id"])
    shown = run_cli(server.data_dir, *post_root, "-o", "json")
    assert shown.code == 0, shown
    assert "not found" in shown.json()["detail"]
    failed = run_cli(server.data_dir, *post_root, "--fail", "-o", "json")
    assert failed.code == 1, failed
    assert failed.stdout == ""
    assert failed.stderr.strip() == "the app answered 404 Not Found"
    fine = run_cli(
        server.data_dir, "workload", "invoke", "/", "--fail", "--id", created.json()["id"]
    )
    assert fine.code == 0, fine


def test_the_global_yes_goes_anywhere(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for args in (
        ("workload", "--yes", "list"),
        ("workload", "list", "--yes"),
        ("artifact", "list", "--yes", "-o", "json"),
        ("server", "--yes", "stop"),
        ("server", "stop", "--yes"),
    ):
        ran = run_cli(data_dir, *args)
        if ran.code != 0:
            kill_servers(data_dir)
        assert ran.code == 0, (args, ran)
    run_cli(data_dir, "server", "stop")


def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """``> /dev/full`` (a full disk): exit 1 and one line on stderr, not a traceback."""
    spec = tmp_path / "hello.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port())))
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [str(WORKLOADLAB), "lint", str(spec)],
            stdout=full,
            stderr=subprocess.PIPE,
            env=cli_env(tmp_path / "data"),
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr == "workloadlab: cannot write the output: No space left on device\n"
