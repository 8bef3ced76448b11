"""Which files a live sync watches, which changes count, and the compile check before a restart.

**What is watched.** ``PATH`` when given; else, on the container runtime, the sources of the
primary container's ``localMounts`` (the files the container sees); on the process runtime the
directory holding the entrypoint's script: the first argument after the interpreter that names
an existing file (``python app.py``), or the executable itself when it is a path
(``./serve.sh``). A relative path is the server's: its processes start in the server's working
directory (:class:`~workloadlab.models.local.LocalServer` says which).

**What counts.** Everything but editors' and tools' droppings (watchfiles' default filter, plus
Jupyter's ``.ipynb_checkpoints``) and the files an app commonly writes beside its own code:
logs (``*.log``, rotated ``*.log.1``), databases (``*.db``, ``*.sqlite``, ``*.sqlite3`` and
their ``-journal``/``-wal``/``-shm``), pid files. Counting those would restart the app on its
own writes, over and over (a log line per readiness probe is a restart a second).

**The compile check.** The process runtime runs the files on disk, so a restart onto a file
with a syntax error would replace a good instance with one that cannot start: each changed
``.py`` file is compiled first (nothing is imported or run), and a failure is reported as
``file:line: message`` instead of restarting.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchfiles import Change, DefaultFilter

from workloadlab.models.local import LOCAL_MOUNTS, LocalServer

IGNORED_DIRS = (*DefaultFilter.ignore_dirs, ".ipynb_checkpoints")
APP_WRITTEN = (
    r"\.log(\.\d+)?$",
    r"\.(db|sqlite3?)(-journal|-wal|-shm)?$",
    r"\.pid$",
)
"""Names of the files an app writes beside its code (see the module's notes), not its code."""
CODE_SUFFIXES = (".py",)
"""Files that are compiled before a restart."""


class SyncRefused(Exception):
    """Live sync cannot run here; the message is one line saying why (and what to do)."""


class RootsFilter(DefaultFilter):
    """The changes that count (see the module's notes) under the roots watched: in a root
    directory, or to a root file (whose directory is watched, see :func:`watch_paths`)."""

    def __init__(self, roots: Iterable[Path] = ()) -> None:
        super().__init__(
            ignore_dirs=IGNORED_DIRS,
            ignore_entity_patterns=(*DefaultFilter.ignore_entity_patterns, *APP_WRITTEN),
        )
        roots = list(roots)
        self._files = {str(root) for root in roots if not root.is_dir()}
        self._dirs = tuple(str(root) for root in roots if root.is_dir())

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        if path in self._files:
            return True
        return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in self._dirs)


def watch_filter(roots: Iterable[Path] = ()) -> DefaultFilter:
    """The filter of the changes that count under ``roots``."""
    return RootsFilter(roots)


def watch_paths(roots: Iterable[Path]) -> list[Path]:
    """What the watcher watches for ``roots``: a directory itself, a file by its directory
    (an editor's save writes a new file and renames it over the old one: a watch of the old
    file's inode would miss every save after the first)."""
    return sorted({root if root.is_dir() else root.parent for root in roots})


def changed_paths(changes: Iterable[tuple[Change, str]]) -> set[Path]:
    """The paths of a batch of changes (added, modified or deleted)."""
    return {Path(path) for _, path in changes}


@dataclass(frozen=True)
class SyntaxProblem:
    """A file that does not compile."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def syntax_problems(paths: Iterable[Path]) -> list[SyntaxProblem]:
    """The Python files among ``paths`` that exist and do not compile, in path order."""
    problems = []
    for path in sorted(paths):
        if path.suffix not in CODE_SUFFIXES or not path.is_file():
            continue
        try:
            source = path.read_bytes()
            compile(source, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:  # IndentationError and TabError included
            problems.append(SyntaxProblem(path, exc.lineno, exc.msg))
        except (OSError, ValueError) as exc:  # unreadable, or a NUL byte
            problems.append(SyntaxProblem(path, None, str(exc)))
    return problems


def primary_container(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The primary container of a wire spec (the first one if none says so)."""
    containers = [c for g in spec.get("containerGroups", []) for c in g.get("containers", [])]
    if not containers:
        raise SyncRefused("the artifact's spec has no container")
    return next((c for c in containers if c.get("primary")), containers[0])


def watched_roots(
    spec: Mapping[str, Any], server: LocalServer, path: str | os.PathLike[str] | None = None
) -> list[Path]:
    """The files or directories to watch for a workload of ``spec`` on ``server``
    (:class:`SyncRefused` when there is nothing that a restart would pick up)."""
    primary = primary_container(spec)
    mounts = [Path(str(m.get("source"))) for m in primary.get(LOCAL_MOUNTS) or []]
    if server.runtime == "container" and not mounts:
        raise SyncRefused(
            "the container runtime runs the image's files: mount the app's directory into the"
            f" primary container ({LOCAL_MOUNTS}: [{{source: /your/app, target: /app}}]) first"
        )
    if path is not None:
        roots = [Path(path).expanduser().resolve()]
    elif server.runtime == "container":
        roots = mounts
    else:
        script = entrypoint_script(primary.get("entrypoint") or [], server.working_dir)
        if script is None:
            raise SyncRefused(
                "the entrypoint names no script file to watch (e.g. `python -m` or `-c`):"
                " give the app's directory, `%workload sync PATH`"
            )
        roots = [script.parent]
    for root in roots:
        if not root.exists():
            raise SyncRefused(f"{root} does not exist on this machine")
    return roots


def required_files(spec: Mapping[str, Any], server: LocalServer) -> tuple[Path, ...]:
    """The entrypoint's script on the process runtime (it cannot start without it), if any."""
    if server.runtime == "container":
        return ()
    script = entrypoint_script(primary_container(spec).get("entrypoint") or [], server.working_dir)
    return () if script is None else (script,)


def entrypoint_script(argv: Sequence[str], working_dir: str | None) -> Path | None:
    """The script an entrypoint runs (see the module's notes), resolved as the server's
    process would, or ``None``."""
    base = Path(working_dir) if working_dir else Path.cwd()
    for arg in argv[1:]:
        if arg in ("-c", "-m"):
            break
        if arg.startswith("-"):
            continue
        candidate = base / arg
        if candidate.is_file():
            return candidate.resolve()
    if argv and "/" in argv[0] and (base / argv[0]).is_file():
        return (base / argv[0]).resolve()
    return None
