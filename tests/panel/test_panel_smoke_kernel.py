"""Smoke checks in a real kernel, driven over the kernel protocol as a frontend would: a check
recorded with ``%workload invoke --save`` lands beside the notebook (the kernel's working
directory); the panel's Restart runs it (✗ with its diff once the app is broken elsewhere),
Lock & Deploy's checklist names it and holds Confirm back; fixed, Restart shows ✓, Confirm
deploys and the panel shows the draft's and the deployment's answers side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jupyter_client.blocking.client import BlockingKernelClient
from test_panel_kernel import Frontend, kernel, run  # noqa: F401 - the kernel fixture

from paneltools import Example

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

GREETING = "hello from the test"


def set_greeting(example: Example, value: str) -> None:
    """Change the app's greeting as another cell would (saved, not applied)."""
    current = example.artifact()
    body = {key: current[key] for key in ("name", "description", "spec")}
    body["spec"]["containerGroups"][0]["containers"][0]["environmentVars"] = [
        {"name": "GREETING", "value": value}
    ]
    saved = example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body)
    assert saved.status_code == 200, saved.text


def shows(frontend: Frontend, css_class: str, words: str) -> bool:
    """Whether the widget with this class exists yet and shows ``words``."""
    made = any(css_class in m.get("_dom_classes", ()) for m in frontend.models.values())
    return made and words in frontend.text(css_class)


def test_a_check_recorded_in_the_kernel_gates_the_panel_s_lock_and_deploy(
    kernel: BlockingKernelClient,  # noqa: F811 - the fixture imported above
    example: Example,
    tmp_path: Path,
) -> None:
    name = example.get()["name"]
    run(
        kernel,
        "%load_ext workloadlab\n"
        f"%workload use {example.id}\n"
        "%workload invoke / --save greeting --fields greeting",
    )
    beside = tmp_path / "workloadlab-smoke.yaml"  # the kernel's working directory
    stored = yaml.safe_load(beside.read_text())["workloads"][name]["greeting"]
    assert stored["expect"] == {"status": 200, "fields": {"/greeting": GREETING}}

    frontend = Frontend(kernel, run(kernel, "%workload panel"))
    set_greeting(example, "broken")
    frontend.wait(lambda f: not f.state("wl-restart")["disabled"])
    frontend.click("wl-restart")
    failed = f'greeting (GET /): /greeting: expected "{GREETING}", got "broken"'
    frontend.wait(lambda f: shows(f, "wl-smoke", "1 of 1 failed"))
    assert f"✗ {failed}" in frontend.text("wl-smoke")
    assert f'- /greeting: "{GREETING}"\n+ /greeting: "broken"' in frontend.text("wl-smoke")

    frontend.click("wl-lock-deploy")
    frontend.wait(lambda f: shows(f, "wl-checklist", f"✗ Recorded smoke checks ({failed})"))
    frontend.wait(lambda f: f.state("wl-confirm")["disabled"])  # its update comes just after

    set_greeting(example, GREETING)
    frontend.click("wl-restart")
    frontend.wait(lambda f: "all 1 passed" in f.text("wl-smoke"))
    passed = "✓ Recorded smoke checks (1 passed: greeting)"
    frontend.wait(lambda f: shows(f, "wl-checklist", passed))
    frontend.wait(lambda f: not f.state("wl-confirm")["disabled"])
    frontend.click("wl-confirm")
    frontend.wait(lambda f: "Draft vs deployment" in f.text("wl-smoke"), timeout=60)
    assert frontend.text("wl-smoke").count(f'200 {{"/greeting": "{GREETING}"}}') == 2
    assert "✓ same" in frontend.text("wl-smoke")
