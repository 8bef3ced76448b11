"""The magics tutorial end to end in a real browser: JupyterLab started the way ``make lab``
starts it (the server extension starts the local server; nobody else does), Debian's Chromium
driven by Playwright opens ``02-magics-and-panel.ipynb`` and runs all cells.

Run All goes on to the clean-up cells, which delete the deployment and the workload, and
the whole notebook runs in about a second, so the panel's ``running`` badge is transient: a
MutationObserver installed before Run All records every text the panel's badges and deployment
cards show, and the test asserts on that history once the last cell's output is there, then on
what stays (the deploy cell's output, the panel's final ``deleted``), including the panel's
deployment card for the deployment the magic made. Screenshots go to the test's tmp dir and
``.scratch/screenshots/tutorial-*.png``; pytest-playwright keeps one of a failure in
``.scratch/playwright``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from browsertools import Shots, open_notebook, run_all
from harness import processes_marked, wait_until
from labtools import Lab, LabFactory

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TUTORIAL = "02-magics-and-panel.ipynb"

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RECORDER = """() => {
  const seen = (window.__wl = {statuses: [], cards: []});
  const record = () => {
    for (const el of document.querySelectorAll(".wl-panel .wl-status")) {
      const text = el.textContent.trim();
      if (text && seen.statuses[seen.statuses.length - 1] !== text) seen.statuses.push(text);
    }
    for (const el of document.querySelectorAll(".wl-panel .wl-deployment")) {
      const text = el.textContent.trim();
      if (text && !seen.cards.includes(text)) seen.cards.push(text);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
  record();
}"""


def code_cell(prefix: str) -> int:
    """The index (among code cells) of the tutorial's cell whose source starts so."""
    import nbformat  # here: its import costs each pytest worker a second (browsertools)

    book = nbformat.read(NOTEBOOKS / TUTORIAL, as_version=4)
    sources = [cell.source for cell in book.cells if cell.cell_type == "code"]
    (index,) = [i for i, source in enumerate(sources) if source.startswith(prefix)]
    return index


def seen(page: Page) -> dict[str, list[str]]:
    """What the recorder saw so far."""
    found: dict[str, list[str]] = page.evaluate("() => window.__wl")
    return found


@pytest.fixture
def lab(start_lab: LabFactory, tmp_path: Path) -> Lab:
    """JupyterLab with the extension, serving a copy of the notebooks (autosave would rewrite
    the sources), with the data dir in tmp and no DataRobot configuration."""
    root = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return start_lab(root=root, open_path=TUTORIAL)


def test_the_magics_tutorial_runs_in_jupyterlab_started_like_make_lab(
    start_lab: LabFactory, lab: Lab, page: Page, tmp_path: Path, data_dir: Path
) -> None:
    # The extension started the local server before any kernel exists.
    def started() -> dict[str, Any] | None:
        info = start_lab.server_json()
        return info if info is not None and start_lab.alive(int(info["pid"])) else None

    info: dict[str, Any] = wait_until(started, timeout=30, interval=0.05)
    assert lab.serve_children() == [int(info["pid"])]

    open_notebook(page, lab, TUTORIAL)
    shots = Shots(page, tmp_path / "screenshots", "tutorial-")
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)
    page.evaluate(RECORDER)
    run_all(page)

    cells = page.locator(".jp-Notebook .jp-CodeCell")
    inline = page.locator(".jp-Notebook .wl-panel")
    sidebar = page.locator("#jp-right-stack .jupyterlab-sidecar .wl-panel")
    wait = {"timeout": 60_000}
    expect(inline).to_have_count(1, **wait)

    # Run All runs every cell, clean-up included: the last one deletes the workload.
    expect(cells.last.locator(".jp-OutputArea")).to_contain_text(
        "Deleted workload 'greeter-magic'", **wait
    )
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle")
    errors = page.locator(".jp-Notebook .jp-OutputArea-output[data-mime-type*=error]")
    assert errors.count() == 0, errors.all_inner_texts()
    invoked = cells.nth(code_cell("%workload invoke")).locator(".jp-OutputArea")
    expect(invoked).to_contain_text("hello from %%artifact")
    deployed = cells.nth(code_cell("production = %workload deploy")).locator(".jp-OutputArea")
    expect(deployed).to_contain_text("greeter-magic-prod")
    expect(deployed).to_contain_text("running")  # the deployment's status badge
    deployed.scroll_into_view_if_needed()
    shots("deploy-cell", deployed)

    # The panel (inline and in the sidebar) reached running, then followed the deletion.
    history = seen(page)
    assert "running" in history["statuses"], history
    expect(inline.locator(".wl-status")).to_have_text("deleted")
    expect(sidebar.locator(".wl-status")).to_have_text("deleted")
    expect(inline.locator(".wl-message")).to_contain_text("The workload was deleted")
    shots("sidebar-panel", page.locator("#jp-right-stack"))
    shots("page")

    # The kernel used the extension's server, and JupyterLab stops it (and its workloads).
    assert start_lab.server_json() == info
    assert lab.stop() == 0
    assert not start_lab.alive(int(info["pid"]))
    assert start_lab.server_json() is None
    assert processes_marked(data_dir) == []
    assert len(shots.taken) == 3

    # The panel was open before `%workload deploy`: it learns of the deployment from the
    # magic's poke (and the audit trail) and shows the card.
    assert any("greeter-magic-prod" in card for card in history["cards"]), history
