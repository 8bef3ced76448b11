"""The sidebar keeps no tabs of a dead kernel's panels.

After a kernel restart the old panels stay on the page, marked disconnected (ipywidgets adds
``jupyter-widgets-disconnected`` to their views; the stylesheet shows the note and dims the
controls). Re-running ``%workload panel --sidebar`` in the new kernel opens a new sidebar tab
(a ``sidecar``), and the old one would stay beside it. A kernel cannot reach a view of the dead
kernel's models, so the new panel's views do it: when one is rendered, a one-line script (an
image's ``onerror`` in the panel's stylesheet widget) closes every sidebar tab whose content is
only disconnected workloadlab panels, the way a user would: a press and release on the tab's
close icon (the sidecar's tabs are closable; JupyterLab's tab bar then disposes the widget).

A dead kernel's sidebar tab therefore stays, marked, until a live panel is shown; inline panels
of the dead kernel stay marked in their cells (their outputs are the notebook's).
"""

from __future__ import annotations

import html as html_module

SWEEP = (
    "setTimeout(function(){"
    "document.querySelectorAll('#jp-right-stack .jupyterlab-sidecar').forEach(function(c){"
    "if(!c.querySelector('.wl-panel.jupyter-widgets-disconnected')"
    "||c.querySelector('.wl-panel:not(.jupyter-widgets-disconnected)'))return;"
    "var t=document.querySelector('.lm-TabBar-tab[data-id=\"'+CSS.escape(c.id)+'\"]');"
    "var i=t&&t.querySelector('.lm-TabBar-tabCloseIcon');if(!i)return;"
    "var r=i.getBoundingClientRect(),o={bubbles:true,cancelable:true,button:0,pointerId:1,"
    "isPrimary:true,clientX:r.left+r.width/2,clientY:r.top+r.height/2};"
    "i.dispatchEvent(new PointerEvent('pointerdown',o));"
    "i.dispatchEvent(new PointerEvent('pointerup',o));});},0)"
)
"""Close the sidebar tabs that hold only disconnected panels."""


def sweep_html() -> str:
    """The HTML that runs :data:`SWEEP` when a panel view is rendered."""
    return f'<img alt="" hidden src="data:," onerror="{html_module.escape(SWEEP)}">'
