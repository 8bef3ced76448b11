"""``%workload versions``, ``%workload diff`` and ``%workload rollback`` against the real local
server: registered versions of one collection, a deployment moved between them as a rolling
change, and what an abandoned change says."""

from __future__ import annotations

import re
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.client import ArtifactVersion
from workloadlab.models import Deployment

from harness import LocalServer, free_port, hello_spec, wait_status
from magictools import all_text, magic, refusal, spec_file

CRASH = [sys.executable, "-c", "import sys; sys.exit(4)"]


def register(server: LocalServer, name: str, greeting: str, **fields: Any) -> str:
    """A registered artifact, the next version of collection ``name``: its id."""
    artifact = {**hello_spec(free_port(), greeting), "name": name, "status": "registered"}
    artifact.update(fields.pop("artifact", {}))
    artifact["spec"]["containerGroups"][0]["containers"][0].update(fields)
    with server.client() as api:
        answer = api.post("/registry/artifacts/", json=artifact)
    assert answer.status_code == 201, answer.text
    artifact_id: str = answer.json()["id"]
    return artifact_id


@pytest.fixture
def versioned(shell: InteractiveShell, server: LocalServer) -> tuple[str, list[str], Deployment]:
    """A collection of three versions, a workload (current) running version 1, deployed."""
    name = f"versioned-{secrets.token_hex(4)}"
    ids = [
        register(server, name, "one"),
        register(server, name, "two", artifact={"description": "the second"}),
        register(server, name, "three"),
    ]
    with server.client() as api:
        answer = api.post("/console/workloads/", json={"name": name, "artifactId": ids[0]})
        workload_id = answer.json()["id"]
        wait_status(api, workload_id, "running")
    with capture_output():
        magic(shell, f"use {workload_id}")
        deployment: Deployment = magic(shell, "deploy --yes")
    return name, ids, deployment


def greeting(server: LocalServer, deployment: Deployment) -> str:
    with server.client() as api:
        text: str = api.get(f"/endpoints/deployments/{deployment.id}/").json()["greeting"]
    return text


def test_versions_are_listed_with_what_runs_them(
    shell: InteractiveShell, versioned: tuple[str, list[str], Deployment]
) -> None:
    _, ids, deployment = versioned
    with capture_output() as captured:
        listed = magic(shell, "versions")
    assert all(isinstance(v, ArtifactVersion) for v in listed)
    assert [v.version for v in listed] == [3, 2, 1]
    assert [v.id for v in listed] == list(reversed(ids))
    text = captured.outputs[0].data["text/plain"]
    header, *rows = text.splitlines()
    assert header.split() == ["version", "created", "digest", "deployed", "as"]
    assert re.fullmatch(
        r"1 \*\s+\d\d:\d\d:\d\d\s+sha256:[0-9a-f]{12}\s+" + deployment.name, rows[2]
    ), rows[2]
    assert rows[0].split()[0] == "3"
    assert rows[0].rstrip().endswith("—")
    assert "◀" in captured.outputs[0].data["text/html"]


def test_diff_shows_the_changed_fields(
    shell: InteractiveShell, versioned: tuple[str, list[str], Deployment]
) -> None:
    name, _, _ = versioned
    with capture_output() as captured:
        assert magic(shell, "diff 1 2") is None
    assert captured.stdout.startswith(f"From version 1 to version 2 of {name!r}:")
    text = captured.outputs[0].data["text/plain"]
    assert re.search(
        r"environmentVars\[GREETING\]\.value\s+\(value changed\)\s+needs restart", text
    )
    assert "the second" in text  # the description; environment values are not shown
    assert "two" not in text.replace("the second", "")
    assert "port" in text  # each version has its own port

    message, _ = refusal(shell, "diff 1 9")
    assert message == f"{name}'s artifact has no version 9 (it has 1, 2, 3)"
    assert "invalid int value" in refusal(shell, "diff one 2")[0]


def test_rollback_moves_the_deployment_and_reports_the_outcome(
    shell: InteractiveShell, server: LocalServer, versioned: tuple[str, list[str], Deployment]
) -> None:
    name, ids, deployment = versioned
    message, _ = refusal(shell, "rollback")
    assert message == (
        f"not rolled back: deployment {deployment.id} runs version 1 of {name!r}, its first:"
        " there is no earlier version"
    )

    message, _ = refusal(shell, "rollback 9")
    assert message == (
        f"not rolled back: {name!r} has no version 9 other than the one deployment"
        f" {deployment.id} runs (version 1; it has 1, 2, 3)"
    )

    with capture_output() as captured:
        moved = magic(shell, "rollback 3")
    assert isinstance(moved, Deployment)
    assert moved.artifact_id == ids[2]
    assert re.search(
        rf"✓ {moved.name} runs version 3 \(was version 1\) after [\d.]+ s", captured.stdout
    ), captured.stdout
    assert greeting(server, deployment) == "three"

    with capture_output() as captured:
        back = magic(shell, "rollback")  # the version it ran before
    assert back.artifact_id == ids[0]
    assert f"✓ {moved.name} runs version 1 (was version 3)" in captured.stdout
    assert greeting(server, deployment) == "one"
    with capture_output() as captured:
        magic(shell, "versions")
    assert captured.outputs[0].data["text/plain"].splitlines()[3].startswith("1 *")

    broken = register(server, name, "broken", entrypoint=CRASH)
    message, shown = refusal(shell, "rollback 4")
    assert re.fullmatch(
        r"not rolled back: the change to version 4 was abandoned \(.+\)"
        rf" — {moved.name} still runs version 1",
        message,
    ), message
    assert f"✗ {moved.name}: abandoned after" in shown
    assert greeting(server, deployment) == "one"
    assert magic(shell, "status").artifact_id == ids[0]
    assert broken not in ids


def test_without_versions_or_deployment(shell: InteractiveShell, tmp_path: Path) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name drafty")
    with capture_output() as captured:
        assert magic(shell, "versions") == []
    assert captured.stdout.strip() == (
        "No registered versions: drafty's artifact is a draft (`%workload lock` registers it"
        " as version 1)."
    )
    assert (
        refusal(shell, "diff 1 2")[0] == "drafty's artifact has no version 1 (none is registered)"
    )
    message, _ = refusal(shell, "rollback 1")
    assert message == "drafty backs no deployment: nothing to roll back (`%workload deploy`)"


def test_help(shell: InteractiveShell) -> None:
    helps = {}
    for name in ("versions", "diff", "rollback"):
        with capture_output() as captured:
            magic(shell, f"{name} --help")
        helps[name] = all_text(captured)
    assert "usage: %workload diff [-h] [--id ID|NAME] V1 V2" in helps["diff"]
    assert (
        "usage: %workload rollback [-h] [--id ID|NAME] [--timeout S] [VERSION]"
        in (helps["rollback"])
    )
    assert "default: the version the deployment ran before" in helps["rollback"]
    assert "registered versions" in helps["versions"]
