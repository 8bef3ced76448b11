"""The spec form's environment variables: a row per variable, added and removed at will."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workloadlab.notebook.panel.fields import message_widget, problem_html, text_input
from workloadlab.notebook.panel.ui import Widget, assign, button, close_tree, hbox, html, vbox

Callback = Callable[[], None]


class EnvRow:
    """One environment variable: name, value, remove."""

    def __init__(
        self,
        on_change: Callback,
        on_remove: Callable[[EnvRow], None],
        name: str = "",
        value: str = "",
        disabled: bool = False,
    ) -> None:
        self.name: Widget = text_input(
            "", "wl-env-name", on_change, value=name, placeholder="NAME", width="14em"
        )
        self.value: Widget = text_input(
            "", "wl-env-value", on_change, value=value, placeholder="value"
        )
        self.remove: Widget = button(
            "", "wl-env-remove", icon="times", tooltip="Remove this variable", width="2.6em"
        )
        self.remove.on_click(lambda _: on_remove(self))
        self.message: Widget = message_widget()
        self.box: Widget = hbox([self.name, self.value, self.remove, self.message], "wl-env-row")
        if disabled:
            self.set_disabled(True)

    @property
    def empty(self) -> bool:
        """Whether both name and value are blank (such a row is ignored)."""
        return not str(self.name.value).strip() and not str(self.value.value)

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        for widget in (self.name, self.value, self.remove):
            assign(widget, disabled=disabled)


class EnvEditor:
    """The environment variables of a container: rows that can be added and removed."""

    def __init__(self, on_change: Callback, variables: Sequence[dict[str, Any]] = ()) -> None:
        self._on_change = on_change
        self._disabled = False
        self.rows: list[EnvRow] = [
            EnvRow(on_change, self._remove, str(v.get("name", "")), str(v.get("value", "")))
            for v in variables
        ]
        self.add: Widget = button("variable", "wl-env-add", icon="plus", tooltip="Add a variable")
        self.add.on_click(lambda _: self.add_row())
        self.message: Widget = message_widget()
        self.rows_box: Widget = vbox([row.box for row in self.rows])
        self.box: Widget = vbox(
            [html("<b>Environment variables</b>"), self.rows_box, hbox([self.add, self.message])],
            "wl-env",
        )

    def add_row(self, name: str = "", value: str = "", *, notify: bool = True) -> EnvRow:
        """Append a row (the Add button, or loading)."""
        row = EnvRow(self._on_change, self._remove, name, value, self._disabled)
        self.rows.append(row)
        self.rows_box.children = tuple(r.box for r in self.rows)
        if notify:
            self._on_change()
        return row

    def _remove(self, row: EnvRow) -> None:
        if row in self.rows:
            self.rows.remove(row)
            self.rows_box.children = tuple(r.box for r in self.rows)
            close_tree(row.box)
            self._on_change()

    def load(self, variables: Sequence[dict[str, Any]]) -> None:
        """Show the server's variables, reusing rows (fewer widgets to create and send)."""
        for row in self.rows[len(variables) :]:
            close_tree(row.box)
        del self.rows[len(variables) :]
        for row, variable in zip(self.rows, variables, strict=False):
            assign(row.name, value=str(variable.get("name", "")))
            assign(row.value, value=str(variable.get("value", "")))
        for variable in variables[len(self.rows) :]:
            self.add_row(
                str(variable.get("name", "")), str(variable.get("value", "")), notify=False
            )
        self.rows_box.children = tuple(r.box for r in self.rows)

    def read(self) -> tuple[list[dict[str, str]], list[int]]:
        """The non-blank rows as ``{name, value}``, and the row index of each."""
        variables, where = [], []
        for index, row in enumerate(self.rows):
            if not row.empty:
                variables.append(
                    {"name": str(row.name.value).strip(), "value": str(row.value.value)}
                )
                where.append(index)
        return variables, where

    def show(self, block: str | None, rows: dict[int, str]) -> None:
        """Show the block's message (e.g. a duplicate name) and each row's."""
        assign(self.message, value=problem_html(block))
        for index, row in enumerate(self.rows):
            assign(row.message, value=problem_html(rows.get(index)))

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        self._disabled = disabled
        for row in self.rows:
            row.set_disabled(disabled)
        assign(self.add, disabled=disabled)
