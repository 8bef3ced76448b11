"""End to end in a real browser: JupyterLab (served from a temp dir) driven by Debian's
Chromium through Playwright, against the module's local server.

A notebook creates the example workload and shows its panel inline and in the sidebar; the
test edits an environment variable in the form, clicks Save & Restart, sees the badge back at
``running`` and the invoke output change, then Lock & Deploy, Confirm, and the deployment card.
Screenshots land in the test's tmp dir and in ``.scratch/screenshots/`` (gitignored).
"""

from __future__ import annotations

import contextlib
import json
import os
import pprint
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from harness import LocalServer, free_port, hello_spec, wait_until

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / ".scratch" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs /usr/bin/chromium (scripts/browser-setup.sh)"
)


def notebook(port: int) -> nbformat.NotebookNode:
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
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return book


@dataclass
class Lab:
    """A running JupyterLab."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    root: Path

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=10
        )


@pytest.fixture
def lab(server: LocalServer, tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab on a free port, serving a copy of the test notebook, with the server's
    endpoint and token in its (and so the kernel's) environment."""
    root = tmp_path / "notebooks"
    root.mkdir()
    nbformat.write(notebook(free_port()), root / "panel.ipynb")
    config = tmp_path / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    home = tmp_path / "home"
    home.mkdir()
    token = secrets.token_hex(16)
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "DATAROBOT_ENDPOINT": server.endpoint,
        "DATAROBOT_API_TOKEN": server.token,
    }
    log = open(tmp_path / "jupyterlab.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    started = Lab(f"http://127.0.0.1:{port}", token, process, root)
    try:
        with started.api() as api:

            def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError((tmp_path / "jupyterlab.log").read_text())
                with contextlib.suppress(httpx.HTTPError):
                    return api.get("/api/status").status_code == 200
                return False

            wait_until(ready, timeout=60, interval=0.1)
        yield started
    finally:
        with contextlib.suppress(httpx.HTTPError), started.api() as api:
            for kernel in api.get("/api/kernels").json():
                api.delete(f"/api/kernels/{kernel['id']}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def page(lab: Lab, tmp_path: Path) -> Iterator[Page]:
    """Chromium (Debian's, headless) on the notebook; a screenshot when the test fails."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        opened = context.new_page()
        opened.set_default_timeout(30_000)
        opened.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}")
        try:
            yield opened
        finally:
            with contextlib.suppress(Exception):
                SHOTS.mkdir(parents=True, exist_ok=True)
                opened.screenshot(path=SHOTS / "last-state.png")
            context.close()
            browser.close()


class Shots:
    """Screenshots: into the test's tmp dir, copied to ``.scratch/screenshots``."""

    def __init__(self, page: Page, directory: Path) -> None:
        self.page = page
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def __call__(self, name: str, target: Locator | None = None) -> None:
        path = self.directory / f"{len(self.taken) + 1:02d}-{name}.png"
        if target is None:
            self.page.screenshot(path=path)
        else:
            target.screenshot(path=path)
        self.taken.append(path)
        shutil.copy(path, SHOTS / path.name)


def run_all(page: Page) -> None:
    """Run every cell once the kernel is idle (a Run All clicked earlier is lost)."""
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()


def test_edit_save_restart_lock_and_deploy_in_the_browser(
    page: Page, lab: Lab, server: LocalServer, tmp_path: Path
) -> None:
    shots = Shots(page, tmp_path / "screenshots")
    for old in SHOTS.glob("*.png"):
        old.unlink()
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
    expect(step.locator(".wl-checklist")).to_contain_text("It runs the saved spec")
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
    assert len(shots.taken) == 7
