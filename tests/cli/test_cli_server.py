"""``workloadlab server status|start|stop`` on a data dir of the test's own: the server they
start, find and stop is the one the client and JupyterLab would (``workloadlab.launcher``);
a stop is graceful and the workloads come back when a server next starts; starters racing make
one server; the registry of JupyterLabs does not count a killed one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from workloadlab.labusers import Registration, live_users

from clitools import WORKLOADLAB, cli_env, kill_servers, ok, ok_json, run_cli, serve_processes
from harness import free_port, hello_spec, processes_marked, wait_until
from labtools import pid_alive


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A data dir; whatever servers and workloads a test leaves on it are killed."""
    data_dir = tmp_path / "data"
    yield data_dir
    kill_servers(data_dir)


def test_stop_is_graceful_and_the_workloads_come_back(home: Path, tmp_path: Path) -> None:
    none = run_cli(home, "server", "status", "-o", "json")
    assert none.code == 1
    assert none.json() == {"running": False, "dataDir": str(home.resolve())}

    started = ok_json(home, "server", "start")
    assert started["started"] is True
    pid = started["pid"]
    assert ok_json(home, "server", "start") == {**started, "started": False}
    spec = tmp_path / "back.yaml"
    spec.write_text(yaml.safe_dump(hello_spec(free_port(), "I come back")))
    workload_id = ok_json(home, "workload", "create", str(spec), "--name", "back")["id"]

    status = ok_json(home, "server", "status")
    assert status["pid"] == pid
    assert status["endpoint"] == started["endpoint"]
    assert status["dataDir"] == str(home.resolve())
    assert status["uptimeSeconds"] >= 0
    assert status["startedBy"]["by"] == "cli"
    assert status["jupyterlabs"] == []
    assert status["workloads"] == {"running": 1, "total": 1}
    text = ok(home, "server", "status").stdout
    for label in ("endpoint", "pid", "uptime", "data dir", "started by", "workloads"):
        assert label in text
    assert "1 running of 1" in text
    assert processes_marked(home) != []

    assert ok_json(home, "server", "stop")["stopped"] == pid
    assert not pid_alive(pid)
    assert not (home / "server.json").exists()
    assert processes_marked(home) == []  # the workload was stopped with it
    assert "workloadlab local server stopped" in (home / "server.log").read_text()
    assert run_cli(home, "server", "status").code == 1
    assert ok_json(home, "server", "stop")["stopped"] is None  # nothing to stop: still ok

    again = ok_json(home, "server", "start")
    assert again["pid"] != pid

    def back() -> bool:
        return bool(ok_json(home, "workload", "get", workload_id)["status"] == "running")

    wait_until(back, timeout=30, interval=0.2)
    assert ok_json(home, "workload", "invoke", "/", "--id", "back")["greeting"] == "I come back"
    ok(home, "server", "stop")


def test_starters_racing_make_one_server(home: Path) -> None:
    starters = [
        subprocess.Popen(
            [str(WORKLOADLAB), "server", "start", "-o", "json"],
            env=cli_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [starter.communicate(timeout=90) for starter in starters]
    assert [starter.returncode for starter in starters] == [0] * 4, outcomes
    answers = [json.loads(out) for out, _ in outcomes]
    assert len({answer["pid"] for answer in answers}) == 1
    assert sum(answer["started"] for answer in answers) == 1
    assert serve_processes(home) == [answers[0]["pid"]]
    ok(home, "server", "stop")
    assert serve_processes(home) == []


def test_the_registry_does_not_count_a_killed_jupyterlab(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from workloadlab.labusers import Registration;"
            " r = Registration(Path(sys.argv[1])); print('ready', flush=True); sys.stdin.read()",
            str(data_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    mine = Registration(data_dir)
    assert live_users(data_dir) == sorted([holder.pid, os.getpid()])
    assert live_users(data_dir, besides=os.getpid()) == [holder.pid]
    holder.send_signal(signal.SIGKILL)  # no chance to clean up
    holder.wait()
    assert live_users(data_dir, besides=os.getpid()) == []
    assert not (data_dir / "users" / f"jupyterlab-{holder.pid}.lock").exists()  # swept
    mine.release()
    assert live_users(data_dir) == []
