"""The tutorial notebooks run top to bottom against a fresh local server (nbval).

Lax mode runs every notebook as it is in the repo. Strict mode first executes a copy, then
checks with nbval that running it again gives the same outputs once ids, ports and times are
sanitized: the tutorials are deterministic, so what a reader sees is what they will get.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from currenttools import CURRENT

from harness import LocalServer, wait_until
from labtools import pid_alive

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SANITIZE = Path(__file__).with_name("sanitize.cfg")


@pytest.fixture
def fresh_env(tmp_path: Path) -> Iterator[Callable[[], dict[str, str]]]:
    """Environments like a new machine's: each has its own data dir (so its own local server,
    started by the notebook) and home; every server is stopped afterwards."""
    made: list[Path] = []

    def make() -> dict[str, str]:
        root = tmp_path / f"machine{len(made)}"
        (root / "home").mkdir(parents=True)
        made.append(root)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DATAROBOT_") and not key.startswith("PYTEST_")
        }
        env["WORKLOADLAB_DATA_DIR"] = str(root / "data")
        env["HOME"] = str(root / "home")
        return env

    yield make
    for root in made:
        stop_local_server(root / "data")


def stop_local_server(data_dir: Path) -> None:
    """SIGTERM the local server of a data dir and wait until it has exited: it stops its
    workloads first, which frees the ports they listened on."""
    connection = data_dir / "server.json"
    if not connection.exists():
        return
    pid = int(json.loads(connection.read_text())["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not pid_alive(pid), timeout=60, interval=0.05)


def _nbval(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "nbval",  # and no other plugin of the venv: each costs start-up time, none is used
            "-p",
            "no:cacheprovider",
            # not the repo's pytest settings (the sanitize file's path would make them found)
            "-c",
            os.devnull,
            "--rootdir",
            str(cwd),
            "--nbval-current-env",
            *args,
        ],
        env={**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


PROFILES = {"v2.41": [], "current": CURRENT}
"""The local server's profiles: the tutorials run unchanged against either."""
SAYS = "speaks the {profile} generation of the Workload API"
"""What each tutorial's first cell prints about the generation it found."""
FIRST_CELL_SANITIZE = """[generation]
regex: (?m)^.*(speaks the \\S+ generation of the Workload API).*$
replace: \\1
"""
"""Keeps of the first cell's output only what it says about the generation."""


def expect_first_cell_to_say(copy: Path, profile: str) -> None:
    """Have nbval check the first code cell's output (lax mode checks only cells marked so):
    it must say the generation of ``profile``."""
    import nbformat

    notebook = nbformat.read(copy, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    first.source = "# NBVAL_CHECK_OUTPUT\n" + first.source
    said = SAYS.format(profile=profile)
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{said}\n")]
    first.execution_count = 1  # nbval refuses outputs of a cell never run
    nbformat.write(notebook, copy)


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(
    notebook: Path, profile: str, tmp_path: Path, fresh_env: Callable[[], dict[str, str]]
) -> None:
    """Each tutorial against each profile, its first cell saying which generation it found:
    the kernel finds the local server through its data dir (``WORKLOADLAB_DATA_DIR``), where
    the v2.41 one is started by the notebook (as on a new machine) and the current one is
    started first (``serve --api current``)."""
    copy = tmp_path / notebook.name
    shutil.copy(notebook, copy)
    expect_first_cell_to_say(copy, profile)
    sanitize = tmp_path / "first-cell.cfg"
    sanitize.write_text(FIRST_CELL_SANITIZE)
    env = fresh_env()
    if PROFILES[profile]:
        LocalServer(Path(env["WORKLOADLAB_DATA_DIR"]), PROFILES[profile]).start()
    checked = ["--nbval-lax", "--nbval-sanitize-with", str(sanitize), str(copy)]
    before = set(tmp_path.iterdir())
    result = _nbval(checked, env, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    written = {path.name for path in set(tmp_path.iterdir()) - before} - NBVAL_OWN
    assert_ignored_in_notebooks(written)


NBVAL_OWN = {".pytest_cache"}
"""What the nbval run itself (pytest) writes beside the notebook."""


def assert_ignored_in_notebooks(names: set[str]) -> None:
    """The files a tutorial wrote next to itself (its scratch files) are ignored by git in
    ``notebooks/``, so running the tutorials there leaves a clean checkout."""
    for name in sorted(names):
        ignored = subprocess.run(
            ["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index", f"notebooks/{name}"],
            check=False,
        )
        assert ignored.returncode == 0, f"running the tutorial leaves notebooks/{name} to commit"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_are_reproducible(
    notebook: Path, tmp_path: Path, fresh_env: Callable[[], dict[str, str]]
) -> None:
    import nbclient  # here: nbformat's import costs each pytest worker a second (browsertools)
    import nbformat

    executed = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(
        executed, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute(env=(first := fresh_env()))
    assert any(cell.get("outputs") for cell in executed.cells if cell.cell_type == "code")
    # A fresh machine runs nothing of the first: its server and workloads (fixed ports) end.
    stop_local_server(Path(first["WORKLOADLAB_DATA_DIR"]))
    copy = tmp_path / notebook.name
    nbformat.write(executed, copy)
    result = _nbval(  # on another fresh machine: what a reader who runs it will see
        ["--nbval", "--nbval-sanitize-with", str(SANITIZE), str(copy)], fresh_env(), tmp_path
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
