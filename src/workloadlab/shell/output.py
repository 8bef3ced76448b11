"""What the shell prints: results as text or JSON, messages, errors; and exit codes.

- ``--output text``: messages and tables on stdout, as the magic prints them, except that the
  commands they suggest are spelled the shell's way (``workloadlab workload restart ID`` for
  ``%workload restart``); errors on stderr.
- ``--output json``: stdout carries only JSON: the result of the command as one document
  (``null`` when it has none, e.g. after a delete), or for ``logs`` one object per line (JSON
  Lines, so ``--follow`` can stream); messages and progress go to stderr. Environment values
  are masked (``***``): they may be secrets. The API token is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from workloadlab.models import Deployment
from workloadlab.models.neutral import Workload

MASK = "***"
SPELLINGS = (("%workload ", "workloadlab workload "),)
"""How the magic's messages name commands, and how the shell does."""


def in_shell_words(text: str) -> str:
    """A message of the command layer, naming the shell's commands instead of the magic's."""
    for magic, shell in SPELLINGS:
        text = text.replace(magic, shell)
    return text


class Translating:
    """A text stream that writes to ``target`` in the shell's words and notes that it did."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.written = False

    def write(self, text: str) -> int:
        """Write ``text`` translated."""
        self.written = self.written or bool(text.strip())
        return self.target.write(in_shell_words(text))

    def flush(self) -> None:
        """Flush the target."""
        self.target.flush()


def masked(data: Any) -> Any:
    """JSON data with every environment value replaced by ``***``."""
    if isinstance(data, list):
        return [masked(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {key: masked(value) for key, value in data.items()}
    variables = out.get("environmentVars")
    if isinstance(variables, list):
        out["environmentVars"] = [
            {**v, "value": MASK} if isinstance(v, dict) and isinstance(v.get("value"), str) else v
            for v in variables
        ]
    return out


def as_json(value: Any) -> str:
    """``value`` (models, lists, dataclasses, plain data) as JSON, masked."""
    if isinstance(value, BaseModel):
        data = value.model_dump(mode="json", by_alias=True)
    else:
        data = to_jsonable_python(value, by_alias=True)
    return json.dumps(masked(data), indent=2, ensure_ascii=False)


@dataclass
class Output:
    """Prints for one run of a command in ``mode`` (``text`` or ``json``)."""

    mode: str = "text"
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _messages: Translating | None = None
    _shown: bool = False

    @property
    def json(self) -> bool:
        """Whether stdout is for JSON only."""
        return self.mode == "json"

    @contextlib.contextmanager
    def messages(self, *, quiet: bool = False) -> Iterator[None]:
        """While a command runs, what it prints goes to stdout (text) or stderr (JSON), or
        nowhere (``quiet``)."""
        target = io.StringIO() if quiet else self.stderr if self.json else self.stdout
        self._messages = Translating(target)
        with contextlib.redirect_stdout(self._messages):
            yield

    def show(self, html: str, text: str) -> None:
        """A table the command shows: as text; in JSON mode its result says it all."""
        self._shown = True
        if not self.json:
            print(text, file=self.stdout)

    def emit(self, text: str, item: Any) -> None:
        """One item of a stream (a log record): a line of text, or a JSON line."""
        if self.json:
            data = item.model_dump(mode="json", by_alias=True)
            print(json.dumps(masked(data), ensure_ascii=False), file=self.stdout, flush=True)
        else:
            print(text, file=self.stdout, flush=True)

    def result(self, value: Any, *, shown: bool, streamed: bool = False) -> None:
        """The command's result: as JSON; or as text unless it was shown or said already."""
        if self.json:
            if not streamed:
                print(as_json(value), file=self.stdout)
            return
        said = self._messages is not None and self._messages.written
        text = _text_of(value, said=said or shown or self._shown)
        if text:
            print(text, file=self.stdout)

    def error(self, message: str) -> None:
        """A failure, on stderr, in the shell's words."""
        print(in_shell_words(message), file=self.stderr)


def _text_of(value: Any, *, said: bool) -> str | None:
    """The text of a result: a workload, a deployment or a list shown as a table always; the
    rest unless the command showed or said it already."""
    from workloadlab.models.shown import ShownList, bundle

    if value is None or (said and not isinstance(value, Workload | Deployment | ShownList)):
        return None
    found = bundle(value, getattr(value, "current", None))
    if found is not None:
        return found["text/plain"]
    if isinstance(value, list):
        return None  # shown as a table already
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable_python(value), indent=2, ensure_ascii=False)


def run_writing_stdout(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``run(args)``'s exit code; a stdout that cannot be written (the reader of a pipe left,
    ``> /dev/full``, a full disk) is exit 1 and at most one line, never a traceback."""
    try:
        code = run(args)
        sys.stdout.flush()  # here, not at exit: a failed write is then one line
    except BrokenPipeError:  # `workloadlab workload list | head`: the reader left
        _drop_stdout()
        return 1
    except OSError as exc:
        _drop_stdout()
        print(f"workloadlab: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return code


def _drop_stdout() -> None:
    """Send what is left of stdout's buffer nowhere (its flush at exit would fail again)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
