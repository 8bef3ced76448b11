"""The deployment card's version chooser in a real browser (JupyterLab + Debian's Chromium via
Playwright, against the module's local server): a notebook deploys version 1 and locks a
version 2 of the same artifact; the card lists both, Move asks, then the card, the header and
the endpoint follow the deployment to version 2 and back; once the deployment is deleted, Move
is off and says why."""

from __future__ import annotations

import pprint
import re
import secrets
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from browsertools import Shots, code_notebook, open_notebook, run_all, write_notebook
from harness import LocalServer, free_port, hello_spec
from labtools import Lab, LabFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COLLECTION = f"browser-versions-{secrets.token_hex(4)}"
"""The artifact's name: its registered versions form a collection of their own."""


def spec_cell(variable: str, greeting: str) -> str:
    """A cell that defines ``variable``: the example app on a free port, named
    :data:`COLLECTION`."""
    spec = {**hello_spec(free_port(), greeting), "name": COLLECTION}
    code = pprint.pformat(spec, width=96).replace(repr(sys.executable), "sys.executable")
    return f"import sys\n{variable} = {code}"


@pytest.fixture
def lab(start_lab: LabFactory, server: LocalServer, tmp_path: Path) -> Lab:
    """JupyterLab serving a notebook that deploys version 1, locks a version 2 (another
    workload's draft of the same artifact) and shows the deployed workload's panel."""
    root = tmp_path / "notebooks"
    root.mkdir()
    cells = [
        "%load_ext workloadlab",
        spec_cell("spec", "hello from version 1"),
        "%workload create $spec --name browser-v1",
        "%workload lock --yes",
        "%workload deploy --name browser-prod --yes",
        spec_cell("spec2", "hello from version 2"),
        "%workload create $spec2 --name browser-v2",
        "%workload lock --yes",
        "%workload panel browser-v1",
    ]
    write_notebook(code_notebook(*cells), root / "versions.ipynb")
    env = {"DATAROBOT_ENDPOINT": server.endpoint, "DATAROBOT_API_TOKEN": server.token}
    return start_lab(root=root, env=env)


def move(panel: Locator, version: int, was: int) -> None:
    """Choose ``version`` in the card, press Move, answer the question."""
    choice = panel.locator(".wl-version-choice select")
    texts = choice.locator("option").all_inner_texts()
    label = next(text for text in texts if text.split()[0] == f"v{version}")
    choice.select_option(label=label)
    button = panel.locator("button.wl-version-move")
    expect(button).to_have_text(f"Move deployment to v{version}…")
    expect(button).to_be_enabled()
    button.click()
    expect(panel.locator(".wl-version-question")).to_contain_text(
        f"from version {was} to version {version}?"
    )
    panel.locator("button.wl-version-confirm").click()


def test_the_card_moves_the_deployment_to_version_2_and_back(
    page: Page, lab: Lab, server: LocalServer, tmp_path: Path
) -> None:
    open_notebook(page, lab, "versions.ipynb")
    shots = Shots(page, tmp_path / "screenshots", "versions-")
    run_all(page)
    panel = page.locator(".jp-Notebook .wl-panel")
    expect(panel.locator(".wl-status")).to_have_text("running", timeout=90_000)
    card = panel.locator(".wl-deployment")
    expect(card).to_contain_text("browser-prod")
    options = panel.locator(".wl-version-choice select option")
    expect(options).to_have_count(2, timeout=30_000)
    # (ipywidgets writes a dropdown's spaces as no-break spaces: ``\s``)
    expect(options.nth(0)).to_have_text(re.compile(r"^v2\s·\s.+\s·\ssha256:[0-9a-f]{12}\s*$"))
    expect(options.nth(1)).to_have_text(
        re.compile(r"^v1\s·\s.+\s·\ssha256:[0-9a-f]{12}\s·\sdeployed\shere\s*$")
    )
    shots("two-versions", panel)

    move(panel, 2, was=1)
    message = panel.locator(".wl-message")
    expect(message).to_contain_text("runs version 2 (was version 1)", timeout=60_000)
    expect(card.locator(".wl-rollout")).to_have_text(
        re.compile(r"^version 1 → 2: done at [\d:]{8}$")
    )
    expect(card).to_contain_text("version 2")
    expect(panel.locator(".wl-header")).to_contain_text("registered v2")
    expect(options.nth(0)).to_have_text(re.compile(r"deployed\shere"))
    shots("moved-to-2", panel)
    with server.client() as api:
        (deployment,) = api.get("/console/deployments/", params={"search": "browser-prod"}).json()[
            "data"
        ]
        assert deployment["artifact"]["version"] == 2
        answer = api.get(f"/endpoints/deployments/{deployment['id']}/").json()
        assert answer["greeting"] == "hello from version 2"

    move(panel, 1, was=2)
    expect(message).to_contain_text("runs version 1 (was version 2)", timeout=60_000)
    expect(card.locator(".wl-rollout")).to_have_text(re.compile(r"^version 2 → 1: done at"))
    expect(panel.locator(".wl-header")).to_contain_text("registered v1")
    shots("moved-back", panel)

    panel.locator("button.wl-deployment-delete").click()
    panel.locator("button.wl-deployment-confirm-delete").click()
    expect(card.locator(".wl-badge")).to_have_text("deleted", timeout=30_000)
    expect(panel.locator("button.wl-version-move")).to_be_disabled()
    expect(panel.locator(".wl-version-note")).to_have_text("⚠ the deployment was deleted")
    shots("deleted", panel)

    with server.client() as api:
        for name in ("browser-v1", "browser-v2"):
            (workload,) = api.get("/console/workloads/", params={"search": name}).json()["data"]
            api.delete(f"/console/workloads/{workload['id']}/")
        assert (
            api.get("/console/deployments/", params={"search": "browser-prod"}).json()["data"] == []
        )
