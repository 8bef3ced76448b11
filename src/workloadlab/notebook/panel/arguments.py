"""The entrypoint's editor: a list of arguments, one per line when they do not fit on one.

A one-line ``Text`` drops the line breaks of a ``python -c`` program (``json, osclass App(…)``).
This editor is a ``Textarea`` as tall as what it holds: a short entrypoint stays on one line as
a shell would write it; a long one, or one with an argument over several lines, shows one
argument per line, each quoted as a shell would (a multi-line argument inside its quotes, its
line breaks kept). Reading it back is :func:`~.fields.parse_entrypoint` (line breaks between
arguments are spaces to it), so what is shown reads back as the same list.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from workloadlab.notebook.panel.fields import (
    Callback,
    TextField,
    message_widget,
)
from workloadlab.notebook.panel.ui import LABEL_WIDTH, assign, hbox, layout, widgets

ONE_LINE = 100
"""The longest entrypoint kept on one line (the field wraps it: it is read as one line)."""
MAX_ROWS = 16
"""The tallest the editor grows (it scrolls beyond)."""


def format_arguments(args: Sequence[str] | None) -> str:
    """The entrypoint as the editor shows it (empty: the image's own)."""
    if not args:
        return ""
    joined = shlex.join(args)
    if len(joined) <= ONE_LINE and "\n" not in joined:
        return joined
    return "\n".join(shlex.quote(arg) for arg in args)


def rows_for(text: str) -> int:
    """How many rows show ``text`` whole (up to :data:`MAX_ROWS`)."""
    return max(1, min(MAX_ROWS, text.count("\n") + 1))


class ArgumentsField(TextField):
    """The entrypoint: a labelled ``Textarea`` sized to its lines, its message beside it."""

    def __init__(self, label: str, css_class: str, on_change: Callback, *, value: str = "") -> None:
        self.input = widgets.Textarea(
            value=value,
            description=label,
            placeholder="(the image's)",
            rows=rows_for(value),
            continuous_update=False,
            layout=layout(flex="1 1 auto", width="auto", min_width="12em"),
            style={"description_width": LABEL_WIDTH},
            _dom_classes=(css_class,),
        )
        self.input.observe(lambda _: self._grow(on_change), names="value")
        self.message = message_widget()
        self.box = hbox([self.input, self.message])

    def _grow(self, on_change: Callback) -> None:
        assign(self.input, rows=rows_for(str(self.input.value)))
        on_change()

    def load(self, value: str) -> None:
        """Show a value from the server, as tall as it is."""
        assign(self.input, value=value, rows=rows_for(value))
