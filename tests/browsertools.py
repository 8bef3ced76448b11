"""Helpers of the browser tests: Debian's Chromium (driven through pytest-playwright's
fixtures, launched as ``browser_type_launch_args`` in ``tests/conftest.py`` says), JupyterLab's
Run All, and screenshots kept for a person to look at in ``.scratch/screenshots``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from labtools import Lab

CHROMIUM = Path("/usr/bin/chromium")
"""Debian's Chromium (``make browser``); never a browser that ``playwright install`` fetches."""
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
SHOTS = Path(__file__).resolve().parents[1] / ".scratch" / "screenshots"


def chromium_launch_args() -> dict[str, Any]:
    """How pytest-playwright launches the browser; skips (fails under CI) without Chromium."""
    if not CHROMIUM.exists():
        reason = "needs /usr/bin/chromium (make browser, i.e. scripts/browser-setup.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return {"executable_path": str(CHROMIUM), "headless": True, "args": CHROMIUM_ARGS}


def code_notebook(*cells: str) -> NotebookNode:
    """A Python notebook of these code cells. (nbformat is imported here, not at the top of the
    test modules: its import builds jsonschema's format grammars, a second of CPU that every
    pytest worker would pay when it collects them.)"""
    import nbformat

    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return book


def write_notebook(book: NotebookNode, path: Path) -> None:
    """Save ``book`` at ``path``."""
    import nbformat

    nbformat.write(book, path)


def open_notebook(page: Page, lab: Lab, path: str) -> Page:
    """``page`` on JupyterLab's view of the notebook at ``path``."""
    page.set_default_timeout(30_000)
    page.goto(f"{lab.url}/lab/tree/{path}?token={lab.token}")
    return page


def run_all(page: Page) -> None:
    """Run every cell once the kernel is idle (a Run All clicked earlier is lost)."""
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()


class Shots:
    """Screenshots named ``<prefix>NN-<name>.png`` in ``directory``, copied to
    ``.scratch/screenshots`` (where this test's older ones are removed first)."""

    def __init__(self, page: Page, directory: Path, prefix: str) -> None:
        self.page = page
        self.directory = directory
        self.prefix = prefix
        directory.mkdir(parents=True, exist_ok=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob(f"{prefix}[0-9][0-9]-*.png"):
            old.unlink()
        self.taken: list[Path] = []

    def __call__(self, name: str, target: Locator | None = None) -> None:
        path = self.directory / f"{self.prefix}{len(self.taken) + 1:02d}-{name}.png"
        if target is None:
            self.page.screenshot(path=path)
        else:
            target.screenshot(path=path)
        self.taken.append(path)
        shutil.copy(path, SHOTS / path.name)
