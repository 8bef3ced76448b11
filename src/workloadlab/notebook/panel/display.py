"""Where a panel is shown: inline (its widget view, with a fixed ``text/plain``) or in
JupyterLab's right sidebar (a ``sidecar.Sidecar`` showing the same model, so both views are one
panel). The cell that opens the sidebar shows only a line, not the panel a second time."""

from __future__ import annotations

import threading
from typing import Any

from workloadlab.notebook.panel.state import PanelState
from workloadlab.notebook.panel.ui import Widget


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return None if shell is None else int(shell.execution_count)


class PanelDisplay:
    """The display side of :class:`~.widget.WorkloadPanel` (a mixin before ``VBox``)."""

    _fixed_repr: str
    _lock: threading.RLock
    _sidecar: Widget | None
    _sidebar_cell: int | None
    state: PanelState
    model_id: str

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        if self._sidebar_cell is not None and self._sidebar_cell == _execution_count():
            self._sidebar_cell = None  # just opened in the sidebar: do not show it twice
            return {"text/plain": "<WorkloadPanel (in the sidebar)>"}
        bundle: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        return bundle

    def show_in_sidebar(self) -> Widget:
        """Show the panel in JupyterLab's right sidebar (a ``sidecar.Sidecar``); replaces the
        sidebar tab this panel had. Returns the sidecar."""
        from sidecar import Sidecar  # type: ignore[import-untyped]

        with self._lock:
            if self._sidecar is not None:
                self._sidecar.close()
            sidecar = Sidecar(
                title=f"⚙ {self.state.workload.name}", anchor="right", _dom_classes=("wl-sidecar",)
            )
            view = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
            sidecar.outputs = (
                {
                    "output_type": "display_data",
                    "data": {
                        "text/plain": self._fixed_repr,
                        "application/vnd.jupyter.widget-view+json": view,
                    },
                    "metadata": {},
                },
            )
            self._sidecar = sidecar
            self._sidebar_cell = _execution_count()
        return sidecar
