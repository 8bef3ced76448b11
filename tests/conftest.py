"""Fixtures shared by every test (a real local server over loopback, JupyterLab, the browser),
and how the suite is sorted for parallel runs.

Markers come from where a test lives (``MARKS_BY_PATH``) or from the test module; every test
gets an xdist group (``--dist loadgroup``, see ``tests/README.md``): the tests of one module
run on one worker, so a module's server starts once; every container test runs on one worker
(one podman), and so does every browser test (Chromium and JupyterLab are heavy) together with
the tutorial notebooks that use the same fixed port. Groups holding slow tests are handed out
first, so the longest ones do not start last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

from browsertools import chromium_launch_args
from harness import LocalServer, kill_marked, running_server
from labtools import LabFactory, kill_local_servers

TESTS = Path(__file__).resolve().parent

MARKS_BY_PATH = {
    "containers/": ("container",),
    "containers/test_container_recovery.py": ("slow",),
    "jupyter/": ("notebook", "slow"),
    "notebooks/": ("notebook", "slow"),
}
"""Markers of every test under a directory of ``tests/`` (or in one module)."""

HEAVY = ("browser", "container", "notebook", "slow")
"""Markers of the tests whose groups are handed to the workers first."""


@pytest.fixture(scope="session", autouse=True)
def scratch_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each pytest process (each xdist worker) gets a scratch ``HOME``: IPython, Jupyter and
    Chromium keep state there (IPython's history database, kernels' runtime files), which
    workers must not share, and no developer's ``~/.config/datarobot`` leaks into a test."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        yield home


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the directory markers and the xdist groups; put the heavy groups first."""
    for item in items:
        where = item.path.relative_to(TESTS).as_posix()
        for prefix, names in MARKS_BY_PATH.items():
            if where.startswith(prefix):
                for name in names:
                    item.add_marker(name)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item, where)))
    heavy = {_group_of(item) for item in items if _is_heavy(item)}
    items.sort(key=lambda item: _group_of(item) not in heavy)  # stable: order kept otherwise


def _group(item: pytest.Item, where: str) -> str:
    if item.get_closest_marker("container"):
        return "podman"
    if item.get_closest_marker("browser"):
        return "browser"
    return where  # the module: its module-scoped server starts once


def _group_of(item: pytest.Item) -> str:
    mark = item.get_closest_marker("xdist_group")
    assert mark is not None
    return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))


def _is_heavy(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in HEAVY)


# -- the local server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server per test module (its own data dir), stopped gracefully at the end."""
    data_dir = tmp_path_factory.mktemp("server")
    with running_server(data_dir) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated HTTP client for the module's server."""
    with server.client() as client:
        yield client


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data dir for a test that starts its own server(s); leaves no process behind."""
    path = tmp_path / "data"
    yield path
    kill_marked(path)


# -- JupyterLab and the browser ----------------------------------------------------------------


@pytest.fixture
def start_lab(tmp_path: Path, data_dir: Path) -> Iterator[LabFactory]:
    """Start JupyterLab (``make lab``'s way, headless) on ``data_dir``; whatever a test leaves
    running (JupyterLab, the local server, workloads) is killed afterwards."""
    factory = LabFactory(tmp_path, data_dir)
    yield factory
    for lab in factory.started:
        with contextlib.suppress(Exception):
            lab.stop(timeout=45)
        lab.kill()
    kill_local_servers(data_dir)
    kill_marked(data_dir)


# pytest-playwright's Playwright and browser are session-scoped. Its sync API marks the main
# thread's asyncio loop as running for as long as Playwright runs, which breaks every asyncio test
# that an xdist worker runs after a browser test ("Runner.run() cannot be called from a running
# event loop"): here they live as long as one test module. Its page, context and the rest are used
# as they are.


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    chosen: BrowserType = getattr(playwright, browser_name)
    return chosen


@pytest.fixture(scope="module")
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[..., Browser]) -> Iterator[Browser]:
    launched = launch_browser()
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches Debian's headless Chromium with the flags these machines
    need (``/work/shared/testing.md``); never a browser of ``playwright install``."""
    return {**browser_type_launch_args, **chromium_launch_args()}


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    """A window large enough for JupyterLab with the panel in its sidebar (pytest-playwright's
    own version of this fixture needs its session-scoped Playwright)."""
    return {"viewport": {"width": 1500, "height": 1000}}
