"""Lock and deploy only what runs: ``%workload lock`` and ``%workload deploy`` print the
checklist and refuse, in one line naming the failed check, what would lock or deploy a spec
that is not the one running; ``--restart`` applies the saved spec first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.models import Deployment, WorkloadStatus
from workloadlab.models.neutral import Artifact

from harness import LocalServer
from magictools import all_text, cell, magic, refusal, spec_file


def edit_greeting(ip: InteractiveShell, greeting: str) -> Artifact:
    """Save a spec change with ``%%artifact`` and no restart."""
    artifact = magic(ip, "spec")
    container = artifact.spec.primary.model_dump(mode="json", by_alias=True, exclude_none=True)
    container["environmentVars"] = [{"name": "GREETING", "value": greeting}]
    with capture_output():
        edited: Artifact = cell(
            ip, "", yaml.safe_dump({"containerGroups": [{"containers": [container]}]})
        )
    return edited


def test_an_edit_saved_without_a_restart_is_neither_locked_nor_deployed(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output():
        created = magic(shell, f"create {spec_file(tmp_path, 'as tested')} --name unapplied")
    edited = edit_greeting(shell, "never ran")

    running = magic(shell, "status").running_artifact.spec_digest
    assert edited.spec_digest is not None
    for line, refused in (("lock --yes", "not locked"), ("deploy --yes", "not deployed")):
        message, shown = refusal(shell, line)
        assert message == (
            f"{refused}: runs spec {running[:19]} but the saved spec is"
            f" {edited.spec_digest[:19]} — restart first, or pass --restart"
        )
        assert "✓ running and ready" in shown
        assert "✗ runs the saved spec" in shown
        assert not magic(shell, "spec").is_registered, "nothing was locked"
    assert not magic(shell, "spec").is_registered, "nothing was locked"
    with server.client() as api:
        listed = api.get("/console/deployments/", params={"workloadId": created.id}).json()
    assert listed["data"] == []

    with capture_output() as captured:
        locked = magic(shell, "lock --yes --restart")
    assert locked.is_registered
    shown = all_text(captured)
    assert "✓ unapplied running after" in shown, "it restarted first"
    assert "✓ runs the saved spec" in shown
    assert magic(shell, "invoke /")["greeting"] == "never ran"

    with capture_output():
        deployment = magic(shell, "deploy --yes")
    assert deployment.status is WorkloadStatus.RUNNING
    with server.client() as api:
        answer = api.get(f"/endpoints/deployments/{deployment.id}/").json()
    assert answer["greeting"] == "never ran"
    with capture_output():
        magic(shell, "delete --yes --force")


def test_the_checklist_is_printed_one_line_per_check(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name listed-checks")
    with capture_output() as captured:
        locked = magic(shell, "lock --yes")
    assert locked.is_registered
    lines = captured.stdout.splitlines()
    assert re.fullmatch(
        r"✓ running and ready: running since \d{4}-\d\d-\d\d [\d:]{8} UTC", lines[0]
    )
    assert lines[1] == f"✓ runs the saved spec: runs spec {locked.spec_digest[:19]}, the saved one"
    assert lines[2] == "✓ not already deployed: it backs no deployment"
    assert (
        lines[3] == f"Locked: artifact 'hello-artifact' is registered as version {locked.version}."
    )


def test_a_stopped_workload_is_locked_only_after_a_restart(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name halted")
        magic(shell, "stop")
    message, shown = refusal(shell, "lock --yes")
    assert message == "not locked: it is stopped, not running — restart first, or pass --restart"
    assert "✗ running and ready: it is stopped, not running" in shown
    assert "✗ runs the saved spec: no instance runs (it is stopped)" in shown

    with capture_output() as captured:
        locked = magic(shell, "lock --yes --restart")
    shown = all_text(captured)
    assert "Restarting halted to apply the saved spec (it is stopped, not running)." in shown
    assert "✓ running and ready" in shown
    assert locked.is_registered


def test_smoke_paths_must_answer(shell: InteractiveShell, tmp_path: Path) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path, env={'FAIL_HEALTH_AFTER': '0'})} --name smoky")
    message, shown = refusal(shell, "lock --yes --smoke / --smoke /healthz --restart")
    assert message == (
        "not locked: GET /healthz answered 500 — fix the app (see `%workload logs`), or leave"
        " that --smoke path out"
    )
    assert "Restarting" not in shown, "a restart does not fix the app"
    assert "✗ smoke checks: GET /healthz answered 500" in shown
    with capture_output() as captured:
        assert magic(shell, "lock --yes --smoke / --smoke /readyz").is_registered
    assert "✓ smoke checks: GET / 200, GET /readyz 200" in captured.stdout


def deployed(ip: InteractiveShell, tmp_path: Path, name: str) -> Deployment:
    """A running workload ``name``, current, and its deployment ``<name>-prod``."""
    with capture_output():
        magic(ip, f"create {spec_file(tmp_path)} --name {name}")
        deployment: Deployment = magic(ip, "deploy --yes")
    return deployment


def test_a_workload_is_deployed_once(shell: InteractiveShell, tmp_path: Path) -> None:
    first = deployed(shell, tmp_path, "once")
    message, shown = refusal(shell, "deploy --yes --restart --name twice")
    assert message == (
        f"not deployed: it already backs deployment once-prod ({first.id}) — a workload backs"
        " at most one deployment: `%workload undeploy` that one first"
    )
    assert "Restarting" not in shown
    assert "✗ not already deployed" in shown
    with capture_output():
        magic(shell, "delete --yes --force")


def test_a_deployed_workload_is_stopped_restarted_or_deleted_only_with_force(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer, monkeypatch: Any
) -> None:
    deployment = deployed(shell, tmp_path, "guarded")
    backs = f"guarded backs deployment guarded-prod ({deployment.id})"
    for line, expected in (
        (
            "stop",
            f"not stopped: {backs} — pass --force to stop it anyway"
            " (the deployment stops answering)",
        ),
        (
            "restart",
            f"not restarted: {backs} — pass --force to restart it anyway"
            " (the deployment does not answer meanwhile)",
        ),
        (
            "delete --yes",
            f"not deleted: {backs} — pass --force to delete it together with its deployment",
        ),
    ):
        assert refusal(shell, line)[0] == expected
    assert magic(shell, "status").status is WorkloadStatus.RUNNING

    with capture_output():
        assert magic(shell, "restart --force").status is WorkloadStatus.RUNNING
        assert magic(shell, "stop --force").status is WorkloadStatus.STOPPED
    message, _ = refusal(shell, "start")
    assert message == f"not started: {backs} — pass --force to start it anyway"
    with capture_output():
        assert magic(shell, "start --force").status is WorkloadStatus.RUNNING

    questions: list[str] = []
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or "n")
    with capture_output() as captured:
        magic(shell, "delete --force")
    assert "Not deleted." in captured.stdout
    assert f"Its deployment guarded-prod ({deployment.id}) is deleted too." in questions[-1]
    with capture_output():
        magic(shell, "delete --force --yes")
    with server.client() as api:
        assert api.get(f"/console/deployments/{deployment.id}/").status_code == 404
        trail = api.get(f"/console/deployments/{deployment.id}/events").json()["data"]
    assert trail[0]["eventType"] == "deployment.deleted"
    assert trail[0]["details"].get("forced") is True
