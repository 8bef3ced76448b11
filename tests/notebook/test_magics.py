"""``%workload`` and ``%%artifact`` in a real IPython shell against the real local server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.notebook.panel import WorkloadPanel
from workloadlab.notebook.session import get_session

from harness import FAKE_TOKEN, LocalServer, free_port, hello_spec, wait_until
from magictools import all_text, cell, magic, spec_file


def test_load_ext_registers_the_magics(shell: InteractiveShell) -> None:
    assert "workload" in shell.magics_manager.magics["line"]
    assert "artifact" in shell.magics_manager.magics["cell"]
    with capture_output() as captured:
        magic(shell, "")
    for sub in ("create", "restart", "lock", "deploy", "panel", "%%artifact"):
        assert sub in captured.stdout


def test_seed_workflow_in_five_cells(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    path = spec_file(tmp_path, "hello from cell 1")

    # Cell 1: create.
    with capture_output() as captured:
        created = magic(shell, f"create {path} --name seed-magic")
    assert isinstance(created, Workload)
    assert created.status is WorkloadStatus.RUNNING
    assert "✓ seed-magic running after" in all_text(captured)

    # Cell 2: edit the spec in a cell (just the container spec, in YAML).
    artifact = magic(shell, "spec")
    assert isinstance(artifact, Artifact)
    container = artifact.spec.primary.model_dump(mode="json", by_alias=True, exclude_none=True)
    container["environmentVars"] = [{"name": "GREETING", "value": "hello from cell 2"}]
    body = yaml.safe_dump({"containerGroups": [{"containers": [container]}]})
    with capture_output() as captured:
        edited = cell(shell, "", body)
    shown = all_text(captured)
    assert "environmentVars[GREETING].value" in shown
    assert "needs restart" in shown
    assert "hello from cell 2" not in shown, "environment values are not shown"
    assert "%workload restart" in shown
    assert edited.spec.primary.env()["GREETING"] == "hello from cell 2"
    assert magic(shell, "invoke /")["greeting"] == "hello from cell 1"

    # Cell 3: restart applies it.
    with capture_output() as captured:
        restarted = magic(shell, "restart")
    assert restarted.status is WorkloadStatus.RUNNING
    assert "✓ seed-magic running after" in all_text(captured)
    assert magic(shell, "invoke /")["greeting"] == "hello from cell 2"

    # Cell 4: lock.
    locked = magic(shell, "lock --yes")
    assert locked.is_registered
    assert locked.version == 1

    # Cell 5: deploy.
    with capture_output() as captured:
        deployment = magic(shell, "deploy --yes --importance high")
    assert isinstance(deployment, Deployment)
    assert deployment.name == "seed-magic-prod"
    assert deployment.status is WorkloadStatus.RUNNING
    with server.client() as api:
        answer = api.get(f"/endpoints/deployments/{deployment.id}/").json()
        assert answer["greeting"] == "hello from cell 2"
        api.delete(f"/console/deployments/{deployment.id}/")


def test_models_display_as_tables(shell: InteractiveShell, tmp_path: Path) -> None:
    shell.user_ns["spec"] = hello_spec(free_port())
    with capture_output() as captured:
        shell.run_cell("w = %workload create $spec --name shown")
        shell.run_cell("%workload status")
    workload = shell.user_ns["w"]
    assert isinstance(workload, Workload)
    assert captured.stdout.count("shown") >= 1, "the result is shown as a table"
    data, _ = shell.display_formatter.format(workload)
    assert 'class="wl-table"' in data["text/html"]
    assert "running" in data["text/html"]
    assert data["text/plain"].splitlines()[0].split() == ["name", "shown"]
    assert "GREETING" not in data["text/html"] + data["text/plain"]


def test_every_subcommand(shell: InteractiveShell, tmp_path: Path) -> None:
    created = magic(shell, f"create {spec_file(tmp_path)} --name subs --no-wait")
    assert created.status is WorkloadStatus.SUBMITTED
    workload_id = created.id

    with capture_output() as captured:
        listed = magic(shell, "list")
    assert workload_id in [w.id for w in listed]
    assert "subs" in listed._repr_mimebundle_()["text/plain"]

    assert magic(shell, f"use {workload_id}").id == workload_id
    assert magic(shell, "use subs").id == workload_id
    assert magic(shell, "status subs").id == workload_id

    stopped = magic(shell, "stop")
    assert stopped.status is WorkloadStatus.STOPPED
    started = magic(shell, "start")
    assert started.status is WorkloadStatus.RUNNING
    assert magic(shell, "invoke /hello?x=1")["path"] == "/hello?x=1"
    echoed = magic(shell, """invoke /echo --method POST --data '{"a": 1}'""")
    assert echoed == {"a": 1}

    def logged() -> bool:
        with capture_output() as captured:
            magic(shell, "logs --tail 5")
        return "GET /hello?x=1" in captured.stdout

    wait_until(logged)

    with capture_output() as captured:
        magic(shell, "events")
    assert "workload created" in all_text(captured)

    with capture_output() as captured:
        artifact = magic(shell, "spec")
    assert yaml.safe_load(captured.stdout)["spec"]["containerGroups"][0]["containers"][0]["primary"]
    assert artifact.status.value == "draft"

    metadata = cell(shell, "--restart", "name: renamed-artifact\ndescription: now described\n")
    assert metadata.name == "renamed-artifact"
    assert magic(shell, "status").status is WorkloadStatus.RUNNING, "metadata needs no restart"

    with capture_output() as captured:
        magic(shell, "stop --help")
    assert "--no-wait" in captured.stdout

    panel = magic(shell, "panel")
    assert isinstance(panel, WorkloadPanel)
    assert panel.workload_id == workload_id
    assert magic(shell, "panel subs") is panel, "one panel per workload"
    panel.close()

    magic(shell, "delete --yes")
    with pytest.raises(UsageError, match="no current workload"):
        magic(shell, "status")


def test_confirmation_is_asked_for_irreversible_steps(
    shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    magic(shell, f"create {spec_file(tmp_path)} --name careful")
    questions: list[str] = []

    def answer_no(question: str) -> str:
        questions.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", answer_no)
    with capture_output():
        not_locked = magic(shell, "lock")
    assert not not_locked.is_registered
    assert "irreversible" in questions[-1]
    with pytest.raises(UsageError, match="not deployed"):
        magic(shell, "deploy")
    assert "draft" in questions[-1]
    with capture_output():
        magic(shell, "delete")
    assert magic(shell, "status").status is WorkloadStatus.RUNNING

    monkeypatch.setattr("builtins.input", lambda question: "y")
    deployment = magic(shell, "deploy --name careful-prod")
    assert deployment.name == "careful-prod"
    assert magic(shell, "spec").is_registered


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("bogus", "unknown subcommand 'bogus'"),
        ("use no-such-workload", "unknown workload 'no-such-workload'"),
        ("status 0123456789abcdef01234567", "not found"),
        ("create /no/such/spec.yaml", "spec file not found: /no/such/spec.yaml"),
        ("create $missing_variable", "no variable named 'missing_variable'"),
        ("restart --timeout soon", "invalid float value"),
        ("deploy --importance extreme", "invalid choice"),
        ("invoke / --data {nope", "--data is not valid JSON"),
        ("logs --tail 0", "--tail must be between 1 and 1000"),
        ("create 'unterminated", "cannot parse the arguments"),
    ],
)
def test_user_mistakes_are_one_line_usage_errors(
    shell: InteractiveShell, tmp_path: Path, line: str, expected: str
) -> None:
    magic(shell, f"create {spec_file(tmp_path)} --name mistakes --no-wait")
    with pytest.raises(UsageError) as caught:
        magic(shell, line)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    with capture_output() as captured:
        shell.run_cell(f"%workload {line}")
    shown = captured.stdout + captured.stderr
    assert "Traceback" not in shown
    assert expected in shown


def test_invalid_specs_name_the_field(shell: InteractiveShell, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    spec = hello_spec(free_port())
    spec["spec"]["containerGroups"][0]["containers"][0]["port"] = 80
    bad.write_text(yaml.safe_dump(spec))
    with pytest.raises(UsageError) as caught:
        magic(shell, f"create {bad}")
    assert str(caught.value) == (
        "field `spec.containerGroups[0].containers[0].port`: "
        "Input should be greater than or equal to 1024"
    )
    magic(shell, f"create {spec_file(tmp_path)} --name field-errors --no-wait")
    with pytest.raises(UsageError, match=r"field `spec.containerGroups\[0\].containers`: "):
        cell(shell, "", "containerGroups:\n- containers:\n  - imageUri: x\n    primary: true\n")
    with pytest.raises(UsageError, match="cannot read the cell at line"):
        cell(shell, "", "name: [unclosed\n")


def test_errored_workloads_say_why_in_one_line(shell: InteractiveShell, tmp_path: Path) -> None:
    failing = spec_file(
        tmp_path, entrypoint=["sh", "-c", "echo 'ERROR: missing weights' >&2; exit 4"]
    )
    with pytest.raises(UsageError) as caught:
        magic(shell, f"create {failing} --name doomed")
    message = str(caught.value)
    assert "went errored" in message
    assert "status 4" in message
    assert "last log line: ERROR: missing weights" in message
    assert "\n" not in message


def test_registered_artifact_edits_are_refused_in_one_line(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    magic(shell, f"create {spec_file(tmp_path)} --name frozen")
    magic(shell, "lock --yes")
    container = magic(shell, "spec").spec.primary.to_wire()
    container["environmentVars"] = [{"name": "GREETING", "value": "changed"}]
    with pytest.raises(UsageError) as caught:
        cell(shell, "", yaml.safe_dump({"containerGroups": [{"containers": [container]}]}))
    assert "artifact is registered (403" in str(caught.value)


@pytest.mark.slow
def test_ctrl_c_during_restart_cancels_the_wait_cleanly(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    path = spec_file(tmp_path, env={"STARTUP_DELAY": "1.5"})
    created = magic(shell, f"create {path} --name interrupted")
    session = get_session()

    def interrupt_once_stopping() -> None:
        with server.client() as api:
            wait_until(
                lambda: any(
                    event["eventType"] == "workload.stopped"
                    for event in api.get(f"/console/workloads/{created.id}/events").json()["data"]
                ),
                timeout=20,
            )
        import _thread

        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_stopping, daemon=True).start()
    began = time.monotonic()
    with capture_output() as captured, pytest.raises(KeyboardInterrupt):
        magic(shell, "restart")
    assert time.monotonic() - began < 10
    assert "stopped waiting after" in all_text(captured)
    pending = session.run(_other_tasks())
    assert pending == [], "the restart's coroutine was cancelled and unwound"
    # The server carries on with the start; the magics still work afterwards.
    assert magic(shell, "start").status is WorkloadStatus.RUNNING


async def _other_tasks() -> list[str]:
    import asyncio

    current = asyncio.current_task()
    return [t.get_name() for t in asyncio.all_tasks() if t is not current and not t.done()]


def test_config_poll_interval(shell: InteractiveShell) -> None:
    shell.run_line_magic("config", "WorkloadMagics.poll_interval = 0.2")
    assert shell.run_line_magic("config", "WorkloadMagics.poll_interval") == 0.2
    magic(shell, "list")  # the next magic polls at the new pace
    assert get_session().polling.fast == pytest.approx(0.2)
    assert get_session().client.workloads.polling.fast == pytest.approx(0.2)
    shell.run_line_magic("config", "WorkloadMagics.poll_interval = 0.05")


def test_connect(shell: InteractiveShell, server: LocalServer) -> None:
    with capture_output() as captured:
        magic(shell, f"connect --endpoint {server.endpoint}")
    assert f"Connected to {server.endpoint}" in captured.stdout
    with pytest.raises(UsageError, match="either --local or --endpoint"):
        magic(shell, f"connect --local --endpoint {server.endpoint}")


def test_the_token_never_shows(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    assert server.token == FAKE_TOKEN
    cells = [
        f"%workload create {spec_file(tmp_path)} --name secretive",
        "%workload status",
        "%workload list",
        "%workload events",
        "%workload logs",
        "%workload spec",
        "%workload status 0123456789abcdef01234567",
        f"%workload connect --endpoint {server.endpoint}",
        "from workloadlab.notebook.session import get_session; get_session()",
        "get_session().client",
        "%workload delete secretive --yes",
    ]
    with capture_output() as captured:
        for source in cells:
            shell.run_cell(source, store_history=True)
    shown = all_text(captured)
    assert "secretive" in shown
    assert FAKE_TOKEN not in shown
    history = "\n".join(
        str(entry) for entry in shell.history_manager.get_range(output=True, raw=False)
    )
    assert FAKE_TOKEN not in history
    assert FAKE_TOKEN not in repr(get_session().client)
