"""The panel's governance in a real browser (JupyterLab + Debian's Chromium via Playwright,
against the module's local server): a workload behind a deployment shows Restart off with its
reason; the deployment card's Delete asks, then the card says deleted; once it crashed and came
back, its timeline strip shows the crash; a secret typed into the form never reaches the page
nor the saved notebook's widget state once saved."""

from __future__ import annotations

import json
import os
import pprint
import re
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from browsertools import Shots, code_notebook, open_notebook, run_all, write_notebook
from harness import LocalServer, free_port, hello_spec, processes_marked, wait_until
from labtools import Lab, LabFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FAKE = f"sk-browser-{secrets.token_hex(16)}"
"""The secret of the secret test (a fake OpenAI-like key, new each run)."""
REASON = (
    "Restart is off: backs deployment browser-live: stopping it takes the deployment down; "
    "use --force in a cell to restart anyway."
)


def spec_cell(greeting: str) -> str:
    """A cell that defines ``spec``: the example app on a free port."""
    spec = hello_spec(free_port(), greeting)
    spec_code = pprint.pformat(spec, width=96).replace(repr(sys.executable), "sys.executable")
    return f"import sys\nspec = {spec_code}"


@pytest.fixture
def lab(start_lab: LabFactory, server: LocalServer, tmp_path: Path) -> Lab:
    """JupyterLab serving a deployed workload's notebook and a draft one's, on the module's
    server; saving a notebook saves its widget state too (the secret test reads it)."""
    root = tmp_path / "notebooks"
    root.mkdir()
    deployed = code_notebook(
        "%load_ext workloadlab",
        spec_cell("hello from a deployment"),
        "%workload create $spec --name browser-deployed",
        "%workload lock --yes",
        "%workload deploy --name browser-live --yes",
        "%workload panel",
    )
    secret = code_notebook(
        "%load_ext workloadlab",
        spec_cell("hello from a secret"),
        "%workload create $spec --name browser-secret",
        "%workload panel",
    )
    write_notebook(deployed, root / "deployed.ipynb")
    write_notebook(secret, root / "secret.ipynb")
    settings = tmp_path / "lab-settings"
    widgets = settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings"
    widgets.parent.mkdir(parents=True)
    widgets.write_text(json.dumps({"saveState": True}))
    env = {
        "DATAROBOT_ENDPOINT": server.endpoint,
        "DATAROBOT_API_TOKEN": server.token,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }
    return start_lab(root=root, env=env)


def delete_workload(server: LocalServer, name: str) -> dict[str, Any]:
    """Delete the notebook's workload (and what is left of its deployments); its last state."""
    with server.client() as api:
        (workload,) = api.get("/console/workloads/", params={"search": name}).json()["data"]
        left = api.get("/console/deployments/", params={"workloadId": workload["id"]}).json()
        for deployment in left["data"]:
            api.delete(f"/console/deployments/{deployment['id']}/")
        api.delete(f"/console/workloads/{workload['id']}/")
    return {**workload, "deployments": left["data"]}


def test_a_deployed_workload_s_restart_is_off_and_its_card_deletes(
    page: Page, lab: Lab, server: LocalServer, tmp_path: Path
) -> None:
    open_notebook(page, lab, "deployed.ipynb")
    shots = Shots(page, tmp_path / "screenshots", "deployed-")
    run_all(page)
    panel = page.locator(".jp-Notebook .wl-panel")
    expect(panel.locator(".wl-status")).to_have_text("running", timeout=60_000)
    card = panel.locator(".wl-deployment")
    expect(card).to_contain_text("browser-live")
    expect(card.locator(".wl-badge")).to_have_text("running")
    restart = panel.locator("button.wl-restart")
    expect(restart).to_be_disabled()
    expect(panel.locator("button.wl-save-restart")).to_be_disabled()
    note = panel.locator(".wl-button-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(f"⚠ {REASON}")
    shots("deployed", panel)

    panel.locator("button.wl-deployment-delete").click()
    question = panel.locator(".wl-deployment-question")
    expect(question).to_have_text("Delete deployment browser-live? Its endpoint stops answering.")
    shots("asks-first", panel)
    panel.locator("button.wl-deployment-confirm-delete").click()
    expect(card.locator(".wl-badge")).to_have_text("deleted", timeout=30_000)
    expect(question).to_be_hidden()
    expect(panel.locator(".wl-message")).to_contain_text("Deployment 'browser-live' was deleted:")
    expect(restart).to_be_enabled()
    expect(note).to_have_text("")
    expect(panel.locator("button.wl-lock-deploy")).to_be_enabled()
    expect(panel.locator("button.wl-lock-deploy")).to_contain_text("Deploy…")
    shots("deleted", panel)

    # The timeline strip of a workload that crashed and recovered (its process killed).
    crash_and_recover(server, "browser-deployed")
    panel.locator(".wl-tabs .lm-TabBar-tab", has_text="Timeline").click()
    run = panel.locator(".wl-timeline .wl-run").first
    expect(run.locator(".wl-crash")).to_have_count(1, timeout=30_000)
    expect(run).to_contain_text("1 crash")
    expect(run.locator(".wl-crash")).to_be_visible()
    expect(run.locator(".wl-strip")).to_be_visible()
    # Measured in the page, on the strip shown now: a redraw replaces the Timeline's HTML, and an
    # element found before it is detached (0 px wide).
    page.wait_for_function(
        """() => {
            const strip = document.querySelector(
                ".jp-Notebook .wl-panel .wl-timeline .wl-run .wl-strip");
            return strip !== null && strip.getBoundingClientRect().width > 150;
        }""",
        timeout=10_000,
    )  # the strip spans the panel
    expect(panel.locator(".wl-status")).to_have_text("running")
    shots("crashed-and-recovered", panel)

    workload = delete_workload(server, "browser-deployed")
    assert workload["deployments"] == [], "the card's Delete deleted it"
    assert workload["status"] == "running", "the workload kept running"


def crash_and_recover(server: LocalServer, name: str) -> None:
    """Kill the workload's process (a crash) and wait until the server has run it again."""
    with server.client() as api:
        (workload,) = api.get("/console/workloads/", params={"search": name}).json()["data"]
    marker = f"/{workload['id']}".encode()
    for pid in processes_marked(server.data_dir):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if any(item.startswith(b"WORKLOADLAB_INSTANCE=") and marker in item for item in environ):
            os.kill(pid, signal.SIGKILL)

    def recovered() -> bool:
        with server.client() as api:
            now = api.get(f"/console/workloads/{workload['id']}/").json()
        return bool(now["restartCount"] >= 1 and now["status"] == "running")

    wait_until(recovered, timeout=30)


def input_values(page: Page) -> list[str]:
    """What every input and text area of the page holds (not in ``page.content()``: a typed
    value is a property of the element, not an attribute)."""
    values: list[str] = page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map(e => e.value)"
    )
    return values


def test_a_secret_never_reaches_the_page_nor_the_notebook_once_saved(
    page: Page, lab: Lab, server: LocalServer, tmp_path: Path
) -> None:
    open_notebook(page, lab, "secret.ipynb")
    shots = Shots(page, tmp_path / "screenshots", "secret-")
    run_all(page)
    panel = page.locator(".jp-Notebook .wl-panel")
    expect(panel.locator(".wl-status")).to_have_text("running", timeout=60_000)
    expect(panel.locator(".wl-env-row")).to_have_count(1)
    panel.locator("button.wl-env-add").click()
    expect(panel.locator(".wl-env-row")).to_have_count(2)
    row = panel.locator(".wl-env-row").last
    row.locator(".wl-env-name input").fill("API_TOKEN")
    row.locator(".wl-env-name input").press("Tab")
    row.locator(".wl-env-value input").fill(FAKE)
    row.locator(".wl-env-value input").press("Tab")  # the value is sent when the field is left
    expect(row.locator(".wl-secret-warning")).to_contain_text("looks like a secret API key")
    expect(row.locator(".wl-secret-warning")).to_contain_text("turn on secret")
    assert FAKE in input_values(page), "the search finds the value while it is typed"
    shots("typed", panel)

    row.locator(".wl-env-secret input").check()
    expect(row.locator(".wl-secret-warning")).to_have_count(0)
    panel.locator(".wl-tabs .lm-TabBar-tab", has_text="YAML").click()
    expect(panel.locator(".wl-yaml")).to_contain_text("drCredentialId: (created on save)")
    expect(panel.locator(".wl-yaml")).not_to_contain_text(FAKE)
    panel.locator(".wl-tabs .lm-TabBar-tab", has_text="Spec").click()
    panel.locator("button.wl-save").click()
    expect(panel.locator(".wl-message")).to_contain_text(
        "Stored as credential(s): browser-secret-API_TOKEN", timeout=30_000
    )
    value = row.locator(".wl-env-value input")
    expect(value).to_have_value(re.compile(r"^credential \w+, key apiToken$"))
    expect(value).to_be_disabled()
    shots("saved", panel)
    assert FAKE not in page.content()
    assert not [text for text in input_values(page) if FAKE in text]

    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Save Notebook", exact=True).click()

    def widget_state() -> dict[str, Any] | None:
        try:
            book = json.loads((tmp_path / "notebooks" / "secret.ipynb").read_text())
        except ValueError:  # caught while JupyterLab writes it
            return None
        state: dict[str, Any] | None = (
            book["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
        )
        return state

    state = wait_until(widget_state, timeout=30)
    saved = (tmp_path / "notebooks" / "secret.ipynb").read_text()
    assert "wl-env-secret" in json.dumps(state), "the panel's widgets are in the saved state"
    assert ", key apiToken" in json.dumps(state), "with the row as it is now: a reference"
    assert FAKE not in saved, "neither in the widget state nor anywhere in the notebook"

    with server.client() as api:
        credentials = api.get("/credentials/", params={"limit": 100}).json()["data"]
        (credential,) = [c for c in credentials if c["name"] == "browser-secret-API_TOKEN"]
        assert FAKE not in json.dumps(credential)
        api.delete(f"/credentials/{credential['id']}")
    workload = delete_workload(server, "browser-secret")
    artifact_id = workload["artifactId"]
    with server.client() as api:
        assert FAKE not in api.get(f"/registry/artifacts/{artifact_id}").text
