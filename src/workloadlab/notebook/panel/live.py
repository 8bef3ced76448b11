"""What a screen reader hears, and where focus goes.

The panel's state changes by itself (the watcher's news) and after a click (an action's
progress and outcome). A visually hidden ``role=status`` region (``wl-live``) says, in one
sentence, what is going on: the action under way, else the last outcome (an error, the deploy
result), with the workload's status. It is redrawn like everything else (only a changed
sentence is sent), so a screen reader announces each change once.

ipywidgets re-renders an ``HTML`` widget's content on each change, so the region element is
replaced rather than edited; browsers announce a replaced ``role=status`` region's new content
(Chromium does), but a screen reader that only watches regions already present would not: a
stable region needs a front-end piece, which the panel does not have.

Focus: a click that disables its own button (Save & Restart, Confirm) would leave focus on the
page's body; the panel moves it (:mod:`.focus`) to this message area (``wl-focus-target``,
focusable by script only), which holds the live region and the visible
message. Opening the confirm step moves focus to the deployment's name.
"""

from __future__ import annotations

import html as html_module

from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.ui import Widget, assign, html, vbox

LEVEL_WORDS = {"error": "Error", "warning": "Warning", "success": "Done", "info": "Note"}


def announcement(state: PanelState) -> str:
    """The live region's sentence: the action under way or the last outcome, then the
    workload's status."""
    workload = state.workload
    status = "deleted" if state.gone else workload.status.value
    parts = []
    if state.busy is not None:
        parts.append(f"{state.busy}…")
    elif state.message is not None:
        parts.append(f"{LEVEL_WORDS.get(state.message.level, 'Note')}: {state.message.text}")
    parts.append(f"Workload {workload.name} is {status}.")
    return " ".join(parts)


def live_html(sentence: str) -> str:
    """The region's HTML."""
    return (
        '<div role="status" aria-live="polite" aria-atomic="true">'
        f"{html_module.escape(sentence)}</div>"
    )


class LiveStatus:
    """The live region and the visible message, in a box that focus can be moved to (with
    the focus requests' hidden widget)."""

    def __init__(self, message: Widget, focus_request: Widget) -> None:
        self.region: Widget = html("", "wl-live", "wl-sr-only-text")
        self.box: Widget = vbox([self.region, message, focus_request], "wl-focus-target")

    def render(self, state: PanelState) -> None:
        """Say what changed (only a changed sentence is sent)."""
        assign(self.region, value=live_html(announcement(state)))
