"""Where the smoke file is and how it is read and written.

The file sits next to the notebook: ``workloadlab-smoke.yaml`` in the current directory (a
kernel's is its notebook's), or wherever ``$WORKLOADLAB_SMOKE_FILE`` says (a relative path is
taken from the current directory), or the path a caller gives (the CLI's option). It is written
whole, to a temporary file renamed over it, so a reader never sees half of it.

**No aliases.** ``&a``/``*a`` let a 1 KB file stand for 10⁹ values (a "billion laughs" file
that comes in a pull request): loading would be instant and sending the body would hang the
kernel. A smoke file needs none, so :func:`load` refuses them and :func:`dump` writes none.

**Two writers** (two kernels, a kernel and the CLI) each read the file, change it and write
it back: :func:`update` holds an exclusive ``flock`` on the file's directory meanwhile, so
neither writes over the other's new check. The directory, not a lock file: nothing extra
appears beside the notebook, and the smoke file itself is replaced at each write.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml
from pydantic import ValidationError

from workloadlab.smoke.model import SmokeError, SmokeFile

FILE_NAME = "workloadlab-smoke.yaml"
ENV_VAR = "WORKLOADLAB_SMOKE_FILE"
HEADER = """\
# Smoke checks of workloadlab, by workload name: each check is a request sent through the
# invoke proxy and what its answer must show. Recorded with `%workload invoke PATH --save NAME`,
# replayed after every restart and before Lock & Deploy (`%workload smoke run`). Review it like
# code; it never holds the API token or other secrets.
"""
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BASE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):  # type: ignore[misc,valid-type]
    """Writes a value seen twice twice: the file holds no aliases (see :func:`load`)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


_DUMPER = _Dumper
"""libyaml's safe loader and dumper where PyYAML has them, else the pure-Python ones; the same
YAML either way. The file is read before every run of the checks: five checks took 8.5 ms to
load with the pure-Python loader, 0.25 ms with libyaml's (one run on this machine)."""
_READABLE = 0o644
"""A new smoke file's mode: a file for version control, nothing secret in it."""


def smoke_file_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The smoke file: ``explicit``, else ``$WORKLOADLAB_SMOKE_FILE``, else
    ``workloadlab-smoke.yaml`` in the current directory."""
    chosen = explicit if explicit is not None else os.environ.get(ENV_VAR) or FILE_NAME
    return Path.cwd() / Path(chosen).expanduser()


def shown_path(path: Path) -> str:
    """``path`` as messages name it: relative to the current directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load(path: Path) -> SmokeFile:
    """The checks in ``path`` (none when it does not exist); :class:`SmokeError` when it
    cannot be read, naming the place (never echoing its values)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return SmokeFile()
    except OSError as exc:
        raise SmokeError(f"cannot read smoke file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SmokeError(f"smoke file {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        events = yaml.parse(text, Loader=_LOADER)
        alias = next((e for e in events if isinstance(e, yaml.AliasEvent)), None)
        if alias is not None:
            where = f"line {alias.start_mark.line + 1}" if alias.start_mark else "(top)"
            raise SmokeError(
                f"smoke file {path}: {where}: YAML aliases (*name) are not allowed in a smoke file"
            )
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (see _LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SmokeError(f"smoke file {path} is not valid YAML{where}") from None
    if data is None:
        return SmokeFile()
    try:
        return SmokeFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise SmokeError(f"smoke file {path}: {where}: {first['msg']}") from None


def dump(smoke_file: SmokeFile) -> str:
    """The file's text: the header, then the checks in their stable order."""
    body = yaml.dump(
        smoke_file.wire(),
        Dumper=_DUMPER,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
    return HEADER + body


def save(path: Path, smoke_file: SmokeFile) -> None:
    """Write ``smoke_file`` to ``path`` at once (a temporary file renamed over it; over the
    file a symbolic link points to, so that the link stays one)."""
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, path.stat().st_mode & 0o777 if path.exists() else _READABLE)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(dump(smoke_file))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def update(path: Path, change: Callable[[SmokeFile], SmokeFile]) -> SmokeFile:
    """Read ``path``, apply ``change`` and write the result, with no other :func:`update`
    in between (see the module's notes); the file written."""
    path.resolve().parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.resolve().parent):
        changed = change(load(path))
        save(path, changed)
    return changed


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock
