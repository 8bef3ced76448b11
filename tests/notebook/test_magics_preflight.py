"""Pre-flight checks under ``%workload create`` and ``%%artifact`` in a real IPython shell
against the real local server: findings listed one line each, errors refused in one line
naming ``--force``, warnings never blocking."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.models import WorkloadStatus
from workloadlab.models.neutral import Workload

from harness import LocalServer, hello_spec
from magictools import all_text, cell, magic, refusal, spec_file

SECRET = "sk-live-TESTSECRET-0123456789abcdef"
C0 = "spec.containerGroups[0].containers[0]"


def test_create_lists_the_findings_and_refuses_errors_unless_forced(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    path = spec_file(
        tmp_path,
        env={"OPENAI_API_KEY": SECRET, "HOST": "127.0.0.1"},
        readinessProbe={"path": "/readyz", "port": 1},  # never the container's port
    )
    message, shown = refusal(shell, f"create {path} --name preflight-refused")
    assert message.startswith("not created: the pre-flight checks found 1 error")
    assert "--force" in message
    lines = [line.strip() for line in shown.splitlines() if line.startswith("  ")]
    assert len(lines) == 3, shown
    assert any(line.startswith(f"error: {C0}.readinessProbe.port: ") for line in lines)
    assert any(line.startswith(f"warning: {C0}.environmentVars[1].value: ") for line in lines)
    assert any(line.startswith(f"warning: {C0}.environmentVars[2].value: ") for line in lines)
    assert SECRET not in shown
    with server.client() as api:
        names = [w["name"] for w in api.get("/console/workloads/").json()["data"]]
    assert "preflight-refused" not in names  # nothing was sent

    forced = magic(shell, f"create {path} --name preflight-forced --force --no-wait")
    assert isinstance(forced, Workload)
    magic(shell, f"delete {forced.id} --yes")


def test_warnings_never_block_a_create(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    path = spec_file(tmp_path, env={"SERVICE_TOKEN": "plain-but-named"})
    with capture_output() as captured:
        created = magic(shell, f"create {path} --name preflight-warned")
    assert created.status is WorkloadStatus.RUNNING
    shown = all_text(captured)
    assert "Pre-flight checks (process): 1 warning" in shown
    assert f"warning: {C0}.environmentVars[1].value: environment variable SERVICE_TOKEN" in shown
    assert "plain-but-named" not in shown


def test_a_clean_create_prints_no_findings(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    with capture_output() as captured:
        magic(shell, f"create {spec_file(tmp_path)} --name preflight-clean --no-wait")
    assert "Pre-flight" not in all_text(captured)


def test_artifact_cell_refuses_errors_unless_forced(
    shell: InteractiveShell, tmp_path: Path, server: LocalServer
) -> None:
    magic(shell, f"create {spec_file(tmp_path)} --name preflight-cell --no-wait")
    port = magic(shell, "spec").spec.primary.port
    body = yaml.safe_dump(hello_spec(port, entrypoint=["no-such-program-xyz"]))
    with capture_output() as captured, pytest.raises(UsageError) as caught:
        cell(shell, "", body)
    assert str(caught.value).startswith("not saved: the pre-flight checks found 1 error")
    assert "--force" in str(caught.value)
    assert f"error: {C0}.entrypoint[0]: " in all_text(captured)
    assert "no-such-program-xyz" in all_text(captured)
    assert magic(shell, "spec").spec.primary.entrypoint[0] != "no-such-program-xyz"

    saved = cell(shell, "--force", body)
    assert saved.spec.primary.entrypoint == ["no-such-program-xyz"]
