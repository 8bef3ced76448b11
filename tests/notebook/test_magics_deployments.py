"""``%workload deployments`` and ``%workload undeploy``, deleted workloads' trails, and the
help of the governance subcommands, against the real local server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.models import Deployment, WorkloadStatus

from harness import LocalServer
from magictools import all_text, magic, refusal, spec_file


def deploy_new(ip: InteractiveShell, tmp_path: Path, name: str) -> Deployment:
    with capture_output():
        magic(ip, f"create {spec_file(tmp_path)} --name {name}")
        deployment: Deployment = magic(ip, f"deploy --yes --name {name}-prod")
    return deployment


def test_deployments_are_listed_as_a_table(shell: InteractiveShell, tmp_path: Path) -> None:
    first = deploy_new(shell, tmp_path, "tabled-a")
    second = deploy_new(shell, tmp_path, "tabled-b")
    with capture_output() as captured:
        listed = magic(shell, "deployments --search tabled")
    assert [d.id for d in listed] == [second.id, first.id], "newest first"
    html = captured.outputs[0].data["text/html"]
    text = captured.outputs[0].data["text/plain"]
    assert 'class="wl-table"' in html
    assert "tabled-a-prod" in html
    header, *rows = text.splitlines()
    assert header.split() == ["name", "id", "status", "artifact", "version", "endpoint", "created"]
    assert rows[1].split()[:4] == ["tabled-a-prod", first.id, "running", "1"]
    assert str(first.endpoint) in rows[1]

    with capture_output():
        only = magic(shell, "deployments --workload tabled-a")
    assert [d.id for d in only] == [first.id]
    with capture_output() as captured:
        assert magic(shell, "deployments --search no-such-deployment") == []
    assert captured.outputs[0].data["text/plain"] == "no deployments"


def test_undeploy_asks_then_deletes_the_deployment(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deploy_new(shell, tmp_path, "retired")
    questions: list[str] = []

    def answer(reply: str) -> None:
        monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or reply)

    answer("n")
    with capture_output() as captured:
        magic(shell, "undeploy retired-prod")
    assert captured.stdout.strip() == "Not undeployed."
    assert questions[-1].startswith(f"Delete deployment 'retired-prod' ({deployment.id})?")
    answer("y")
    with capture_output() as captured:
        magic(shell, f"undeploy {deployment.id}")
    assert f"Undeployed: deployment 'retired-prod' ({deployment.id}) is deleted." in (
        captured.stdout
    )
    with server.client() as api:
        assert api.get(f"/console/deployments/{deployment.id}/").status_code == 404
    assert magic(shell, "status").status is WorkloadStatus.RUNNING, "the workload stays"
    with capture_output():
        magic(shell, "stop")  # no deployment left: no --force needed

    again = deploy_new(shell, tmp_path, "retired-twice")
    with capture_output():
        magic(shell, "undeploy retired-twice-prod --yes")
    with server.client() as api:
        assert api.get(f"/console/deployments/{again.id}/").status_code == 404


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "undeploy no-such-deployment",
            "unknown deployment 'no-such-deployment' (no deployment has that id or name;"
            " see `%workload deployments`)",
        ),
        ("undeploy", "%workload undeploy: the following arguments are required: NAME|ID"),
        ("undeploy 0123456789abcdef01234567 --yes", "not found"),
        ("deployments --workload nobody", "unknown workload 'nobody'"),
        ("lock --smoke", "argument --smoke: expected one argument"),
        ("deploy --yes --name " + "x" * 5001, "field `name`: String should have at most 5000"),
    ],
    ids=["unknown", "missing", "not-found", "unknown-workload", "smoke-path", "long-name"],
)
def test_mistakes_are_one_line(
    shell: InteractiveShell, tmp_path: Path, line: str, expected: str
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name mistaken")
    message, _ = refusal(shell, line)
    assert expected in message
    assert not magic(shell, "spec").is_registered


def test_a_deleted_workloads_trail_by_id(shell: InteractiveShell, tmp_path: Path) -> None:
    with capture_output():
        created = magic(shell, f"create {spec_file(tmp_path)} --name bygone")
    with capture_output() as captured:
        magic(shell, "delete --yes")
    assert f"Deleted workload 'bygone' ({created.id})." in captured.stdout
    with capture_output() as captured:
        magic(shell, f"events {created.id}")
    text = captured.outputs[0].data["text/plain"]
    assert text.splitlines()[1].split()[1:3] == ["workload", "deleted"], "newest first"
    assert "workload created" in text
    assert not re.search(r"\b[0-9a-f]{24}\b  ", text), "who did it, by name"

    message, _ = refusal(shell, "events bygone")
    assert message == (
        "unknown workload 'bygone' (no workload has that id or name) (the trail of a deleted"
        " workload: `%workload events ID`)"
    )
    with pytest.raises(UsageError, match="no current workload"):
        magic(shell, "events")


def test_the_new_subcommands_explain_themselves(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        magic(shell, "")
    overview = captured.stdout
    for name in ("deployments", "undeploy"):
        assert f"  {name} " in overview
    helps = {}
    for name in ("lock", "deploy", "deployments", "undeploy", "stop", "restart", "delete"):
        with capture_output() as captured:
            assert magic(shell, f"{name} --help") is None
        helps[name] = all_text(captured)
    for name in ("lock", "deploy"):
        assert "--restart" in helps[name]
        assert "apply the saved spec first" in helps[name]
        assert "--smoke PATH" in helps[name]
        assert "once the checklist passes" in helps[name]
    for name in ("stop", "restart", "delete"):
        assert "--force" in helps[name]
        assert "backs a deployment" in helps[name]
    assert "usage: %workload undeploy [-h] [--yes] NAME|ID" in helps["undeploy"]
    assert "its workload stays" in helps["undeploy"]
    assert "--workload ID|NAME" in helps["deployments"]
