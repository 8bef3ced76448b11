"""Output people can read: models show as tables without ``%load_ext``, ``%workload list``
shows its table once, ``%workload events`` one line per event with short local times and
names, multi-line entrypoints keep their line breaks, secrets never show."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from IPython.core.formatters import DisplayFormatter
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from workloadlab.commands.render import (
    artifact_html,
    artifact_text,
    changes_html,
    changes_text,
    workload_html,
)
from workloadlab.models import Event, LogRecord, Page
from workloadlab.models.diff import FieldChange
from workloadlab.models.neutral import Artifact, Workload
from workloadlab.models.shown import ShownList
from workloadlab.notebook.session import get_session

from harness import free_port, hello_spec, wait_until
from magictools import magic

FAKE_SECRET = "wl-fake-secret-value-8c1d2e"
MULTI_LINE = "import runpy\nrunpy.run_module('workloadlab.examples.hello', run_name='__main__')"
"""A ``python -c`` app over two lines."""


def bare_format(obj: Any) -> dict[str, Any]:
    """What a notebook without ``%load_ext workloadlab`` shows for ``obj``."""
    data, _ = DisplayFormatter().format(obj)
    return data


def outputs_of(shell: InteractiveShell, line: str) -> tuple[list[dict[str, Any]], str]:
    """What a cell showed: its displays, and what it printed (a terminal shell prints the
    cell's result there)."""
    with capture_output() as captured:
        result = shell.run_cell(line)
    assert result.success, result.error_in_exec
    return [dict(output.data) for output in captured.outputs], captured.stdout


def test_models_and_pages_show_as_tables_without_the_extension_and_mask_secrets(
    shell: InteractiveShell,
) -> None:
    shell.user_ns["spec"] = hello_spec(free_port(), env={"API_TOKEN": FAKE_SECRET})
    workload: Workload = magic(shell, "create $spec --name bare-shown")
    artifact: Artifact = magic(shell, "spec")
    for model in (workload, artifact):
        data = bare_format(model)
        assert 'class="wl-table"' in data["text/html"], type(model)
        assert model.name in data["text/plain"]
        shown = data["text/html"] + data["text/plain"] + repr(model) + str(model)
        assert FAKE_SECRET not in shown
    assert "API_TOKEN" in bare_format(artifact)["text/plain"], "env names are shown"
    for many in (Page[Artifact](count=1, data=[artifact]), ShownList([artifact])):
        assert FAKE_SECRET not in str(bare_format(many)) + repr(many)

    session = get_session()

    async def pages() -> tuple[Page[Event], Page[LogRecord]]:
        client = session.client
        return await client.workloads.events(workload.id), await client.workloads.logs(workload.id)

    events, logs = session.run(pages())
    shown = bare_format(events)
    assert shown["text/html"].count("<tr>") == len(events.data) + 1, "a header, a row each"
    assert "workload created" in shown["text/plain"]
    wait_until(lambda: session.run(pages())[1].data)
    events, logs = session.run(pages())
    shown = bare_format(logs)
    assert "<pre" in shown["text/html"]
    assert logs.data[0].message in shown["text/plain"]
    assert FAKE_SECRET not in shown["text/html"] + shown["text/plain"]


def test_list_shows_its_table_once(shell: InteractiveShell) -> None:
    shell.user_ns["spec"] = hello_spec(free_port())
    magic(shell, "create $spec --name listed-once --no-wait")
    outputs, printed = outputs_of(shell, "%workload list")
    shown = [o.get("text/plain", "") for o in outputs] + [printed]
    assert sum(text.count("listed-once") for text in shown) == 1, shown
    assert "Workload(" not in str(shown), "no raw list after the table"
    assert "listed-once *" in "".join(shown), "the current workload is marked"
    data = bare_format(shell.user_ns["_"])
    assert 'class="wl-table"' in data["text/html"], "the cell's result is the table"
    listed = magic(shell, "list")
    assert "listed-once" in [w.name for w in listed], "the magic still returns the workloads"


def test_events_are_one_line_each_with_short_times_and_names(shell: InteractiveShell) -> None:
    shell.user_ns["spec"] = hello_spec(free_port())
    magic(shell, "create $spec --name readable-events")
    magic(shell, "stop")
    outputs, _ = outputs_of(shell, "%workload events")
    assert len(outputs) == 1
    text, page = outputs[0]["text/plain"], outputs[0]["text/html"]
    lines = text.splitlines()
    assert lines[0].split() == ["time", "event", "by", "details"]
    body = lines[1:]
    assert len(body) >= 6, text
    for line in body:
        assert re.match(r"^\d\d:\d\d:\d\d  ", line), line  # short local time, one line each
    assert not re.search(r"\b[0-9a-f]{24}\b  ", text), "no actor is a hex id"
    created = next(line for line in body if "workload created" in line)
    user = created.split()[3]
    assert user not in ("system", "—")
    assert any(f" {user} " in line and "running → stopping" in line for line in body)
    assert any(" system " in line and "stopping → stopped" in line for line in body)
    assert re.search(r"artifactId=[0-9a-f]{24}$", created), "details are not cut off"
    assert "white-space:nowrap" in page, "times and names do not wrap"
    assert "UTC" not in text


def test_multi_line_entrypoints_keep_their_line_breaks(shell: InteractiveShell) -> None:
    entrypoint = [sys.executable, "-c", MULTI_LINE]
    shell.user_ns["spec"] = hello_spec(free_port(), entrypoint=entrypoint)
    magic(shell, "create $spec --name multi-line")
    artifact: Artifact = magic(shell, "spec")
    assert artifact.spec.primary.entrypoint == entrypoint
    html, text = artifact_html(artifact), artifact_text(artifact)
    before = ["python", "-c", MULTI_LINE]
    edited = ["python", "-c", MULTI_LINE.replace("runpy.run_module", "runpy.run_path")]
    diff = changes_text([FieldChange("spec.entrypoint", before, edited)])
    assert "-c 'import runpy …" in diff, "arguments as a shell writes them, not a list"
    assert "\\n" not in diff
    assert "import runpy\nrunpy.run_module(" in html
    assert "white-space:pre-wrap" in html
    line = next(line for line in text.splitlines() if line.startswith("entrypoint"))
    indent = len(line) - len(line.split("  ")[-1])
    following = text.splitlines()[text.splitlines().index(line) + 1]
    assert following.startswith(" " * indent + "runpy.run_module("), text


def test_tables_follow_the_theme() -> None:
    """Every colour is a JupyterLab theme variable (dark theme included); a hex colour only
    as the fallback of one, for frontends without them, and a badge's own white-on-colour
    pair (which must keep 4.5:1 whatever the theme: the browser's axe audit checks it)."""
    workload = Workload(id="a" * 24, name="themed", status="errored")
    change = FieldChange(path="spec.port", old=1, new=2)
    for shown in (workload_html(workload), changes_html([change])):
        assert "var(--jp-" in shown
        fixed = re.sub(r"color:#fff;background:#[0-9a-f]{6}", "", shown)
        assert not re.search(r"(?<!, )#[0-9a-fA-F]{3,6}\b", fixed), shown


def crashing_then_fine(counter: Path, crashes: int = 2) -> list[str]:
    """An entrypoint that crashes ``crashes`` times (after it started), then serves."""
    script = (
        f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; "
        f"if [ $n -lt {crashes} ]; then echo up $n; sleep 0.3; echo crashed $n >&2; exit 1; fi; "
        f"exec {sys.executable} -m workloadlab.examples.hello"
    )
    return ["sh", "-c", script]


def test_the_timeline_of_a_workload_that_crashed_and_recovered(
    shell: InteractiveShell, tmp_path: Path
) -> None:
    entrypoint = crashing_then_fine(tmp_path / "starts")
    shell.user_ns["spec"] = hello_spec(free_port(), entrypoint=entrypoint, readinessProbe=None)
    magic(shell, "create $spec --name crashed-recovered")
    starts = tmp_path / "starts"
    wait_until(lambda: starts.exists() and starts.read_text().strip() == "3", timeout=30)
    magic(shell, "restart")  # waits for running again: a second run, without crashes
    outputs, _ = outputs_of(shell, "%workload timeline")
    assert len(outputs) == 1
    text, page = outputs[0]["text/plain"], outputs[0]["text/html"]
    second, first = text.split("run 1 ")
    assert second.startswith("run 2 "), text
    assert "crash" not in second.splitlines()[0], text
    assert "stopped, 2 crashes" in first.splitlines()[0], "it was stopped by the restart"
    assert first.count("✗ running → initializing: the process exited") == 2, text
    assert "| " in first, "its log lines"
    assert "crashed 0" in first
    assert "crashed 1" in first
    assert "crashed" not in second, "each run has its own log lines"
    assert "stopped → submitted" in second
    assert page.count('class="wl-strip"') == 2
    run2, run1 = page.split("<b>run 1</b>")
    assert run1.count("wl-mark wl-crash") == 2
    assert "wl-mark wl-crash" not in run2
    assert "2 crashes" in run1
    assert "wl-band-stopping" in run1, "the stop that ended it"


def test_every_status_badge_keeps_aa_contrast_in_any_theme() -> None:
    """A badge is white text on its status's own colour: 4.5:1 at least (WCAG AA), for every
    status, since neither depends on the theme."""
    from workloadlab.models.tables import ERROR_COLOUR, STATUS_COLOURS, TRANSITION_COLOUR

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for colour in {*STATUS_COLOURS.values(), TRANSITION_COLOUR, ERROR_COLOUR}:
        assert 1.05 / (luminance(colour) + 0.05) >= 4.5, colour
