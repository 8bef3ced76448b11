"""The spec form's environment variables: a row per variable, added and removed at will.

A variable whose value is in the spec (``{name, value}``) is two text fields. One whose value
is a reference (a credential's key, the API key: ``source`` is not ``string``) shows what it
refers to, read-only, and is written back as it was, with the name of its row: the form never
turns a reference into a value, nor shows a value the server resolves.

A row's **secret** toggle turns a typed value into a credential: while it is on, the row reads
as a ``dr-credential`` reference to a credential that Save creates first (its id is
:data:`PENDING_CREDENTIAL` until then), so the YAML view and the changes show the reference,
never the value; the value itself travels to Save as a :class:`PendingSecret` (a
``SecretStr``), and once saved the row shows the reference and its input is emptied of it. A
plain value that :func:`~workloadlab.models.looks_secret` flags gets a warning beside its row.
"""

from __future__ import annotations

import html as html_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from workloadlab.models import looks_secret
from workloadlab.notebook.panel.fields import message_widget, problem_html, text_input
from workloadlab.notebook.panel.ui import (
    Widget,
    assign,
    button,
    checkbox,
    close_tree,
    hbox,
    html,
    vbox,
)

Callback = Callable[[], None]

PENDING_CREDENTIAL = "(created on save)"
"""The credential id a secret row refers to until Save has created its credential."""
SECRET_KEY = "apiToken"
"""The key of an ``api_token`` credential, the type Save stores a secret row's value as."""


@dataclass(frozen=True)
class PendingSecret:
    """A value Save stores as a credential before it saves the spec that refers to it."""

    name: str
    """The variable's name."""
    value: SecretStr


def secret_warning(name: str, value: str) -> str | None:
    """The warning beside a plain value that looks like a secret (``None``: none)."""
    reason = looks_secret(name, value) if value else None
    if reason is None:
        return None
    return f"this value {reason}: turn on secret to store it as a credential"


def warning_html(message: str | None) -> str:
    """A warning beside a row (empty when there is none)."""
    if not message:
        return ""
    return (
        '<span class="wl-secret-warning" style="color:var(--jp-warn-color1, #9a6700);'
        f'font-size:12px">⚠ {html_module.escape(message)}</span>'
    )


def reference_of(variable: dict[str, Any]) -> dict[str, Any] | None:
    """A variable's fields other than its name when its value is not in the spec (a credential
    or the API key: ``source`` is not ``string``), else ``None``."""
    if (variable.get("source") or "string") == "string":
        return None
    return {key: value for key, value in variable.items() if key != "name"}


def describe_reference(reference: dict[str, Any]) -> str:
    """What a reference row shows instead of a value (never the value itself)."""
    if reference.get("source") == "dr-credential":
        return f"credential {reference.get('drCredentialId')}, key {reference.get('key')}"
    return f"{reference.get('source')} (set by the server at each start)"


class EnvRow:
    """One environment variable: name, value (or, read-only, the reference that gives the
    value: a credential's key, the API key), remove."""

    def __init__(
        self,
        on_change: Callback,
        on_remove: Callable[[EnvRow], None],
        name: str = "",
        value: str = "",
        disabled: bool = False,
        reference: dict[str, Any] | None = None,
    ) -> None:
        self.reference = reference
        """The variable's other fields when its value is a reference, written back as they
        were (only the name can be edited here)."""
        self.name: Widget = text_input(
            "variable name", "wl-env-name", on_change, value=name, placeholder="NAME", width="14em"
        )
        self.value: Widget = text_input(
            "variable value",  # read by screen readers; the stylesheet hides it on screen
            "wl-env-value",
            on_change,
            value=describe_reference(reference) if reference else value,
            placeholder="value",
        )
        self.remove: Widget = button(
            "", "wl-env-remove", icon="times", tooltip="Remove this variable", width="2.6em"
        )
        self.remove.on_click(lambda _: on_remove(self))
        self.secret: Widget = checkbox("secret", "wl-env-secret", width="5.5em")
        self.secret.observe(lambda _: on_change(), names="value")
        self.message: Widget = message_widget()
        self.box: Widget = hbox(
            [self.name, self.value, self.secret, self.remove, self.message], "wl-env-row"
        )
        self._disabled = disabled
        if disabled or reference:
            self.set_disabled(disabled)

    @property
    def empty(self) -> bool:
        """Whether both name and value are blank (such a row is ignored)."""
        return self.reference is None and not str(self.name.value).strip() and not self.value.value

    @property
    def pending_secret(self) -> bool:
        """Whether the row's typed value is to be stored as a credential on Save."""
        return self.reference is None and bool(self.secret.value)

    def variable(self) -> dict[str, Any]:
        """The row as wire data: ``{name, value}``, or the reference with the row's name (a
        secret row: the reference Save will make)."""
        name = str(self.name.value).strip()
        if self.pending_secret:
            return {
                "source": "dr-credential",
                "name": name,
                "drCredentialId": PENDING_CREDENTIAL,
                "key": SECRET_KEY,
            }
        if self.reference is None:
            return {"name": name, "value": str(self.value.value)}
        return {**self.reference, **({"name": name} if name else {})}

    def pending(self) -> PendingSecret | None:
        """The value Save must store first, for a secret row."""
        if not self.pending_secret:
            return None
        return PendingSecret(str(self.name.value).strip(), SecretStr(str(self.value.value)))

    def warning(self) -> str | None:
        """The looks-like-a-secret warning of a plain value."""
        if self.reference is not None or self.secret.value:
            return None
        return secret_warning(str(self.name.value).strip(), str(self.value.value))

    def load(self, variable: dict[str, Any]) -> None:
        """Show another variable in this row (a reference replaces whatever was typed; a
        secret row shown again as the reference Save will make keeps its value)."""
        if (
            self.pending_secret
            and variable.get("drCredentialId") == PENDING_CREDENTIAL
            and variable.get("name") == str(self.name.value).strip()
        ):
            return
        self.reference = reference_of(variable)
        assign(self.name, value=str(variable.get("name", "")))
        value = describe_reference(self.reference) if self.reference else variable.get("value")
        assign(self.value, value=str(value or ""))
        assign(self.secret, value=False)
        self.set_disabled(self._disabled)

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable (a reference's value is never editable here, nor made a
        secret again)."""
        self._disabled = disabled
        referenced = self.reference is not None
        assign(self.name, disabled=disabled)
        assign(self.remove, disabled=disabled)
        assign(self.value, disabled=disabled or referenced)
        assign(self.secret, disabled=disabled or referenced)


class EnvEditor:
    """The environment variables of a container: rows that can be added and removed."""

    def __init__(self, on_change: Callback, variables: Sequence[dict[str, Any]] = ()) -> None:
        self._on_change = on_change
        self._disabled = False
        self.rows: list[EnvRow] = [self._row(variable) for variable in variables]
        self.add: Widget = button("variable", "wl-env-add", icon="plus", tooltip="Add a variable")
        self.add.on_click(lambda _: self.add_row())
        self.message: Widget = message_widget()
        self.rows_box: Widget = vbox([row.box for row in self.rows])
        self.box: Widget = vbox(
            [html("<b>Environment variables</b>"), self.rows_box, hbox([self.add, self.message])],
            "wl-env",
        )

    def _row(self, variable: dict[str, Any]) -> EnvRow:
        """A row made with a variable's values (no update after it is made)."""
        return EnvRow(
            self._on_change,
            self._remove,
            str(variable.get("name", "")),
            str(variable.get("value", "")),
            self._disabled,
            reference_of(variable),
        )

    def add_row(self, name: str = "", value: str = "", *, notify: bool = True) -> EnvRow:
        """Append a row (the Add button, or loading)."""
        return self._append(self._row({"name": name, "value": value}), notify=notify)

    def _append(self, row: EnvRow, *, notify: bool) -> EnvRow:
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
            row.load(variable)
        for variable in variables[len(self.rows) :]:
            self._append(self._row(variable), notify=False)
        self.rows_box.children = tuple(r.box for r in self.rows)

    def read(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The non-blank rows as wire data, and the row index of each."""
        variables, where = [], []
        for index, row in enumerate(self.rows):
            if not row.empty:
                variables.append(row.variable())
                where.append(index)
        return variables, where

    def pending(self) -> list[tuple[int, PendingSecret]]:
        """The secret rows' values, with each row's index."""
        found = [(index, row.pending()) for index, row in enumerate(self.rows)]
        return [(index, secret) for index, secret in found if secret is not None]

    def show(self, block: str | None, rows: dict[int, str]) -> None:
        """Show the block's message (e.g. a duplicate name) and each row's (a problem, else
        a looks-like-a-secret warning)."""
        assign(self.message, value=problem_html(block))
        for index, row in enumerate(self.rows):
            problem = rows.get(index)
            text = problem_html(problem) if problem else warning_html(row.warning())
            assign(row.message, value=text)

    def settle(self, variables: Sequence[dict[str, Any]]) -> None:
        """After a Save: each secret row shows the reference it was saved as (its input no
        longer holds the value)."""
        saved = {v.get("name"): v for v in variables if reference_of(v) is not None}
        for row in self.rows:
            if row.pending_secret and str(row.name.value).strip() in saved:
                row.load(saved[str(row.name.value).strip()])

    def set_disabled(self, disabled: bool) -> None:
        """Read-only or editable."""
        self._disabled = disabled
        for row in self.rows:
            row.set_disabled(disabled)
        assign(self.add, disabled=disabled)
