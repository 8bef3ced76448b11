"""The panel's accessibility parts without a browser: the live region's sentence, the focus
requests after Save & Restart, Lock & Deploy and Confirm, the disclosure, labelled env rows,
short endpoints, and the stylesheet and disconnected note every panel carries. (The browser
proves they work: ``test_panel_access_browser.py``.)"""

from __future__ import annotations

import html

import workloadlab
from workloadlab.notebook.panel import WorkloadPanel
from workloadlab.notebook.panel.endpoint import endpoint_html, short_url
from workloadlab.notebook.panel.focus import DEPLOYMENT_NAME, MESSAGE_AREA
from workloadlab.notebook.panel.live import announcement
from workloadlab.notebook.panel.state import Message
from workloadlab.notebook.session import Session

from paneltools import Example, eventually, frontend_click, frontend_set


def focus_target(panel: WorkloadPanel) -> str | None:
    """Where the panel's last focus request points (``None``: none yet)."""
    value = str(panel.focus_requests.widget.value)
    if 'data-target="' not in value:
        return None
    return html.unescape(value.split('data-target="', 1)[1].split('"', 1)[0])


def live_text(panel: WorkloadPanel) -> str:
    return html.unescape(str(panel.live.region.value))


def test_live_region_focus_moves_and_labels(session: Session, example: Example) -> None:
    panel = workloadlab.panel(example.id)
    try:
        assert 'role="status"' in str(panel.live.region.value)
        assert live_text(panel).endswith(f"Workload {panel.state.workload.name} is running.</div>")
        classes = [tuple(child._dom_classes) for child in panel.children]
        assert ("wl-style",) in classes
        assert ("wl-disconnected",) in classes
        note = panel.children[classes.index(("wl-disconnected",))]
        assert "re-run %workload panel" in str(note.value)
        row = panel.form.containers[0].env.rows[0]
        assert (row.name.description, row.value.description) == ("variable name", "variable value")
        assert focus_target(panel) is None

        frontend_set(row.value, value="hello, focus")
        frontend_click(panel.save_restart)
        assert focus_target(panel) == MESSAGE_AREA  # the clicked button goes off while saving
        eventually(lambda: "Restarted" in live_text(panel), timeout=60)

        frontend_click(panel.lock_deploy)
        assert focus_target(panel) == DEPLOYMENT_NAME
        serial = str(panel.focus_requests.widget.value)
        eventually(lambda: not panel.deploy.confirm.disabled)
        frontend_click(panel.deploy.confirm)
        assert focus_target(panel) == MESSAGE_AREA
        assert str(panel.focus_requests.widget.value) != serial  # a new request each time
        eventually(lambda: "registered as version" in live_text(panel), timeout=60)
    finally:
        panel.close()


def test_the_probes_disclosure_builds_its_section_when_opened(
    session: Session, example: Example
) -> None:
    panel = workloadlab.panel(example.id)
    try:
        container = panel.form.containers[0]
        disclosure = container.advanced
        assert disclosure.content.children == ()
        assert disclosure.toggle.tooltip == "Show probes and resource request"
        frontend_set(disclosure.toggle, value=True)  # Enter or Space on the button
        assert disclosure.open
        assert container.probes[0].box in disclosure.content.children
        assert disclosure.content.layout.display is None
        assert (disclosure.toggle.icon, disclosure.toggle.tooltip) == (
            "caret-down",
            "Hide probes and resource request",
        )
        frontend_set(disclosure.toggle, value=False)
        assert disclosure.content.layout.display == "none"
    finally:
        panel.close()


def test_announcement_says_what_is_going_on(session: Session, example: Example) -> None:
    panel = workloadlab.panel(example.id)
    try:
        state = panel.state
        name = state.workload.name
        assert announcement(state) == f"Workload {name} is running."
        state.busy = "Saving"
        assert announcement(state) == f"Saving… Workload {name} is running."
        state.busy = None
        state.message = Message("error", "Saving failed: conflict")
        assert announcement(state) == f"Error: Saving failed: conflict Workload {name} is running."
        state.gone = True
        assert announcement(state).endswith(f"Workload {name} is deleted.")
    finally:
        panel.close()


def test_endpoints_are_short_with_the_whole_url_kept() -> None:
    url = "https://app.datarobot.com/api/v2/endpoints/workloads/65f0c3a1b2c3d4e5f6a7b8c9/"
    assert short_url(url) == "app.datarobot.com/…/65f0c3a1…/"
    assert short_url("http://127.0.0.1:8080/x") == "127.0.0.1:8080/x"
    assert short_url("http://127.0.0.1:8080") == "127.0.0.1:8080"
    assert short_url("not a url") == "not a url"
    shown = endpoint_html(url + "?a=<b>")
    assert 'title="https://app.datarobot.com/api/v2/endpoints' in shown
    assert 'data-url="https://app.datarobot.com' in shown
    assert "<b>" not in shown
    assert ">Copy</button>" in shown
    assert 'aria-label="Copy the endpoint URL"' in shown


def test_an_endpoint_that_is_no_web_address_is_never_a_link() -> None:
    """A ``javascript:`` or ``data:`` "endpoint" (a server's answer is data, not trusted
    markup) is shown as text: a link to it would run script when clicked."""
    for url in ("javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,x"):
        shown = endpoint_html(url)
        assert "href=" not in shown
        assert html.escape(url) in shown
    assert 'href="https://x.example/"' in endpoint_html("https://x.example/")
