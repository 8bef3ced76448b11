"""Markup a user or an app writes (a workload's name, its artifact's, an entrypoint, log lines)
shows as text everywhere in the panel, never as HTML: the panel's ``HTML`` widgets put their
values into the page as they are, so an unescaped ``<img onerror>`` would run in the user's
browser. Against the real local server, widgets on a recording comm."""

from __future__ import annotations

import sys

import httpx
from ipywidgets import widgets
from ipywidgets.widgets.widget import _instances

from workloadlab.notebook.panel import open_panel
from workloadlab.notebook.session import Session

from harness import free_port, hello_spec, wait_status
from paneltools import eventually

MARKUP = "<img src=x onerror=alert(1)>"
LOG_MARKUP = "<script>alert(2)</script>"
APP = (
    f"print({LOG_MARKUP!r}, flush=True); import runpy;"
    " runpy.run_module('workloadlab.examples.hello', run_name='__main__')"
)


def html_values() -> list[str]:
    """The value of every HTML widget alive."""
    return [
        str(widget.value)
        for widget in list(_instances.values())
        if isinstance(widget, widgets.HTML | widgets.HTMLMath)
    ]


def test_markup_in_names_entrypoints_and_log_lines_is_shown_as_text(
    api: httpx.Client, session: Session
) -> None:
    spec = hello_spec(free_port(), entrypoint=[sys.executable, "-c", APP])
    spec["name"] = f"artifact {MARKUP}"
    created = api.post("/console/workloads/", json={"name": f"w {MARKUP}", "artifact": spec})
    assert created.status_code == 201, created.text
    workload_id = created.json()["id"]
    try:
        wait_status(api, workload_id, "running")
        open_panel(session, workload_id)
        eventually(lambda: any("&lt;script&gt;alert(2)" in v for v in html_values()))
        shown = html_values()
        assert any("w &lt;img src=x onerror=alert(1)&gt;" in value for value in shown)
        assert not [value for value in shown if MARKUP in value or LOG_MARKUP in value]
    finally:
        api.delete(f"/console/workloads/{workload_id}/")
