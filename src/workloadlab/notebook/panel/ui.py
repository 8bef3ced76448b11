"""The one import of ipywidgets, and how every part of the panel makes and writes widgets.

ipywidgets ships no type information, so it is imported here once (as ``Any``).

Making widgets cheaply: in ipywidgets 8 every widget also makes a ``Layout`` and (most) a
``Style``, each one more model and one more ``comm_open`` in the kernel. The factories here
share both among all widgets that look alike (a kernel-wide cache, never closed) and set CSS
classes at construction, which cuts a panel from ~300 models to ~100. A widget that is shown or
hidden on its own gets its own layout (``own_layout=True``).

Writing widgets: :func:`assign` sets only the traits whose value differs, several in one
update message (``hold_sync``), so the frontend never receives an update that changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]
from ipywidgets.widgets.widget_bool import CheckboxStyle  # type: ignore[import-untyped]
from ipywidgets.widgets.widget_description import DescriptionStyle  # type: ignore[import-untyped]
from ipywidgets.widgets.widget_selection import (  # type: ignore[import-untyped]
    ToggleButtonsStyle,
)
from ipywidgets.widgets.widget_string import HTMLStyle, TextStyle  # type: ignore[import-untyped]

Widget = Any
"""An ipywidgets widget (the library is untyped)."""

LABEL_WIDTH = "7.5em"
"""Width of the descriptions in front of the form's inputs."""

__all__ = [
    "LABEL_WIDTH",
    "Confirmation",
    "FixedRepr",
    "Widget",
    "assign",
    "button",
    "checkbox",
    "close_tree",
    "dropdown",
    "hbox",
    "html",
    "layout",
    "set_visible",
    "text",
    "toggles",
    "vbox",
    "widgets",
]

_shared: dict[tuple[Any, ...], Widget] = {}
_shared_ids: set[int] = set()
_kept: list[Widget] = []  # every shared model stays alive, so its id is never reused
_shared_lock = threading.Lock()


def _share(kind: type[Any], **traits: Any) -> Widget:
    key = (kind, *sorted(traits.items()))
    with _shared_lock:
        model = _shared.get(key)
        if model is None or getattr(model, "comm", None) is None:
            model = _shared[key] = kind(**traits)
            _shared_ids.add(id(model))
            _kept.append(model)
        return model


def layout(own: bool = False, **traits: Any) -> Widget:
    """A ``Layout``: shared by every widget asking for the same one, unless ``own``."""
    return widgets.Layout(**traits) if own else _share(widgets.Layout, **traits)


def html(value: str = "", *classes: str, own_layout: bool = False, **layout_traits: Any) -> Widget:
    """An ``HTML`` widget."""
    return widgets.HTML(
        value=value,
        layout=layout(own_layout, **layout_traits),
        style=_share(HTMLStyle),
        _dom_classes=classes,
    )


def button(
    description: str = "",
    *classes: str,
    icon: str = "",
    tooltip: str = "",
    button_style: str = "",
    own_layout: bool = False,
    **layout_traits: Any,
) -> Widget:
    """A ``Button`` (the class lands on the ``<button>`` itself)."""
    return widgets.Button(
        description=description,
        icon=icon,
        tooltip=tooltip or None,
        button_style=button_style,
        layout=layout(own_layout, **layout_traits),
        style=_share(widgets.ButtonStyle),
        _dom_classes=classes,
    )


def text(
    *classes: str,
    description: str = "",
    value: str = "",
    placeholder: str = "",
    label_width: str = LABEL_WIDTH,
    **layout_traits: Any,
) -> Widget:
    """A ``Text`` that reports its value when the field is left (never on each keystroke)."""
    return widgets.Text(
        value=value,
        description=description,
        placeholder=placeholder,
        continuous_update=False,
        layout=layout(**layout_traits),
        style=_share(TextStyle, description_width=label_width if description else ""),
        _dom_classes=classes,
    )


def checkbox(description: str, *classes: str, value: bool = False, **layout_traits: Any) -> Widget:
    """A ``Checkbox`` without the indent ipywidgets adds for a description column."""
    return widgets.Checkbox(
        value=value,
        description=description,
        indent=False,
        layout=layout(**layout_traits),
        style=_share(CheckboxStyle),
        _dom_classes=classes,
    )


def dropdown(
    options: Sequence[Any],
    *classes: str,
    value: Any = None,
    description: str = "",
    label_width: str = LABEL_WIDTH,
    **layout_traits: Any,
) -> Widget:
    """A ``Dropdown`` (it syncs its ``index``; ``value`` follows); none chosen when empty."""
    if value is None and options:
        value = options[0]
    return widgets.Dropdown(
        options=list(options),
        value=value,
        description=description,
        layout=layout(**layout_traits),
        style=_share(DescriptionStyle, description_width=label_width if description else ""),
        _dom_classes=classes,
    )


def toggles(options: Sequence[tuple[str, Any]], *classes: str, **layout_traits: Any) -> Widget:
    """``ToggleButtons`` with none chosen yet (``index`` ``None``) until the user picks one."""
    return widgets.ToggleButtons(
        options=list(options),
        index=None,
        layout=layout(**layout_traits),
        style=_share(ToggleButtonsStyle),
        _dom_classes=classes,
    )


def hbox(
    children: Iterable[Widget], *classes: str, own_layout: bool = False, **layout_traits: Any
) -> Widget:
    """A row that wraps when narrow (the JupyterLab sidebar)."""
    traits = {"align_items": "center", "flex_flow": "row wrap", **layout_traits}
    return widgets.HBox(list(children), layout=layout(own_layout, **traits), _dom_classes=classes)


def vbox(
    children: Iterable[Widget], *classes: str, own_layout: bool = False, **layout_traits: Any
) -> Widget:
    """A column."""
    return widgets.VBox(
        list(children), layout=layout(own_layout, **layout_traits), _dom_classes=classes
    )


def assign(widget: Widget, **traits: Any) -> int:
    """Set the traits whose value differs; several in one update message. Returns how many."""
    changed = {name: value for name, value in traits.items() if getattr(widget, name) != value}
    if len(changed) == 1:
        ((name, value),) = changed.items()
        setattr(widget, name, value)
    elif changed:
        with widget.hold_sync():
            for name, value in changed.items():
                setattr(widget, name, value)
    return len(changed)


def set_visible(widget: Widget, visible: bool) -> None:
    """Show or hide a widget that has its own layout, sending nothing when unchanged."""
    if id(widget.layout) in _shared_ids:
        raise ValueError("this widget shares its layout: give it its own to hide it")
    assign(widget.layout, display=None if visible else "none")


def close_tree(widget: Widget) -> None:
    """Close a widget, its children and their own layouts (``Widget.close`` closes only itself;
    shared layouts and styles stay)."""
    if id(widget) in _shared_ids:
        return
    for child in tuple(getattr(widget, "children", ()) or ()):
        close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None and id(part) not in _shared_ids and part.comm is not None:
            part.close()
    widget.close()


class Confirmation:
    """A question with its confirm and Cancel buttons, in a row hidden until asked: the
    panel's disruptive actions (Delete deployment, Move deployment) ask first, in place."""

    def __init__(
        self, label: str, classes: tuple[str, str, str], *, button_style: str, icon: str
    ) -> None:
        """``classes``: the question's, the confirm button's, Cancel's."""
        question, confirm, cancel = classes
        self.question: Widget = html("", question)
        self.confirm: Widget = button(label, confirm, button_style=button_style, icon=icon)
        self.cancel: Widget = button("Cancel", cancel)
        self.row: Widget = hbox(
            [self.question, self.confirm, self.cancel], own_layout=True, display="none"
        )

    def ask(self, question: str | None) -> None:
        """Show the row with ``question`` (HTML), or hide it (``None``)."""
        set_visible(self.row, question is not None)
        if question is not None:
            assign(self.question, value=question)


class FixedRepr:
    """A fixed, value-free ``repr`` (and ``text/plain``): nbval compares reprs, and a form's
    values (environment variables among them) must never end up in a saved output."""

    _fixed_repr = "<workloadlab widget>"

    def __repr__(self) -> str:
        return self._fixed_repr
