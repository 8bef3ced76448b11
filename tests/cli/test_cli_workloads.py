"""``workloadlab workload …`` and ``workloadlab artifact …`` as scripts use them: a subprocess
each, against the module's real local server (found through its data dir), ``--output json``
parsed, exit codes (0 ok, 1 failed, 2 usage), nothing asked without a terminal."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import yaml

from workloadlab import commands
from workloadlab._version import __version__

from clitools import ok, ok_json, run_cli, start_cli
from harness import FAKE_TOKEN, LocalServer, free_port, hello_spec


def spec_file(tmp_path: Path, name: str, **env: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(hello_spec(free_port(), f"hello from {name}", env=env)))
    return path


def test_version_and_help(server: LocalServer) -> None:
    data_dir = server.data_dir
    assert ok(data_dir, "--version").stdout.strip() == f"workloadlab {__version__}"
    top = ok(data_dir, "--help").stdout
    for group in ("serve", "workload", "artifact", "server", "--output", "Exit codes"):
        assert group in top
    listed = ok(data_dir, "workload", "--help").stdout
    shared = [name for name in commands.build() if name not in ("connect", "use", "sync")]
    for name in shared:
        assert f"\n  {name} " in listed, name
    assert "connect" not in listed.split("Global options")[0]
    create = ok(data_dir, "workload", "create", "--help").stdout
    assert create.startswith("usage: workloadlab workload create")
    assert "--spec-file FILE" in create
    assert "ID|NAME" in ok(data_dir, "workload", "status", "--help").stdout
    for group in ("artifact", "server"):
        assert ok(data_dir, group, "--help").stdout.startswith(("Usage:", "usage:"))


def test_usage_mistakes_exit_2(server: LocalServer) -> None:
    data_dir = server.data_dir
    for args, says in (
        (("workload",), "Usage: workloadlab workload SUBCOMMAND"),
        (("workload", "bogus"), "workloadlab workload: unknown subcommand 'bogus' (one of:"),
        (
            ("workload", "status"),
            "workloadlab workload status: the following arguments are required: ID|NAME",
        ),
        (("workload", "create"), "give SPEC or --spec-file FILE"),
        (("workload", "list", "--bogus"), "unrecognized arguments: --bogus"),
        (("workload", "list", "-o", "yaml"), "--output must be text or json, not 'yaml'"),
        (("--output", "yaml", "workload", "list"), "invalid choice: 'yaml'"),
        (("server", "bogus"), "invalid choice: 'bogus'"),
        (("bogus",), "invalid choice: 'bogus'"),
    ):
        ran = run_cli(data_dir, *args)
        assert ran.code == 2, (args, ran)
        assert says in ran.stderr, (args, ran.stderr)
        assert ran.stdout == ""


def test_a_workload_from_create_to_delete(server: LocalServer, tmp_path: Path) -> None:
    data_dir = server.data_dir
    secret = "sk-live-0123456789abcdef"
    spec = spec_file(tmp_path, "cli-life", API_KEY=secret)
    outputs: list[str] = []

    def js(*args: str) -> object:
        ran = ok(data_dir, *args, "--output", "json")
        outputs.extend([ran.stdout, ran.stderr])
        return ran.json()

    created = js("workload", "create", "--spec-file", str(spec), "--name", "cli-life")
    assert created["name"] == "cli-life"
    assert created["status"] == "running"
    workload_id = created["id"]
    assert workload_id in [w["id"] for w in js("workload", "list")]
    assert workload_id in [w["id"] for w in js("workload", "list", "--status", "running")]
    assert workload_id not in [w["id"] for w in js("workload", "list", "--status", "stopped")]
    assert "cli-life" in ok(data_dir, "workload", "list").stdout
    assert js("workload", "get", "cli-life")["id"] == workload_id
    assert "running" in ok(data_dir, "workload", "status", workload_id).stdout

    artifact = js("workload", "spec", "cli-life")
    env = artifact["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]
    assert {"name": "API_KEY", "value": "***"} in [
        {"name": v["name"], "value": v["value"]} for v in env
    ]
    assert yaml.safe_load(ok(data_dir, "workload", "spec", "cli-life").stdout)["spec"]

    lines = ok(data_dir, "workload", "logs", "cli-life", "--tail", "5", "-o", "json").json_lines()
    assert lines
    assert all("message" in line for line in lines)
    events = js("workload", "events", "cli-life")
    assert "workload.created" in [e["eventType"] for e in events]
    answer = js("workload", "invoke", "/", "--id", "cli-life")
    assert answer["greeting"] == "hello from cli-life"

    assert js("workload", "stop", "cli-life")["status"] == "stopped"
    assert js("workload", "start", "cli-life")["status"] == "running"
    assert js("workload", "restart", "cli-life")["status"] == "running"

    refused = run_cli(data_dir, "workload", "delete", "cli-life")
    assert refused.code == 1
    assert "no terminal to ask on: pass --yes" in refused.stderr
    assert js("workload", "get", workload_id)["id"] == workload_id  # not deleted
    assert ok(data_dir, "--yes", "workload", "delete", "cli-life", "-o", "json").json() is None
    gone = run_cli(data_dir, "workload", "get", "cli-life")
    assert gone.code == 1
    assert gone.stderr.strip() == "unknown workload 'cli-life' (no workload has that id or name)"
    trail = js("workload", "events", workload_id)  # a deleted workload's trail, by its id
    assert "workload.deleted" in [e["eventType"] for e in trail]
    shown = "\n".join(outputs)
    assert secret not in shown
    assert FAKE_TOKEN not in shown


def test_lock_deploy_versions_and_artifacts(server: LocalServer, tmp_path: Path) -> None:
    data_dir = server.data_dir
    spec = spec_file(tmp_path, "cli-gov")
    workload_id = ok_json(data_dir, "workload", "create", str(spec), "--name", "cli-gov")["id"]
    locked = ok_json(data_dir, "workload", "lock", "cli-gov", "--yes")
    assert (locked["status"], locked["version"]) == ("registered", 1)
    versions = ok_json(data_dir, "workload", "versions", "cli-gov")
    assert [v["artifact"]["version"] for v in versions] == [1]
    missing = run_cli(data_dir, "workload", "diff", "1", "2", "--id", "cli-gov")
    assert (missing.code, missing.stderr.strip()) == (
        1,
        "cli-gov's artifact has no version 2 (it has 1)",
    )

    deployment = ok_json(
        data_dir, "workload", "deploy", "cli-gov", "--yes", "--name", "cli-gov-prod"
    )
    assert deployment["name"] == "cli-gov-prod"
    assert deployment["workloadId"] == workload_id
    names = [d["name"] for d in ok_json(data_dir, "workload", "deployments")]
    assert "cli-gov-prod" in names
    first = run_cli(data_dir, "workload", "rollback", "--id", "cli-gov")
    assert first.code == 1
    assert first.stderr.startswith(f"not rolled back: deployment {deployment['id']} runs version 1")
    refused = run_cli(data_dir, "workload", "stop", "cli-gov")
    assert refused.code == 1
    assert refused.stderr.startswith("not stopped: cli-gov backs deployment cli-gov-prod")

    artifact_id = locked["id"]
    assert artifact_id in [a["id"] for a in ok_json(data_dir, "artifact", "list")]
    assert artifact_id in [
        a["id"] for a in ok_json(data_dir, "artifact", "list", "--status", "locked")
    ]
    assert ok_json(data_dir, "artifact", "get", artifact_id)["version"] == 1
    again = run_cli(data_dir, "artifact", "lock", artifact_id, "--yes")
    assert (again.code, again.stderr.strip()) == (
        1,
        "artifact 'hello-artifact' is already registered (version 1)",
    )
    in_use = run_cli(data_dir, "artifact", "delete", artifact_id, "--yes")
    assert in_use.code == 1
    assert "409 from DELETE" in in_use.stderr
    not_an_id = run_cli(data_dir, "artifact", "get", "nope")
    assert (not_an_id.code, not_an_id.stderr.strip()) == (
        1,
        "not an artifact id: 'nope' (24 hex digits)",
    )
    assert ok(data_dir, "workload", "undeploy", "cli-gov-prod", "--yes").stdout.startswith(
        "Undeployed: deployment 'cli-gov-prod'"
    )
    ok(data_dir, "workload", "delete", "cli-gov", "--yes")


def test_logs_follow_streams_until_interrupted(server: LocalServer, tmp_path: Path) -> None:
    data_dir = server.data_dir
    ok(
        data_dir,
        "workload",
        "create",
        str(spec_file(tmp_path, "cli-follow")),
        "--name",
        "cli-follow",
    )
    follower = start_cli(
        data_dir, "workload", "logs", "cli-follow", "--tail", "1", "--follow", "-o", "json"
    )
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())  # the tail
        later = json.loads(follower.stdout.readline())  # followed: the probe's next request
        assert "message" in first
        assert later["timestamp"] >= first["timestamp"]
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=15) == 0
        assert "(stopped following)" in (follower.stderr.read() if follower.stderr else "")
    finally:
        follower.kill()
        follower.wait()
    ok(data_dir, "workload", "delete", "cli-follow", "--yes")
