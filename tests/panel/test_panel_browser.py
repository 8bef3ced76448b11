"""End to end in a real browser: JupyterLab (served from a temp dir) driven by Debian's
Chromium through Playwright, against the module's local server.

A notebook creates the example workload and shows its panel inline and in the sidebar; the
test sees a pre-flight finding beside the entrypoint it edits, edits an environment variable
in the form, clicks Save & Restart, sees the badge back at ``running`` and the invoke output
change, then Lock & Deploy, Confirm, and the deployment card.
Screenshots land in the test's tmp dir and in ``.scratch/screenshots/panel-*.png``
(gitignored); pytest-playwright keeps one of a failure in ``.scratch/playwright``.
"""

from __future__ import annotations

import pprint
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from browsertools import Shots, code_notebook, open_notebook, run_all, write_notebook
from harness import LocalServer, free_port, hello_spec
from labtools import Lab, LabFactory

if TYPE_CHECKING:
    from nbformat import NotebookNode

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def notebook(port: int) -> NotebookNode:
    """The notebook the test runs: create, panel, sidebar panel, invoke."""
    spec = hello_spec(port, "hello from the notebook")
    spec_code = pprint.pformat(spec, width=96).replace(repr(sys.executable), "sys.executable")
    cells = [
        "%load_ext workloadlab",
        f"import sys\nspec = {spec_code}",
        "%workload create $spec --name browser-hello",
        "%workload panel",
        "%workload panel --sidebar",
        "%workload invoke /",
    ]
    return code_notebook(*cells)


@pytest.fixture
def lab(start_lab: LabFactory, server: LocalServer, tmp_path: Path) -> Lab:
    """JupyterLab serving the test notebook, with the module server's endpoint and token in its
    (and so the kernel's) environment: its extension starts no local server of its own."""
    root = tmp_path / "notebooks"
    root.mkdir()
    write_notebook(notebook(free_port()), root / "panel.ipynb")
    env = {"DATAROBOT_ENDPOINT": server.endpoint, "DATAROBOT_API_TOKEN": server.token}
    return start_lab(root=root, env=env)


def test_edit_save_restart_lock_and_deploy_in_the_browser(
    page: Page, lab: Lab, server: LocalServer, tmp_path: Path
) -> None:
    open_notebook(page, lab, "panel.ipynb")
    shots = Shots(page, tmp_path / "screenshots", "panel-")
    run_all(page)
    inline = page.locator(".jp-Notebook .wl-panel")
    sidebar = page.locator("#jp-right-stack .jupyterlab-sidecar .wl-panel")
    expect(inline.locator(".wl-status")).to_have_text("running", timeout=60_000)
    expect(sidebar.locator(".wl-status")).to_have_text("running")
    sidebar_cell = page.locator(".jp-Notebook .jp-CodeCell").nth(4)
    expect(sidebar_cell.locator(".jp-OutputArea")).to_contain_text(
        "<WorkloadPanel (in the sidebar)>"
    )
    expect(inline).to_have_count(1)  # the sidebar cell does not show the panel a second time
    invoke_cell = page.locator(".jp-Notebook .jp-CodeCell").nth(5)
    expect(invoke_cell.locator(".jp-OutputArea")).to_contain_text("hello from the notebook")
    expect(inline.locator(".wl-logs")).to_have_count(1)
    shots("panel")
    shots("sidebar", page.locator("#jp-right-stack"))

    # A pre-flight finding beside its field before Save: loopback works on the process
    # runtime's host (a warning, Save stays on), not in a container.
    entrypoint = inline.locator(".wl-field-entrypoint textarea")
    typed = entrypoint.input_value()
    entrypoint.fill(f"{typed} --host 127.0.0.1")
    entrypoint.press("Tab")
    beside = inline.locator(".wl-field-entrypoint").locator("xpath=..").locator(".wl-field-message")
    expect(beside).to_contain_text("pre-flight warning: the app is told to listen on loopback")
    expect(beside).to_contain_text("Fix: listen on all interfaces: 0.0.0.0")
    expect(inline.locator("button.wl-save")).to_be_enabled()
    shots("preflight", inline)
    entrypoint.fill(typed)
    entrypoint.press("Tab")
    expect(beside).to_have_text("")

    value = inline.locator(".wl-env-row").first.locator(".wl-env-value input")
    expect(inline.locator(".wl-env-row").first.locator(".wl-env-name input")).to_have_value(
        "GREETING"
    )
    value.fill("hello from the browser")
    value.press("Tab")  # the value is sent when the field is left
    expect(inline.locator(".wl-diff")).to_contain_text("environmentVars[GREETING]")
    expect(inline.locator(".wl-diff")).to_contain_text("needs restart")
    expect(inline.locator(".wl-diff")).not_to_contain_text("hello from the browser")
    expect(sidebar.locator(".wl-env-row").first.locator(".wl-env-value input")).to_have_value(
        "hello from the browser"
    )
    shots("edited", inline)

    clicked = time.monotonic()
    inline.locator("button.wl-save-restart").click()
    expect(inline.locator("button.wl-restart")).to_be_disabled()
    expect(inline.locator(".wl-message")).to_contain_text("Restarted:", timeout=60_000)
    expect(inline.locator(".wl-status")).to_have_text("running")
    restart_seconds = time.monotonic() - clicked
    inline.locator(".wl-tabs .lm-TabBar-tab", has_text="Timeline").click()
    expect(inline.locator(".wl-timeline")).to_contain_text("running → stopping")
    expect(sidebar.locator(".wl-status")).to_have_text("running")

    invoke_cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(invoke_cell.locator(".jp-OutputArea")).to_contain_text("hello from the browser")
    shots("restarted", inline)

    inline.locator("button.wl-lock-deploy").click()
    step = inline.locator(".wl-deploy-step")
    expect(step).to_be_visible()
    expect(step).to_contain_text("irreversible")
    expect(step.locator(".wl-checklist")).to_contain_text("Runs the saved spec")
    expect(step.locator(".wl-checklist")).not_to_contain_text("✗")
    name = step.locator(".wl-deploy-name input")
    name.fill("browser-prod")
    name.press("Tab")
    expect(step.locator("button.wl-confirm")).to_be_enabled()
    shots("confirm", inline)
    step.locator("button.wl-confirm").click()
    card = inline.locator(".wl-deployment")
    expect(card).to_be_visible(timeout=30_000)
    expect(card).to_contain_text("browser-prod")
    expect(card).to_contain_text("running")
    expect(inline.locator(".wl-message")).to_contain_text("registered as version 1")
    expect(inline.locator("button.wl-save")).to_be_disabled()
    expect(inline.locator(".wl-env-value input").first).to_be_disabled()
    expect(sidebar.locator(".wl-deployment")).to_contain_text("browser-prod")
    shots("deployed", inline)
    shots("deployed-page")

    with server.client() as api:
        workloads = api.get("/console/workloads/", params={"search": "browser-hello"}).json()
        (workload,) = workloads["data"]
        deployments = api.get("/console/deployments/", params={"workloadId": workload["id"]})
        assert [d["name"] for d in deployments.json()["data"]] == ["browser-prod"]
        for deployment in deployments.json()["data"]:
            api.delete(f"/console/deployments/{deployment['id']}/")
        api.delete(f"/console/workloads/{workload['id']}/")
    assert restart_seconds < 30
    assert len(shots.taken) == 8
