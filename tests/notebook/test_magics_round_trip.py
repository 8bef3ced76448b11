"""``%workload spec`` → edit one value → ``%%artifact``: the rest of the artifact goes back as
it came, in a real IPython shell: a credential reference against the real local server;
``type: service``, ``securityContext``, ``imageBuildConfig`` and unknown keys against a
DataRobot-shaped server (respx)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.models import CredentialType
from workloadlab.notebook.session import get_session

from harness import free_port, hello_spec
from magictools import cell, magic

CLOUD = "https://app.datarobot.com/api/v2"
FIXTURES = Path(__file__).resolve().parents[1] / "client" / "fixtures"
WID = "6650c1d2e3f4a5b6c7d8ea01"
RESPONSE_ONLY = {"id", "version", "artifactCollectionId", "creator", "createdAt", "updatedAt"}
RESPONSE_ONLY |= {"specDigest", "tags", "permissions"}


def test_a_credential_reference_survives_spec_then_artifact(shell: InteractiveShell) -> None:
    client = get_session().client
    credential = get_session().run(
        client.credentials.create(
            name=f"magic-token-{free_port()}",
            credential_type=CredentialType.API_TOKEN,
            api_token="s3cr3t-value",
        )
    )
    reference = {
        "source": "dr-credential",
        "name": "GH_TOKEN",
        "drCredentialId": credential.id,
        "key": "apiToken",
    }
    spec = hello_spec(free_port(), "hello")
    spec["spec"]["containerGroups"][0]["containers"][0]["environmentVars"].append(reference)
    shell.user_ns["spec"] = spec
    with capture_output():
        shell.run_cell("%workload create $spec --name keeps-reference --no-wait")
        came = shell.run_line_magic("workload", "spec").to_wire()
    edited = yaml.safe_load(_yaml_of(shell))
    edited["spec"]["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = "hi"
    with capture_output():
        saved = cell(shell, "", yaml.safe_dump(edited, sort_keys=False))
    variables = saved.to_wire()["spec"]["containerGroups"][0]["containers"][0]["environmentVars"]
    assert reference in variables, "the reference went back as it came"
    expected = copy.deepcopy(came["spec"])
    expected["containerGroups"][0]["containers"][0]["environmentVars"][0]["value"] = "hi"
    assert json.dumps(saved.spec.to_wire()) == json.dumps(expected)
    assert "s3cr3t-value" not in _yaml_of(shell)
    magic(shell, "delete --yes")


def _yaml_of(shell: InteractiveShell) -> str:
    with capture_output() as captured:
        shell.run_line_magic("workload", "spec")
    return captured.stdout


def test_type_service_and_unknown_keys_survive_spec_then_artifact(
    cloud_shell: tuple[InteractiveShell, Any],
) -> None:
    shell, router = cloud_shell
    artifact = json.loads((FIXTURES / "current" / "artifact-draft.json").read_text())
    workload = json.loads((FIXTURES / "current" / "workload.json").read_text())
    router.get(url__regex=r".*/api/v2/workloads/?(\?.*)?$").respond(  # a current probe
        json={"count": 0, "data": []}
    )
    router.get(url__regex=rf".*/workloads/{WID}/?$").respond(json=workload)
    artifact_path = rf".*/artifacts/{artifact['id']}/?$"
    router.get(url__regex=artifact_path).respond(json=artifact)
    put = router.put(url__regex=artifact_path).respond(json=artifact)

    with capture_output() as captured:
        shell.run_line_magic("workload", f"spec {WID}")
    edited = yaml.safe_load(captured.stdout)
    edited["spec"]["containerGroups"][0]["containers"][0]["imageUri"] = "ghcr.io/org/hello:2"
    with capture_output() as captured:
        cell(shell, WID, yaml.safe_dump(edited, sort_keys=False))
    # Against DataRobot the machine-bound pre-flight checks are skipped, and say so.
    assert "Pre-flight checks (datarobot)" in captured.stdout
    assert "not checked: whether the image is local or pullable" in captured.stdout

    expected = {k: v for k, v in copy.deepcopy(artifact).items() if k not in RESPONSE_ONLY}
    expected["spec"]["containerGroups"][0]["containers"][0]["imageUri"] = "ghcr.io/org/hello:2"
    body = json.loads(put.calls.last.request.content)
    assert body["type"] == "service"
    assert json.dumps(body) == json.dumps(expected)
    assert re.search(r"/artifacts/" + artifact["id"], str(put.calls.last.request.url))
