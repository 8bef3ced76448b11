"""The panel's one stylesheet: sidebar fit, focus outline, colours that pass AA in both themes,
and the look of a panel whose kernel is gone.

ipywidgets has no per-widget CSS, so each panel carries a ``<style>`` element in an ``HTML``
widget (``wl-style``); every rule is scoped to ``.wl-panel``. Several panels on a page repeat
the same rules, which is harmless.

- **Colours** follow JupyterLab's theme variables. Inside a panel, the ``color1`` shades of
  success, warning, error and info (which the panel's messages, checklist and ipywidgets'
  coloured buttons use, and which fail AA as text: green 4.1:1, orange 2.9:1) are remapped to
  the theme's stronger shade (``color0`` on the light theme, ``color2`` on the dark one), so
  every part that names them passes without knowing about themes. The originals are captured on
  ``.wl-panel`` itself and remapped on its children (a custom property resolved on the element
  that defines it would refer to itself).
- **Focus**: a 2 px outline in the theme's brand colour, offset from the control so it is drawn
  against the panel's background (≥ 3:1 in both themes), on every focusable part.
- **Sidebar fit**: the panel is a size container; below 420 px wide, labels stack above their
  inputs, inputs take the whole width, rows wrap and tab labels keep their full width (wrapping
  to a second line before they would be cut).
- **Disconnected**: ipywidgets marks every view of a dead kernel's models
  ``jupyter-widgets-disconnected``; the panel then shows its ``wl-disconnected`` note and its
  controls are dimmed and stop taking the pointer.
"""

from __future__ import annotations

from workloadlab.notebook.panel.focus import tracker_html
from workloadlab.notebook.panel.stale import sweep_html
from workloadlab.notebook.panel.ui import Widget, html

NARROW = "420px"
"""Below this width (the JupyterLab sidebar is 250-350 px) the panel uses its narrow layout."""

DISCONNECTED_NOTE = "disconnected — its kernel is gone: re-run %workload panel"
"""What a panel of a dead kernel says (shown only then, by the stylesheet)."""

STYLESHEET = """
.wl-panel {
  container-type: inline-size;
  --wl-fill-warn: var(--jp-warn-color1, #f57c00);
  --wl-focus: var(--jp-brand-color1, #1976d2);
}
.wl-panel > * {
  --jp-success-color1: var(--jp-success-color0, #1b5e20);
  --jp-warn-color1: #8a4b00;
  --jp-error-color1: var(--jp-error-color0, #b71c1c);
  --jp-info-color1: var(--jp-info-color0, #006064);
  --jp-widgets-label-color: var(--jp-ui-font-color1);
}
body[data-jp-theme-light="false"] .wl-panel > * {
  --jp-success-color1: var(--jp-success-color2, #81c784);
  --jp-warn-color1: var(--jp-warn-color2, #ffb74d);
  --jp-error-color1: var(--jp-error-color2, #e57373);
  --jp-info-color1: var(--jp-info-color2, #4dd0e1);
}
.wl-panel :is(.wl-style, .wl-focus-request) { display: none; }
.wl-panel :is(button, input, select, textarea, a, [tabindex]):focus-visible,
.wl-panel .lm-TabBar-tab:focus-visible,
.wl-panel .jupyter-button:focus:enabled {
  outline: 2px solid var(--wl-focus) !important;
  outline-offset: 2px;
}
.wl-panel .wl-focus-target:focus { outline: 2px solid var(--wl-focus); outline-offset: 2px; }
.wl-panel .wl-focus-target:focus:not(:focus-visible) { outline: none; }
.wl-panel .jupyter-button.mod-warning { color: #000; background-color: var(--wl-fill-warn); }
.wl-panel .wl-tabs :is(.lm-TabBar-tab, .lm-TabBar-tabLabel) {
  color: var(--jp-ui-font-color1) !important;  /* inactive tabs: lumino's grey is 4.45:1 */
}
.wl-panel .wl-tabs .lm-mod-current :is(.lm-TabBar-tabLabel) {
  color: var(--jp-ui-font-color0) !important;
}
.wl-panel .wl-advanced-toggle {
  flex: 0 0 auto; width: auto; max-width: 100%; text-align: left; white-space: normal;
  height: auto; min-height: var(--jp-widgets-inline-height, 28px);
}
.wl-panel .wl-copy {
  font-size: 11px; padding: 0 6px; margin-left: 4px; cursor: pointer;
  color: var(--jp-ui-font-color1); background: var(--jp-layout-color2);
  border: 1px solid var(--jp-border-color1); border-radius: 3px;
}
.wl-panel .wl-disconnected { display: none; }
.wl-panel.jupyter-widgets-disconnected .wl-disconnected {
  display: block; font-weight: 600; color: var(--jp-ui-font-color0);
  border-left: 4px solid var(--jp-error-color1); padding: 2px 8px; margin: 2px 0 4px;
}
.wl-panel.jupyter-widgets-disconnected :is(button, input, select, textarea, .lm-TabBar-tab) {
  pointer-events: none; opacity: 0.55;
}
.wl-panel.jupyter-widgets-disconnected .wl-status .wl-badge { filter: grayscale(1); }
.wl-panel.jupyter-widgets-disconnected::before,
.wl-panel .jupyter-widgets-disconnected::before { display: none; }  /* one note, not an icon
                                                                       per widget */
@container (max-width: NARROW) {
  .wl-panel .widget-inline-hbox:is(.widget-text, .widget-dropdown, .widget-textarea) {
    flex-wrap: wrap; width: 100% !important; min-width: 0 !important; height: auto;
  }
  .wl-panel .widget-inline-hbox:is(.widget-text, .widget-dropdown, .widget-textarea)
    > .widget-label {
    width: 100% !important; text-align: left; margin: 0 0 2px;
  }
  .wl-panel .widget-inline-hbox:is(.widget-text, .widget-dropdown, .widget-textarea)
    > :is(input, select, textarea) {
    flex: 1 1 100%; min-width: 0; width: 100%;
  }
  .wl-panel .wl-env-row > .widget-text { flex: 1 1 100%; }
  .wl-panel .widget-hbox { flex-wrap: wrap; }
  .wl-panel .wl-tabs .lm-TabBar-content { flex-wrap: wrap; }
  .wl-panel .wl-tabs .lm-TabBar-tab {  /* ipywidgets' rule is more specific */
    flex: 0 0 auto !important; width: auto !important; min-width: 0 !important;
    max-width: none !important; padding: 0 8px !important;
  }
  .wl-panel .wl-tabs .lm-TabBar-tabLabel { overflow: visible; }
  .wl-panel .wl-tabs > .widget-tab-contents { padding: 8px 6px; }
  .wl-panel .jupyter-button {
    flex: 0 1 auto; width: auto; min-width: 0 !important; max-width: 100%;
  }
  .wl-panel .widget-html-content { overflow-wrap: anywhere; }
  .wl-panel .widget-html-content th { overflow-wrap: normal; white-space: nowrap; }
  .wl-panel .widget-html-content :is(td, td *) { white-space: normal; overflow-wrap: anywhere; }
}
.wl-panel .wl-sr-only-text,
.wl-panel .wl-env-row .widget-inline-hbox.widget-text > .widget-label {
  position: absolute !important; width: 1px !important; height: 1px !important;
  margin: -1px !important; padding: 0 !important; overflow: hidden !important;
  clip: rect(0 0 0 0) !important; white-space: nowrap !important; border: 0 !important;
}
""".replace("NARROW", NARROW)


def stylesheet() -> Widget:
    """The panel's stylesheet as a (hidden) ``HTML`` widget, to be one of its children; it also
    installs the focus tracker of :mod:`.focus` and closes stale sidebar tabs (:mod:`.stale`)."""
    return html(f"<style>{STYLESHEET}</style>{tracker_html()}{sweep_html()}", "wl-style")


def disconnected_note() -> Widget:
    """The note a panel shows once its kernel is gone (hidden until then by the stylesheet)."""
    return html(f"⚠ {DISCONNECTED_NOTE}", "wl-disconnected")
