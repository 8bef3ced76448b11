"""A notebook's current workload, remembered across kernel restarts.

A kernel's :class:`~workloadlab.notebook.session.Session` knows which workload is current (the
last one created or used). A restarted kernel starts empty, so ``%workload panel`` used to answer
"no current workload" in a notebook that had one. The choice is therefore also written to
``current-workloads.json`` in workloadlab's data dir, keyed by the notebook's path and the API
endpoint, and a new kernel of the same notebook reads it back the first time it is asked.

- The notebook's path comes from ``JPY_SESSION_NAME``, which Jupyter sets in the environment of
  every kernel it starts for a notebook and keeps across restarts. Without it (a plain IPython,
  a script) nothing is remembered.
- Why the data dir rather than the notebook's metadata: a kernel cannot write the notebook (the
  front end owns the document and would overwrite an outside change on its next save), and the
  data dir already holds the user's workloadlab state. Ids only: no names, specs or secrets.
- Writes take a lock file and replace the file atomically, so two kernels never interleave; the
  file keeps the most recent :data:`KEEP` notebooks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workloadlab.connection import default_data_dir

FILE_NAME = "current-workloads.json"
KEEP = 200
"""Notebooks remembered at most (the least recently changed are dropped)."""
NOTEBOOK_ENV = "JPY_SESSION_NAME"


def notebook_path() -> str | None:
    """The path of the notebook this kernel runs for (``None`` outside Jupyter)."""
    return os.environ.get(NOTEBOOK_ENV) or None


def _key(notebook: str, endpoint: str) -> str:
    return f"{endpoint} {notebook}"


def _path(data_dir: Path | None) -> Path:
    return (data_dir or default_data_dir()) / FILE_NAME


def _read(path: Path) -> dict[str, dict[str, Any]]:
    """The file's well-formed entries (``{"workload_id": str, "at": seconds}``): a file edited
    by hand or damaged loses what cannot be read, never the command that reads it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: entry
        for key, entry in data.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("workload_id"), str)
        and isinstance(entry.get("at"), int | float)
        and math.isfinite(entry["at"])
    }


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def recall(notebook: str, endpoint: str, data_dir: Path | None = None) -> str | None:
    """The workload id remembered for this notebook on this endpoint, if any."""
    entry = _read(_path(data_dir)).get(_key(notebook, endpoint))
    return None if entry is None else str(entry["workload_id"])


def remember(
    notebook: str, endpoint: str, workload_id: str | None, data_dir: Path | None = None
) -> None:
    """Remember (or, with ``None``, forget) the notebook's current workload. Best effort: a
    data dir that cannot be written only loses the memory, never the command."""
    path = _path(data_dir)
    with contextlib.suppress(OSError), _locked(path):
        data = _read(path)
        key = _key(notebook, endpoint)
        if workload_id is None:
            if data.pop(key, None) is None:
                return
        else:
            data[key] = {"workload_id": workload_id, "at": time.time()}
        if len(data) > KEEP:
            newest = sorted(data.items(), key=lambda item: -float(item[1]["at"]))
            data = dict(newest[:KEEP])
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".current-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=1, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
