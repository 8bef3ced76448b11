"""A disclosure: a button that shows or hides a section, usable by keyboard.

ipywidgets' ``Accordion`` draws its header as a ``<div>`` that takes clicks but not focus, so
the section it hides cannot be opened without a mouse. A ``ToggleButton`` is a real
``<button>`` (Tab reaches it, Enter and Space press it); its caret and its tooltip ("Show …" /
"Hide …") say whether the section is open. The section is built by the caller when first
opened (``on_open``), as the accordion's was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workloadlab.notebook.panel.ui import (
    FixedRepr,
    Widget,
    assign,
    layout,
    set_visible,
    vbox,
    widgets,
)

__all__ = ["Disclosure"]


class Disclosure(FixedRepr):
    """A toggle button (``wl-advanced-toggle``) over a section that it shows or hides."""

    _fixed_repr = "<workloadlab Disclosure>"

    def __init__(
        self, title: str, *classes: str, on_open: Callable[[], object] | None = None
    ) -> None:
        self.title = title
        self._on_open = on_open
        self.toggle: Widget = widgets.ToggleButton(
            value=False,
            description=title,
            icon="caret-right",
            tooltip=f"Show {title.lower()}",
            layout=layout(),
            _dom_classes=("wl-advanced-toggle",),
        )
        self.content: Widget = vbox([], "wl-advanced-content", own_layout=True, display="none")
        self.box: Widget = vbox([self.toggle, self.content], *classes)
        self.toggle.observe(self._toggled, names="value")

    @property
    def open(self) -> bool:
        """Whether the section shows."""
        return bool(self.toggle.value)

    @open.setter
    def open(self, value: bool) -> None:
        assign(self.toggle, value=value)  # _toggled does the rest

    def _toggled(self, change: dict[str, Any]) -> None:
        opened = bool(change["new"])
        if opened and self._on_open is not None:
            self._on_open()
        word = "Hide" if opened else "Show"
        assign(
            self.toggle,
            icon="caret-down" if opened else "caret-right",
            tooltip=f"{word} {self.title.lower()}",
        )
        set_visible(self.content, opened)

    def set_children(self, *children: Widget) -> None:
        """The section's content."""
        self.content.children = children
