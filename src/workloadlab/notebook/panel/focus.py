"""Moving the browser's focus within a panel, in the view the user is working in.

A panel can have several views of one model (inline and in the sidebar). ipywidgets'
``focus()`` message reaches every view, and the last one to handle it takes the focus: the
sidebar's, while the user works inline. So a request to move focus is HTML instead: a hidden
``wl-focus-request`` widget whose content changes with each request and carries the target (a
CSS selector inside the panel). Its one-line script (an image's ``onerror``: ipywidgets' ``HTML``
widget runs no ``<script>``) moves focus only in the view of the panel that last had focus or a
pointer press, which a document-level listener keeps track of (installed by the panel's
stylesheet widget when a panel is first shown). A target that is not focusable by itself (the
message area, a box) gets ``tabindex=-1`` first: reachable by script, not by Tab.
A view rendered later (the sidebar opened afterwards) was never that panel, so it does nothing.
"""

from __future__ import annotations

import html as html_module

from workloadlab.notebook.panel.ui import Widget, assign, html

MESSAGE_AREA = ".wl-focus-target"
"""The message area (live region and visible message; ``tabindex=-1``)."""
DEPLOYMENT_NAME = ".wl-deploy-name input"
"""The confirm step's first field."""

TRACKER = (
    "var w=window;if(!w.__wlFocus){var s=w.__wlFocus={last:null};"
    "var note=function(e){var p=e.target&&e.target.closest&&e.target.closest('.wl-panel');"
    "if(p)s.last=p;};"
    "document.addEventListener('focusin',note,true);"
    "document.addEventListener('pointerdown',note,true);}"
)
"""Installs (once per page) the listener that remembers which panel view the user works in."""

_MOVE = (
    "var s=window.__wlFocus,p=this.closest('.wl-panel');"
    "if(s&&p&&p===s.last){var t=p.querySelector(this.dataset.target);"
    "if(t){if(t.tabIndex<0&&!t.hasAttribute('tabindex'))t.tabIndex=-1;t.focus();}}"
)


def tracker_html() -> str:
    """The HTML that installs :data:`TRACKER` when rendered (part of the panel's stylesheet
    widget, so it runs when a panel is first shown, before any request)."""
    return f'<img alt="" hidden src="data:," onerror="{html_module.escape(TRACKER)}">'


def request_html(selector: str, serial: int) -> str:
    """The HTML that moves focus to ``selector`` once rendered (``serial`` makes each request
    new content, so a second request to the same target is sent)."""
    return (
        f'<img alt="" hidden src="data:," data-serial="{serial}" '
        f'data-target="{html_module.escape(selector)}" onerror="{html_module.escape(_MOVE)}">'
    )


class FocusMover:
    """The panel's focus requests (a hidden widget; add :attr:`widget` to the panel)."""

    def __init__(self) -> None:
        self.widget: Widget = html("", "wl-focus-request")
        self._serial = 0

    def move_to(self, selector: str) -> None:
        """Focus the element matching ``selector`` in the view the user is working in."""
        self._serial += 1
        assign(self.widget, value=request_html(selector, self._serial))
