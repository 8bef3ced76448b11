"""Fixtures shared by every test (a real local server over loopback, JupyterLab, the browser),
and how the suite is split between parallel workers (``pytest -n``, see ``tests/README.md``).

Markers come from where a test lives (``MARKS_BY_PATH``) or from the test module. Workers get
whole groups of tests (``xdist_group_of``): by default a module, so its module-scoped server
starts once; the tests that share something (``SHARED``) form one group, which one worker runs
in turn. Groups holding heavy tests are handed out first, so the longest do not start last.

The groups are a function of the test's id, used by this suite's scheduler, rather than
pytest-xdist's ``xdist_group`` marks: with pytest 9.2 those no longer reach its ``loadgroup``
scheduler (it renames ``item._nodeid``, which pytest no longer reads), so every marked test
would silently run anywhere. A test carrying such a mark is refused.
"""

from __future__ import annotations

import json
import os
import re
import resource
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright

from currenttools import CURRENT

from browsertools import chromium_launch_args
from harness import LocalServer, kill_marked, running_server
from labtools import LabFactory

if TYPE_CHECKING:
    from xdist.remote import Producer
    from xdist.scheduler import LoadScopeScheduling

TESTS = Path(__file__).resolve().parent

MARKS_BY_PATH = {
    "containers/": ("container",),
    "containers/test_container_recovery.py": ("slow",),
    "fuzz/": ("slow",),
    "test_server_log_flood.py": ("alone",),
    "containers/test_container_log_flood.py": ("alone",),
    "test_server_delete_races.py": ("slow",),
    "jupyter/": ("notebook", "slow"),
    "cli/": ("slow",),
    "notebooks/": ("notebook", "slow"),
}
"""Markers of every test under a directory of ``tests/`` (or in one module)."""

SHARED = [
    # One podman service and its storage.
    (re.compile(r"^tests/containers/"), "podman"),
    # Chromium and JupyterLab: the heaviest tests, one at a time.
    (re.compile(r"_browser\.py::"), "browser"),
    # The tutorials' apps listen on fixed ports, which readers see: two runs of one must not
    # overlap. Tutorial 02's port (18711) is also its browser test's.
    (re.compile(r"^tests/notebooks/test_tutorials\.py::.*\[02-"), "browser"),
    (re.compile(r"^tests/notebooks/test_tutorials\.py::.*\[03-"), "tutorial-port-18712"),
]
"""Tests that share a resource, by id (a pattern), and the group that runs them in turn."""

HEAVY = ("browser", "container", "fuzz", "notebook", "slow")
"""Markers of the tests whose groups are handed to the workers first."""


def xdist_group_of(nodeid: str) -> str:
    """The group of the test with this id: a shared resource's, else its module."""
    for pattern, group in SHARED:
        if pattern.search(nodeid):
            return group
    return nodeid.split("::", 1)[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling:
    """Workers get whole groups (``xdist_group_of``), in the order collected."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid)

    config.option.loadscopereorder = False  # keep the heavy groups first
    return GroupScheduling(config, log)


ALONE = tuple(where for where, names in MARKS_BY_PATH.items() if "alone" in names)
"""Where the tests marked ``alone`` live: the only ones a run of ``-m alone`` collects."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``make test``'s second run (``-m alone``) collects only the modules of ``ALONE`` (the
    others' imports and assertion rewriting take seconds)."""
    if config.getoption("markexpr") != "alone" or TESTS not in collection_path.parents:
        return None
    where = collection_path.relative_to(TESTS).as_posix()
    if collection_path.is_dir():
        return not any(alone.startswith(f"{where}/") for alone in ALONE) or None
    if collection_path.name.startswith("test_") and collection_path.suffix == ".py":
        return not any(where.startswith(alone) for alone in ALONE) or None
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add the directory markers; put the groups of heavy tests first."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            raise pytest.UsageError(
                f"{item.nodeid}: an xdist_group mark is ignored here; add the test to SHARED "
                "in tests/conftest.py"
            )
        if item.get_closest_marker("alone"):
            raise pytest.UsageError(
                f"{item.nodeid}: mark a test alone in MARKS_BY_PATH in tests/conftest.py (a run "
                "of -m alone collects only the modules listed there)"
            )
        where = item.path.relative_to(TESTS).as_posix()
        for prefix, names in MARKS_BY_PATH.items():
            if where.startswith(prefix):
                for name in names:
                    item.add_marker(name)
    heavy = {
        xdist_group_of(item.nodeid)
        for item in items
        if any(item.get_closest_marker(name) for name in HEAVY)
    }
    items.sort(key=lambda item: xdist_group_of(item.nodeid) not in heavy)  # stable otherwise


TIMELINE = os.environ.get("WORKLOADLAB_TEST_TIMELINE")
"""A file to which each pytest process appends a line per test (id, group, worker, start and
end in wall-clock seconds, CPU seconds of the process and its reaped children), to see where a
parallel run's wall time goes: ``scripts/test-timeline.py`` reads it."""


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timeline(line: dict[str, object]) -> None:
    assert TIMELINE
    line["worker"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(TIMELINE, "a") as timeline:
        timeline.write(json.dumps(line) + "\n")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With ``WORKLOADLAB_TEST_TIMELINE`` set, record when the pytest process started (its
    plugins and conftest loaded) and when its session did (collection follows)."""
    if TIMELINE:
        started = _process_start()
        _timeline({"session": "process start", "time": started})
        _timeline({"session": "session start", "time": time.time()})


def pytest_sessionfinish(session: pytest.Session) -> None:
    if TIMELINE:
        _timeline({"session": "session finish", "time": time.time()})


def _process_start() -> float:
    """When this process started, in wall-clock seconds (from ``/proc``)."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    boot = next(
        float(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    return boot + ticks / os.sysconf("SC_CLK_TCK")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    """With ``WORKLOADLAB_TEST_TIMELINE`` set, record the test's span (setup to teardown)."""
    if not TIMELINE:
        return (yield)
    start, cpu = time.time(), _cpu_seconds()
    try:
        return (yield)
    finally:
        _timeline(
            {
                "id": item.nodeid,
                "group": xdist_group_of(item.nodeid),
                "start": start,
                "end": time.time(),
                "cpu": _cpu_seconds() - cpu,
            }
        )


@pytest.fixture(scope="session", autouse=True)
def scratch_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Each pytest process (each xdist worker) gets a scratch ``HOME``: IPython, Jupyter and
    Chromium keep state there (IPython's history database, kernels' runtime files), which
    workers must not share, and no developer's ``~/.config/datarobot`` leaks into a test."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        yield home


# -- the local server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One server per test module (its own data dir), stopped gracefully at the end."""
    data_dir = tmp_path_factory.mktemp("server")
    with running_server(data_dir) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """One ``--api current`` server per test module (a module may define its own, with other
    options)."""
    data_dir = tmp_path_factory.mktemp("current")
    with running_server(data_dir, *CURRENT) as started:
        yield started
    kill_marked(data_dir)


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated HTTP client for the module's server."""
    with server.client() as client:
        yield client


@pytest.fixture
def capi(current: LocalServer) -> Iterator[httpx.Client]:
    """An authenticated HTTP client for the module's ``current`` server (a module-scoped
    fixture of the module: an ``--api current`` server)."""
    with current.client() as client:
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
    factory.cleanup()


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
