"""The panel in a real browser for everyday use: it fits the sidebar, passes an axe-core audit
in the light and the dark theme, works by keyboard alone, and survives a kernel restart.

One JupyterLab and one page serve the whole module (the browser tests are the suite's critical
path). The tests run in file order on that shared state: the sidebar and the audits look at the
fresh panel, the keyboard test then edits, restarts and deploys, and the kernel restart comes
last (it leaves the first panels disconnected).

axe-core is vendored (``tests/vendor/axe.min.js``, MPL-2.0, v4.14.1 from npm): the audit then
needs no network and always runs the same rules; ``npm install axe-core@4`` and copying
``node_modules/axe-core/axe.min.js`` updates it.
"""

from __future__ import annotations

import pprint
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from browsertools import Shots, code_notebook, open_notebook, run_all, write_notebook
from harness import LocalServer, free_port, hello_spec
from labtools import Lab, LabFactory

if TYPE_CHECKING:
    from nbformat import NotebookNode

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"
SIDEBAR_WIDTH = 300
INLINE = ".jp-Notebook .wl-panel"
SIDEBAR = "#jp-right-stack .jupyterlab-sidecar .wl-panel"
NAME = "access-hello"

OVERFLOWING = """(root) => {
  const found = [];
  for (const el of [root, ...root.querySelectorAll('*')]) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || el.closest('.wl-sr-only-text, .wl-style')) continue;
    if (el.tagName === 'INPUT') continue;  // a long value scrolls inside its input by design
    if (style.position === 'absolute' && style.clip !== 'auto') continue;  // visually hidden
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName}.${el.className} ${el.scrollWidth}>${el.clientWidth}: `
                 + (el.textContent || '').trim().slice(0, 40));
    }
  }
  return found;
}"""
"""Every element of the panel whose content is wider than its box (text cut or spilling);
an input's box must fit (its parent would overflow), while its value may scroll inside it."""

AUDIT = """async (root) => {
  document.body.style.height = '100vh';  // JupyterLab's body is 0 px high: axe would skip
  try {                                   // colour contrast as "off screen"
    const result = await axe.run(root, {resultTypes: ['violations']});
    return result.violations
      .filter(v => v.impact === 'serious' || v.impact === 'critical')
      .map(v => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5)
                           .map(n => n.target.join(' ') + ' — ' + n.failureSummary)}));
  } finally {
    document.body.style.height = '';
  }
}"""


def notebook(port: int) -> NotebookNode:
    """Create a workload, show its panel inline and in the sidebar."""
    spec = hello_spec(port, "hello, accessibly")
    spec_code = pprint.pformat(spec, width=96).replace(repr(sys.executable), "sys.executable")
    return code_notebook(
        "%load_ext workloadlab",
        f"import sys\nspec = {spec_code}",
        f"%workload create $spec --name {NAME}",
        "%workload panel",
        "%workload panel --sidebar",
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, server: LocalServer) -> Iterator[Lab]:
    """JupyterLab serving the test notebook, on the module's local server."""
    tmp = tmp_path_factory.mktemp("access-lab")
    data_dir = tmp / "data"
    data_dir.mkdir()
    root = tmp / "notebooks"
    root.mkdir()
    write_notebook(notebook(free_port()), root / "access.ipynb")
    factory = LabFactory(tmp, data_dir)
    env = {"DATAROBOT_ENDPOINT": server.endpoint, "DATAROBOT_API_TOKEN": server.token}
    try:
        yield factory(root=root, env=env)
    finally:
        factory.cleanup()


@pytest.fixture(scope="module")
def shared_page(browser: Browser, lab: Lab) -> Iterator[Page]:
    """The notebook, run once: its panel inline and in the sidebar, running."""
    context = browser.new_context(
        viewport={"width": 1500, "height": 1000},
        permissions=["clipboard-read", "clipboard-write"],  # the endpoint's Copy button
    )
    page = context.new_page()
    open_notebook(page, lab, "access.ipynb")
    run_all(page)
    expect(page.locator(INLINE).locator(".wl-status")).to_have_text("running", timeout=60_000)
    expect(page.locator(SIDEBAR).locator(".wl-status")).to_have_text("running")
    yield page
    context.close()


@pytest.fixture(scope="module")
def shots(shared_page: Page, tmp_path_factory: pytest.TempPathFactory) -> Shots:
    return Shots(shared_page, tmp_path_factory.mktemp("access-shots"), "access-")


def set_sidebar_width(page: Page, width: int) -> None:
    """Drag the handle between the main area and the right sidebar until the sidebar is
    ``width`` px wide."""
    stack = page.locator("#jp-right-stack")
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:not(.lm-mod-hidden)").last
    for _ in range(3):
        box, grip = stack.bounding_box(), handle.bounding_box()
        assert box is not None
        assert grip is not None
        if abs(box["width"] - width) <= 2:
            return
        x, y = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + box["width"] - width, y, steps=5)
        page.mouse.up()
    box = stack.bounding_box()
    assert box is not None
    assert abs(box["width"] - width) <= 2, box


def audit(page: Page, root: Locator) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations inside ``root``."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = root.evaluate(AUDIT)
    return found


def test_the_panel_fits_a_300_px_sidebar(shared_page: Page, shots: Shots) -> None:
    page = shared_page
    set_sidebar_width(page, SIDEBAR_WIDTH)
    sidebar = page.locator(SIDEBAR)
    expect(sidebar.locator(".wl-status")).to_have_text("running")
    shots("sidebar-300px", page.locator("#jp-right-stack"))
    assert sidebar.evaluate(OVERFLOWING) == []
    panel_box, stack_box = sidebar.bounding_box(), page.locator("#jp-right-stack").bounding_box()
    assert panel_box is not None
    assert stack_box is not None
    assert panel_box["x"] + panel_box["width"] <= stack_box["x"] + stack_box["width"] + 1
    endpoint = sidebar.locator(".wl-header .wl-endpoint")
    expect(endpoint.locator("a")).to_contain_text("…")  # shortened (the whole URL is its href)
    expect(endpoint.locator("button.wl-copy")).to_be_visible()
    header = sidebar.locator(".wl-header").bounding_box()
    assert header is not None
    assert header["height"] < 110, header  # not the five lines of a wrapped URL
    tabs = sidebar.locator(".wl-tabs .lm-TabBar-tab")
    for label in ("Spec", "YAML", "Logs", "Timeline"):
        expect(tabs.filter(has_text=label)).to_have_count(1)  # whole words, not "Timeli"
    labels = sidebar.locator(".wl-field-image .widget-label")
    input_box = sidebar.locator(".wl-field-image input").bounding_box()
    label_box = labels.bounding_box()
    assert input_box is not None
    assert label_box is not None
    assert input_box["y"] >= label_box["y"] + label_box["height"] - 1, "labels stack above"
    assert input_box["width"] >= SIDEBAR_WIDTH * 0.6, input_box
    # The open probes section fits as well.
    sidebar.locator(".wl-advanced-toggle").click()
    expect(sidebar.locator(".wl-advanced-content")).to_be_visible()
    assert sidebar.evaluate(OVERFLOWING) == []
    shots("sidebar-probes", page.locator("#jp-right-stack"))
    sidebar.locator(".wl-advanced-toggle").click()
    expect(sidebar.locator(".wl-advanced-content")).to_be_hidden()


FOCUS_RING = """(el) => {
  el.focus();
  const style = getComputedStyle(el);
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const lin = (c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  let back = el.parentElement;
  let behind = rgb(getComputedStyle(back).backgroundColor);
  while (back && (behind.length < 3 || behind[3] === 0)) {
    back = back.parentElement;
    behind = back ? rgb(getComputedStyle(back).backgroundColor) : [255, 255, 255];
  }
  const [hi, lo] = [luminance(rgb(style.outlineColor)), luminance(behind)].sort((a, b) => b - a);
  return {width: parseFloat(style.outlineWidth), style: style.outlineStyle,
          offset: parseFloat(style.outlineOffset), contrast: (hi + 0.05) / (lo + 0.05)};
}"""
"""The focus ring of an element (focused): width, style, offset, and its contrast against the
background it is drawn on (offset: the panel's, not the button's)."""


def set_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab's theme through its Settings menu."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
    page.locator(".lm-Menu-itemLabel").get_by_text(theme, exact=True).click()
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme)


def test_axe_finds_nothing_serious_inline_and_in_the_sidebar_in_both_themes(
    shared_page: Page, shots: Shots
) -> None:
    page = shared_page
    inline, sidebar = page.locator(INLINE), page.locator(SIDEBAR)
    found: dict[str, Any] = {}
    rings: dict[str, Any] = {}
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            set_theme(page, theme)
            for where, panel in (("inline", inline), ("sidebar", sidebar)):
                found[f"{theme}, {where}"] = audit(page, panel)
            inline.locator(".wl-advanced-toggle").click()  # probes and resources open
            expect(inline.locator(".wl-advanced-content")).to_be_visible()
            inline.locator("button.wl-lock-deploy").click()  # and the confirm step
            expect(inline.locator(".wl-deploy-step")).to_be_visible()
            found[f"{theme}, inline, opened"] = audit(page, inline)
            found[f"{theme}, sidebar, opened"] = audit(page, sidebar)
            shots(f"{theme.split()[-1].lower()}-opened", inline)
            for name in ("button.wl-lock-deploy", "button.wl-restart", ".wl-field-image input"):
                rings[f"{theme}, {name}"] = inline.locator(name).evaluate(FOCUS_RING)
            inline.locator(".wl-deploy-step button.wl-cancel").click()
            expect(inline.locator(".wl-deploy-step")).to_be_hidden()
            inline.locator(".wl-advanced-toggle").click()
            expect(inline.locator(".wl-advanced-content")).to_be_hidden()
    finally:
        set_theme(page, "JupyterLab Light")
    assert all(v == [] for v in found.values()), pprint.pformat(found, width=110)
    assert len(found) == 8
    for where, ring in rings.items():
        assert ring["style"] == "solid", (where, ring)
        assert ring["width"] >= 2, (where, ring)
        assert ring["contrast"] >= 3, (where, ring)


MOUSE_WATCH = """() => {
  window.__wlMouse = [];
  for (const type of ['mousedown', 'pointerdown', 'mouseup', 'pointerup', 'wheel']) {
    document.addEventListener(type, (e) => window.__wlMouse.push(e.type), true);
  }
}"""
"""Record every pointer event from now on (a key press makes none; Enter on a button makes a
``click`` but no ``mousedown``/``pointerdown``)."""


def focused(page: Page, selector: str) -> bool:
    """Whether the focused element matches ``selector``."""
    found: bool = page.evaluate(
        "(s) => !!document.activeElement && document.activeElement.matches(s)", selector
    )
    return found


def tab_to(page: Page, selector: str, *, backwards: bool = False, limit: int = 200) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``."""
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def replace_text(page: Page, text: str) -> None:
    """Replace the focused input's text and leave it (the value is sent on leaving)."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Tab")


def test_keyboard_only_edit_save_restart_lock_and_deploy(
    shared_page: Page, server: LocalServer, shots: Shots
) -> None:
    page = shared_page
    panel = page.locator(INLINE)
    inside = ".jp-Notebook .wl-panel"
    live = panel.locator(".wl-live [role=status]")
    set_sidebar_width(page, SIDEBAR_WIDTH)  # (set up before the watch; a no-op in file order)
    page.evaluate(MOUSE_WATCH)
    page.keyboard.press("Escape")  # the notebook, in command mode

    expect(panel.get_by_label("variable name").first).to_have_value("GREETING")  # labelled
    expect(panel.get_by_role("button", name="Probes and resource request")).to_have_count(1)
    tab_to(page, f"{inside} .wl-env-value input")
    replace_text(page, "hello from the keyboard")
    expect(panel.locator(".wl-diff")).to_contain_text("environmentVars[GREETING]")

    tab_to(page, f"{inside} .wl-advanced-toggle")
    page.keyboard.press("Enter")
    expect(panel.locator(".wl-advanced-content")).to_be_visible()
    tab_to(page, f"{inside} .wl-probe-readiness-timeoutSeconds input")
    replace_text(page, "2")
    expect(panel.locator(".wl-diff")).to_contain_text("readinessProbe")
    shots("keyboard-edited", panel)

    tab_to(page, f"{inside} button.wl-save-restart", backwards=True)
    page.keyboard.press("Enter")
    expect(panel.locator(".wl-focus-target")).to_be_focused()  # not the page's body
    expect(panel.locator(".wl-message")).to_contain_text("Restarted:", timeout=60_000)
    expect(live).to_contain_text("Restarted:")
    expect(live).to_contain_text(f"Workload {NAME} is running.")
    expect(panel.locator(".wl-status")).to_have_text("running")

    tab_to(page, f"{inside} button.wl-lock-deploy", backwards=True)
    page.keyboard.press("Enter")
    step = panel.locator(".wl-deploy-step")
    expect(step).to_be_visible()
    expect(step.locator(".wl-deploy-name input")).to_be_focused()  # the step's first field
    replace_text(page, "keyboard-prod")
    tab_to(page, f"{inside} button.wl-confirm")
    shots("keyboard-confirm", panel)
    page.keyboard.press("Enter")
    expect(panel.locator(".wl-focus-target")).to_be_focused()
    expect(panel.locator(".wl-deployment")).to_contain_text("keyboard-prod", timeout=30_000)
    expect(panel.locator(".wl-message")).to_contain_text("registered as version")
    expect(live).to_contain_text("registered as version")
    shots("keyboard-deployed", panel)
    sidebar = page.locator(SIDEBAR)
    expect(sidebar.locator(".wl-deployment")).to_contain_text("keyboard-prod")
    shots("sidebar-deployed", page.locator("#jp-right-stack"))
    cut = sidebar.evaluate(OVERFLOWING)
    assert cut == [], cut  # the deployment card fits the sidebar too
    chooser = sidebar.locator(".wl-version-choice select").bounding_box()
    move = sidebar.locator("button.wl-version-move").bounding_box()
    assert chooser is not None
    assert move is not None
    assert move["y"] >= chooser["y"] + chooser["height"] - 1, (chooser, move)  # no overlap

    assert page.evaluate("window.__wlMouse") == []
    # The outcome's colours (success message, warning note, deployment card) pass AA too.
    found = {}
    try:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            set_theme(page, theme)
            for where, root in (("inline", panel), ("sidebar", page.locator(SIDEBAR))):
                found[f"{theme}, {where}, deployed"] = audit(page, root)
    finally:
        set_theme(page, "JupyterLab Light")
    assert all(v == [] for v in found.values()), pprint.pformat(found, width=110)
    with server.client() as api:
        found = api.get("/console/workloads/", params={"search": NAME}).json()["data"]
        (workload,) = found
        deployments = api.get("/console/deployments/", params={"workloadId": workload["id"]})
        assert [d["name"] for d in deployments.json()["data"]] == ["keyboard-prod"]
        artifact = api.get(f"/registry/artifacts/{workload['artifactId']}/").json()
        (container,) = artifact["spec"]["containerGroups"][0]["containers"]
        assert container["readinessProbe"]["timeoutSeconds"] == 2
        greeting = {v["name"]: v.get("value") for v in container["environmentVars"]}
        assert greeting["GREETING"] == "hello from the keyboard"


def run_cell(page: Page, index: int) -> None:
    """Select the cell at ``index`` and run it (Shift+Enter)."""
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")


def test_kernel_restart_marks_old_panels_and_a_rerun_panel_is_live(
    shared_page: Page, shots: Shots
) -> None:
    page = shared_page
    old_inline, old_sidebar = page.locator(INLINE), page.locator(SIDEBAR)
    expect(old_inline).to_have_count(1)
    expect(old_sidebar).to_have_count(1)
    copy = old_inline.locator(".wl-deployment .wl-copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    endpoint = old_inline.locator(".wl-deployment .wl-endpoint a")
    assert page.evaluate("navigator.clipboard.readText()") == endpoint.get_attribute("href")
    assert "…" in endpoint.inner_text()  # shown short, copied whole
    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").click()

    for old in (old_inline, old_sidebar):
        expect(old).to_have_class(re.compile(r"\bjupyter-widgets-disconnected\b"))
        expect(old.locator(".wl-disconnected")).to_be_visible()
        expect(old.locator(".wl-disconnected")).to_contain_text("re-run %workload panel")
        pointer = old.locator("button.wl-lock-deploy").evaluate(
            "(b) => getComputedStyle(b).pointerEvents"
        )
        assert pointer == "none"
    shots("restart-disconnected", page.locator("#jp-main-content-panel"))
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=60_000)

    run_cell(page, 0)  # %load_ext workloadlab
    run_cell(page, 3)  # %workload panel: finds the notebook's workload again
    run_cell(page, 4)  # %workload panel --sidebar
    inline = page.locator(f"{INLINE}:not(.jupyter-widgets-disconnected)")
    expect(inline).to_have_count(1, timeout=30_000)
    expect(inline.locator(".wl-status")).to_have_text("running")
    expect(page.locator(".jp-Notebook")).not_to_contain_text("no current workload")
    expect(page.locator("#jp-right-stack .jupyterlab-sidecar")).to_have_count(1)  # no stale tab
    sidebar = page.locator(SIDEBAR)
    expect(sidebar).not_to_have_class(re.compile(r"\bjupyter-widgets-disconnected\b"))
    expect(sidebar.locator(".wl-status")).to_have_text("running")
    expect(page.locator(".jp-SideBar.jp-mod-right .lm-TabBar-tab.lm-mod-closable")).to_have_count(1)
    # Live: the new kernel's panel acts (its tabs switch, its close button answers).
    inline.locator(".wl-tabs .lm-TabBar-tab", has_text="Logs").click()
    expect(inline.locator(".wl-logs")).to_be_visible()
    expect(inline.locator(".wl-disconnected")).to_be_hidden()
    shots("restart-rerun", page.locator("#jp-main-content-panel"))
