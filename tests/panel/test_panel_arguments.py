"""The entrypoint's editor keeps a multi-line ``python -c`` program as it is: shown over its
lines, read back as the same list, saved with its line breaks (real server, recording comm)."""

from __future__ import annotations

import sys

import ipywidgets as widgets

from workloadlab.notebook.panel import open_panel
from workloadlab.notebook.panel.arguments import format_arguments, rows_for
from workloadlab.notebook.panel.fields import parse_entrypoint
from workloadlab.notebook.session import Session

from paneltools import Example, eventually, frontend_click, frontend_set

PROGRAM = (
    "import runpy, os\n"
    "os.environ.setdefault('GREETING', 'hi')\n"
    "runpy.run_module('workloadlab.examples.hello', run_name='__main__')"
)


def test_a_multi_line_entrypoint_keeps_its_line_breaks(session: Session, example: Example) -> None:
    body = example.artifact()
    primary = body["spec"]["containerGroups"][0]["containers"][0]
    primary["entrypoint"] = [sys.executable, "-c", PROGRAM]
    assert example.api.put(f"/registry/artifacts/{example.artifact_id}", json=body).is_success
    panel = open_panel(session, example.id)
    field = panel.form.containers[0].entrypoint
    assert isinstance(field.input, widgets.Textarea)
    shown = str(field.input.value)
    assert "import runpy, os\nos.environ.setdefault(" in shown, shown
    assert field.input.rows >= 4, "as tall as the arguments and the program's lines"
    assert panel.pending_changes == [], "what is shown reads back as the same list"

    edited = shown.replace("'hi'", "'hello from the editor'")
    frontend_set(field.input, value=edited)
    assert [c.path.rsplit(".", 1)[-1] for c in panel.pending_changes] == ["entrypoint"]
    frontend_click(panel.save)
    eventually(lambda: "Saved" in str(panel.status.message.value))
    saved = example.artifact()["spec"]["containerGroups"][0]["containers"][0]["entrypoint"]
    assert saved == [sys.executable, "-c", PROGRAM.replace("'hi'", "'hello from the editor'")]


def test_short_entrypoints_stay_on_one_line() -> None:
    assert format_arguments(["uvicorn", "app:app", "--port", "8080"]) == (
        "uvicorn app:app --port 8080"
    )
    assert format_arguments(None) == ""
    long = ["python", "-m", "my.module", "--with-a-rather-long-flag", "and-a-value-after-it"] * 2
    assert format_arguments(long).count("\n") == len(long) - 1, "one argument per line"
    for args in (long, ["python", "-c", PROGRAM], ["sh", "-c", "echo 'it''s' \"$X\"\nexit 1"]):
        assert parse_entrypoint(format_arguments(args)) == args
    assert rows_for("a\nb\nc") == 3
    assert rows_for("x\n" * 100) == 16
