"""The promote path in a real browser, on the current generation: JupyterLab (Chromium through
Playwright) against a ``serve --api current`` server; the notebook (the v2.41 browser test's)
creates the example workload and shows its panel; Lock & Deploy offers promote by default,
Confirm promotes, and the workload, still running at its endpoint, runs a locked artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_panel_browser import lab  # noqa: F401 - its JupyterLab, on this module's server

from browsertools import Shots, open_notebook, run_all
from harness import LocalServer
from labtools import Lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(current_server: LocalServer) -> LocalServer:
    """The module's server speaks the current generation."""
    return current_server


def test_lock_and_deploy_promotes_the_workload_in_the_browser(
    page: Page,
    lab: Lab,  # noqa: F811 - the imported fixture
    server: LocalServer,
    tmp_path: Path,
) -> None:
    open_notebook(page, lab, "panel.ipynb")  # test_panel_browser's notebook and JupyterLab
    shots = Shots(page, tmp_path / "screenshots", "panel-current-")
    run_all(page)
    inline = page.locator(".jp-Notebook .wl-panel")
    expect(inline.locator(".wl-status")).to_have_text("running", timeout=60_000)

    inline.locator("button.wl-lock-deploy").click()
    step = inline.locator(".wl-deploy-step")
    expect(step).to_be_visible()
    expect(step.locator(".wl-deploy-way-row")).to_be_visible()
    expect(step.locator(".wl-deploy-name-row")).to_be_hidden()
    expect(step).to_contain_text("keeps its endpoint")
    expect(step.locator(".wl-checklist")).to_contain_text("Runs the saved spec")
    expect(step.locator(".wl-checklist")).not_to_contain_text("✗", timeout=30_000)
    expect(step.locator("button.wl-confirm")).to_be_enabled()
    shots("confirm", inline)
    step.locator("button.wl-confirm").click()
    expect(inline.locator(".wl-message")).to_contain_text(
        "'browser-hello' is production; its endpoint is unchanged", timeout=30_000
    )
    expect(inline.locator(".wl-message")).to_contain_text("locked as version 1")
    expect(inline.locator(".wl-production")).to_contain_text("(this workload, promoted)")
    expect(inline.locator(".wl-production")).to_contain_text("locked version 1")
    expect(inline.locator("button.wl-save")).to_be_disabled()
    shots("promoted", inline)

    with server.client() as api:
        (workload,) = api.get("/workloads/", params={"search": "browser-hello"}).json()["data"]
        assert workload["status"] == "running"
        assert workload["artifact"]["status"] == "locked"
        history = api.get(f"/workloads/{workload['id']}/history").json()["data"]
        assert history[0]["candidateArtifactId"] == workload["artifactId"], "promote's record"
        api.delete(f"/workloads/{workload['id']}/")
