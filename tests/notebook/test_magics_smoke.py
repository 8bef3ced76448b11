"""Smoke checks from cells, against a real local server of each API generation: recorded from
``%workload invoke --save``, stored beside the notebook, replayed after a restart that breaks the
app (the check fails and ``%workload lock``/``deploy`` refuse, naming it), passing again once
fixed, and after the deploy sent to the draft and to production, side by side."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output
from test_magics_generations import server  # noqa: F401 - both generations' servers
from test_magics_governance import edit_greeting

from workloadlab import smoke
from workloadlab.client import CheckName
from workloadlab.notebook.session import get_session

from harness import LocalServer
from magictools import magic, refusal, spec_file


@pytest.fixture
def smoke_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The smoke file, beside the test's "notebook" (the current directory)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(smoke.storage.ENV_VAR, raising=False)
    return tmp_path / "workloadlab-smoke.yaml"


def plain(captured: CapturedIO) -> str:
    """What a cell showed as text: its output and each display's plain text."""
    return "\n".join([captured.stdout, *(o.data.get("text/plain", "") for o in captured.outputs)])


FAILED = '✗ greeting (GET /): /greeting: expected "hello", got "bonjour"'


def test_a_check_recorded_from_invoke_fails_after_a_breaking_restart_and_blocks_lock_and_deploy(
    shell: InteractiveShell,
    tmp_path: Path,
    server: LocalServer,  # noqa: F811 - the fixture imported above
    smoke_file: Path,
) -> None:
    current = "current" in server.extra_args
    with capture_output():
        created = magic(shell, f"create {spec_file(tmp_path)} --name smoked")
    with capture_output() as saved:
        answer = magic(shell, "invoke / --save greeting --fields greeting,path --budget-ms 5000")
    assert answer["greeting"] == "hello"
    assert saved.stdout.startswith(
        "Saved smoke check 'greeting' of smoked in workloadlab-smoke.yaml: status 200,"
        ' /greeting = "hello", /path = "/", within 5000 ms'
    )
    assert yaml.safe_load(smoke_file.read_text())["workloads"] == {
        "smoked": {
            "greeting": {
                "request": {"method": "GET", "path": "/"},
                "expect": {
                    "status": 200,
                    "fields": {"/greeting": "hello", "/path": "/"},
                    "budgetMs": 5000,
                },
            }
        }
    }
    assert server.token not in smoke_file.read_text()

    edit_greeting(shell, "bonjour")  # the app now answers another greeting
    with capture_output() as restarted:
        magic(shell, "restart")
    shown = plain(restarted)
    assert "Smoke checks of smoked (workloadlab-smoke.yaml): 1 of 1 failed" in shown
    assert FAILED + '\n    - /greeting: "hello"\n    + /greeting: "bonjour"' in shown

    for line, refused in (("lock --yes", "not locked"), ("deploy --yes", "not deployed")):
        message, printed = refusal(shell, line)
        assert message.startswith(
            f'{refused}: smoke check greeting (GET /): /greeting: expected "hello", got'
            ' "bonjour" — fix the app'
        ), message
        assert "✗ recorded smoke checks: greeting (GET /)" in printed
        assert not magic(shell, "spec").is_registered, "nothing was locked"

    session = get_session()
    readiness = session.run(smoke.lock_readiness(session.client, created.id))
    item = readiness.get(CheckName.RECORDED_SMOKE)
    assert item is not None
    assert not readiness.ok
    assert not item.ok
    assert item.detail == 'greeting (GET /): /greeting: expected "hello", got "bonjour"'

    edit_greeting(shell, "hello")  # fixed
    with capture_output() as fixed:
        magic(shell, "restart")
    assert "✓ greeting (GET /): 200 in" in plain(fixed)

    with capture_output() as deployed:
        production = magic(shell, "deploy --yes" + (" --new" if current else ""))
    text = plain(deployed)
    assert re.search(r"✓ recorded smoke checks: 1 passed: greeting", text)
    what = "production workload smoked-prod" if current else f"deployment {production.name}"
    assert f"Draft smoked vs {what}, the same requests:" in text
    assert re.search(
        r'greeting +200 \{"/greeting": "hello", "/path": "/"\} +200 \{"/greeting": "hello",'
        r' "/path": "/"\} +same',
        deployed.outputs[-1].data["text/plain"],
    )
    with capture_output() as again:  # any time later, the same comparison
        magic(shell, "smoke compare" + (" --to smoked-prod" if current else ""))
    assert f"Draft smoked vs {what}, the same requests:" in again.stdout
    assert plain(again).rstrip().endswith("same")
    with capture_output():
        magic(shell, f"delete {production.id} --yes --force" if current else "delete --yes --force")


@pytest.mark.parametrize("server", ["v2.41"], indirect=True)
def test_smoke_lists_runs_and_removes_checks(
    shell: InteractiveShell,
    tmp_path: Path,
    server: LocalServer,  # noqa: F811 - the fixture imported above
    smoke_file: Path,
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name listed")
    with capture_output() as empty:
        magic(shell, "smoke")
    assert "listed has no smoke checks in workloadlab-smoke.yaml" in empty.stdout
    with capture_output():
        magic(shell, "invoke /healthz --save health")  # the whole body: "ok"
        magic(shell, """invoke /echo --method POST --data '{"n": 1}' --save echo --fields n""")
    with capture_output() as listed:
        magic(shell, "smoke list")
    assert listed.stdout.splitlines() == [
        "Smoke checks of listed (workloadlab-smoke.yaml):",
        "  echo: POST /echo → 200, /n = 1",
        "  health: GET /healthz → 200, whole body",
    ]
    stored = yaml.safe_load(smoke_file.read_text())["workloads"]["listed"]
    assert stored["echo"]["request"] == {"method": "POST", "path": "/echo", "body": {"n": 1}}
    assert stored["health"]["expect"] == {"status": 200, "body": "ok"}

    with capture_output() as ran:
        assert magic(shell, "smoke run") is None
    assert re.fullmatch(
        r"\nSmoke checks of listed \(workloadlab-smoke.yaml\): all 2 passed\n"
        r"✓ echo \(POST /echo\): 200 in \d+ ms, as expected\n"
        r"✓ health \(GET /healthz\): 200 in \d+ ms, as expected",
        plain(ran),
    ), plain(ran)

    with capture_output() as removed:
        magic(shell, "smoke remove health")
    assert removed.stdout.strip() == (
        "Removed smoke check 'health' of listed from workloadlab-smoke.yaml."
    )
    message, _ = refusal(shell, "smoke remove health")
    assert message == "listed has no smoke check 'health' (its checks: echo)"
    assert list(yaml.safe_load(smoke_file.read_text())["workloads"]["listed"]) == ["echo"]
    with capture_output():
        magic(shell, "delete --yes")


@pytest.mark.parametrize("server", ["v2.41"], indirect=True)
def test_a_check_is_not_saved_with_a_secret_or_a_field_the_answer_lacks(
    shell: InteractiveShell,
    tmp_path: Path,
    server: LocalServer,  # noqa: F811 - the fixture imported above
    smoke_file: Path,
) -> None:
    with capture_output():
        magic(shell, f"create {spec_file(tmp_path)} --name secretive")
    key = "sk-live-" + "Zq8rT2vW9xY4bN6mK1pL3sD5"
    data = f"""'{{"key": "{key}"}}'"""
    message, _ = refusal(shell, f"invoke /echo --method POST --data {data} --save k")
    assert message.startswith("not saved: the request body/key looks like a secret API key")
    assert key not in message
    message, _ = refusal(shell, "invoke / --save g --fields greeting,nope.deeper")
    assert message == "not saved: the answer has no field /nope/deeper"
    message, _ = refusal(shell, "invoke / --fields greeting")
    assert message == "--fields and --budget-ms go with --save NAME"
    message, _ = refusal(shell, "invoke / --save 'no spaces'")
    assert message.startswith("'no spaces' is not a check name")
    assert not smoke_file.exists(), "nothing was written"

    with capture_output():  # the proxy never passes the token on; nothing of it is stored
        magic(shell, "invoke /headers --save headers")
    text = smoke_file.read_text()
    assert server.token not in text
    assert "authorization" not in text.lower()
    with capture_output():
        magic(shell, "delete --yes")
